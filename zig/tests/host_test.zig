//! Agents over the transport: `dmp.Host` runs a `dmp.Agent` over loopback TCP connections that
//! speak `dmp.link`. Two agents in two threads exchange 1,000 messages each way; three agents in
//! three threads form a group whose sender keys travel through their outboxes; bad frames of
//! every kind are refused without a crash, and refused envelopes change nothing.

const std = @import("std");
const dmp = @import("dmp");
const common = @import("common.zig");
const transport = dmp.transport;
const link = dmp.link;
const testing = std.testing;
const sys = std.c;

const expect = testing.expect;
const expectEqual = testing.expectEqual;
const expectEqualStrings = testing.expectEqualStrings;
const expectEqualSlices = testing.expectEqualSlices;

const gpa = testing.allocator;

/// Everything a host reported, for one thread.
const Log = struct {
    hellos: std.ArrayList(dmp.AgentId) = .empty,
    messages: std.ArrayList(Msg) = .empty,
    group_messages: std.ArrayList(Msg) = .empty,
    group_keys: std.ArrayList(Msg) = .empty,
    sessions: std.ArrayList(struct { peer: dmp.AgentId, state: dmp.SessionState }) = .empty,
    refused: std.ArrayList(dmp.Error) = .empty,
    disconnects: std.ArrayList(Msg) = .empty,
    sent: usize = 0,
    queued: usize = 0,
    connects: usize = 0,
    port: u16 = 0,
    oom: bool = false,

    const Msg = struct {
        peer: dmp.AgentId = @splat(0),
        group: dmp.GroupId = @splat(0),
        /// Owned: the text (messages), the reason and detail (disconnects).
        text: []u8 = &.{},
    };

    fn handler(self: *Log) dmp.host.Handler {
        return .{ .ctx = self, .func = on };
    }

    fn on(ctx: ?*anyopaque, n: dmp.host.Notice) void {
        const self: *Log = @ptrCast(@alignCast(ctx.?));
        self.record(n) catch {
            self.oom = true;
        };
    }

    fn record(self: *Log, n: dmp.host.Notice) !void {
        switch (n) {
            .listening => |l| self.port = l.port,
            .hello => |h| try self.hellos.append(gpa, h.peer),
            .message => |m| try self.messages.append(gpa, .{ .peer = m.peer, .text = try gpa.dupe(u8, m.text) }),
            .group_message => |m| try self.group_messages.append(gpa, .{ .peer = m.peer, .group = m.group, .text = try gpa.dupe(u8, m.text) }),
            .group_key => |k| try self.group_keys.append(gpa, .{ .peer = k.peer, .group = k.group }),
            .session => |s| try self.sessions.append(gpa, .{ .peer = s.peer, .state = s.state }),
            .refused => |r| try self.refused.append(gpa, r.err),
            .disconnected => |d| {
                const text = try std.fmt.allocPrint(gpa, "{s} {s}", .{ d.reason, d.detail });
                try self.disconnects.append(gpa, .{ .peer = d.peer orelse @splat(0), .text = text });
            },
            .sent => self.sent += 1,
            .queued => self.queued += 1,
            .connected => self.connects += 1,
            .other_event => {},
        }
    }

    fn deinit(self: *Log) void {
        for ([_]*std.ArrayList(Msg){ &self.messages, &self.group_messages, &self.group_keys, &self.disconnects }) |list| {
            for (list.items) |m| gpa.free(m.text);
            list.deinit(gpa);
        }
        self.hellos.deinit(gpa);
        self.sessions.deinit(gpa);
        self.refused.deinit(gpa);
    }

    /// The states reported for `peer`, in order.
    fn statesOf(self: *const Log, peer: *const dmp.AgentId, out: []dmp.SessionState) []dmp.SessionState {
        var n: usize = 0;
        for (self.sessions.items) |s| {
            if (!std.mem.eql(u8, &s.peer, peer) or n == out.len) continue;
            out[n] = s.state;
            n += 1;
        }
        return out[0..n];
    }

    fn lastDisconnect(self: *const Log) []const u8 {
        if (self.disconnects.items.len == 0) return "";
        return self.disconnects.items[self.disconnects.items.len - 1].text;
    }
};

/// A host with its agent and log, owned together.
const Node = struct {
    agent: dmp.Agent,
    log: Log = .{},
    host: dmp.Host = undefined,

    /// In memory when `path` is empty.
    fn create(path: []const u8, options: dmp.host.Options) !*Node {
        const self = try gpa.create(Node);
        errdefer gpa.destroy(self);
        self.* = .{ .agent = try dmp.Agent.open(path, &(try common.randomKey()), .{}) };
        errdefer self.agent.deinit();
        self.host = try dmp.Host.init(gpa, &self.agent, self.log.handler(), options);
        return self;
    }

    fn destroy(self: *Node) void {
        self.host.deinit();
        self.agent.deinit();
        self.log.deinit();
        gpa.destroy(self);
    }

    fn dump(self: *Node) void {
        const l = &self.log;
        std.debug.print("node: {d} hellos, {d} messages, {d} group messages, {d} keys, {d} refused, {d} sent, {d} queued, {d} connections\n", .{ l.hellos.items.len, l.messages.items.len, l.group_messages.items.len, l.group_keys.items.len, l.refused.items.len, l.sent, l.queued, self.host.connectionCount() });
        for (l.disconnects.items) |d| std.debug.print("  disconnected: {s}\n", .{d.text});
        for (l.refused.items) |e| std.debug.print("  refused: {s}\n", .{@errorName(e)});
        for (l.group_keys.items) |k| std.debug.print("  group key from {x}\n", .{k.peer[0..4]});
    }

    fn id(self: *Node) !dmp.AgentId {
        return self.agent.id();
    }

    /// Steps until `cond(ctx)` holds, or fails after `timeout_ms`.
    fn stepUntil(self: *Node, timeout_ms: u64, ctx: anytype, comptime cond: fn (@TypeOf(ctx)) bool) !void {
        const deadline = nowMs() + timeout_ms;
        while (!cond(ctx)) {
            if (self.log.oom) return error.OutOfMemory;
            if (nowMs() > deadline) {
                self.dump();
                return error.TestTimeout;
            }
            _ = try self.host.step(20, null);
        }
    }
};

fn nowMs() u64 {
    var ts: sys.timespec = undefined;
    _ = sys.clock_gettime(.MONOTONIC, &ts);
    return @as(u64, @intCast(ts.sec)) * 1000 + @as(u64, @intCast(ts.nsec)) / std.time.ns_per_ms;
}

/// A unique temporary directory, removed with its files by `cleanup`.
pub const TempDir = struct {
    buf: [64]u8 = undefined,
    len: usize = 0,

    pub fn init() !TempDir {
        var t: TempDir = .{};
        var r: [8]u8 = undefined;
        try dmp.randomBytes(&r);
        const s = try std.mem.printSentinel(&t.buf, "/tmp/dmp-zig-{x}", .{std.mem.readInt(u64, &r, .little)}, 0);
        t.len = s.len;
        if (sys.mkdir(t.buf[0..t.len :0], 0o700) != 0) return error.MkdirFailed;
        return t;
    }

    pub fn path(self: *const TempDir) []const u8 {
        return self.buf[0..self.len];
    }

    /// `dir/name`, NUL-terminated, in `out`.
    pub fn file(self: *const TempDir, out: []u8, name: []const u8) ![:0]u8 {
        return std.mem.printSentinel(out, "{s}/{s}", .{ self.path(), name }, 0);
    }

    pub fn cleanup(self: *const TempDir) void {
        const dir = sys.opendir(self.buf[0..self.len :0]) orelse return;
        var names: [64][256]u8 = undefined;
        var lens: [64]usize = undefined;
        var n: usize = 0;
        while (sys.readdir(dir)) |entry| {
            const name = std.mem.sliceTo(&entry.name, 0);
            if (std.mem.eql(u8, name, ".") or std.mem.eql(u8, name, "..") or n == names.len) continue;
            @memcpy(names[n][0..name.len], name);
            lens[n] = name.len;
            n += 1;
        }
        _ = sys.closedir(dir);
        for (names[0..n], lens[0..n]) |*name, len| {
            var p: [512]u8 = undefined;
            const full = self.file(&p, name[0..len]) catch continue;
            _ = sys.unlink(full);
        }
        _ = sys.rmdir(self.buf[0..self.len :0]);
    }
};

// ---- two agents, 1,000 messages each way ------------------------------------------------------

const messages_each_way = 1000;

fn makeMessage(buf: []u8, from: []const u8, i: usize) []u8 {
    const head = std.fmt.bufPrint(buf, "{s} #{d}|", .{ from, i }) catch unreachable;
    const filler = (i * 53) % 2000;
    for (buf[head.len..][0..filler], 0..) |*b, k| b.* = @truncate(i + k);
    return buf[0 .. head.len + filler];
}

const Responder = struct {
    node: *Node,
    failure: ?anyerror = null,
    replied: usize = 0,
    got_bye: bool = false,

    fn run(self: *Responder) void {
        self.serve() catch |err| {
            self.failure = err;
        };
    }

    fn serve(self: *Responder) !void {
        var want: [4096]u8 = undefined;
        var reply: [4096]u8 = undefined;
        const deadline = nowMs() + 60_000;
        const log = &self.node.log;
        while (!self.got_bye) {
            if (nowMs() > deadline) return error.TestTimeout;
            if (log.oom) return error.OutOfMemory;
            _ = try self.node.host.step(50, null);
            while (self.replied < log.messages.items.len) {
                const m = log.messages.items[self.replied];
                if (std.mem.eql(u8, m.text, "bye")) {
                    self.got_bye = true;
                    break;
                }
                if (!std.mem.eql(u8, m.text, makeMessage(&want, "initiator", self.replied))) return error.WrongPlaintext;
                _ = try self.node.host.send(&m.peer, makeMessage(&reply, "responder", self.replied));
                self.replied += 1;
            }
        }
    }
};

const Initiator = struct {
    node: *Node,
    port: u16,
    failure: ?anyerror = null,
    peer: dmp.AgentId = undefined,

    fn run(self: *Initiator) void {
        self.talk() catch |err| {
            self.failure = err;
        };
    }

    fn hasHello(log: *const Log) bool {
        return log.hellos.items.len > 0;
    }

    const Waiting = struct {
        log: *const Log,
        count: usize,
        fn done(w: @This()) bool {
            return w.log.messages.items.len >= w.count;
        }
    };

    fn talk(self: *Initiator) !void {
        const node = self.node;
        _ = try node.host.dial(self.port);
        // The responder's HELLO carries its bundle: the host verified and remembered it.
        try node.stepUntil(10_000, &node.log, hasHello);
        self.peer = node.log.hellos.items[0];

        var msg: [4096]u8 = undefined;
        var want: [4096]u8 = undefined;
        var sent: usize = 0;
        var round: usize = 0;
        while (sent < messages_each_way) : (round += 1) {
            const batch = @min(1 + round % 7, messages_each_way - sent);
            for (0..batch) |_| {
                _ = try node.host.send(&self.peer, makeMessage(&msg, "initiator", sent));
                sent += 1;
            }
            try node.stepUntil(20_000, Waiting{ .log = &node.log, .count = sent }, Waiting.done);
        }
        for (node.log.messages.items, 0..) |m, i| {
            if (!std.mem.eql(u8, m.text, makeMessage(&want, "responder", i))) return error.WrongPlaintext;
            if (!std.mem.eql(u8, &m.peer, &self.peer)) return error.WrongPeer;
        }
        _ = try node.host.send(&self.peer, "bye");
    }
};

test "host: two agents, two threads, 1,000 messages each way over loopback TCP (one store on disk)" {
    const tmp = try TempDir.init();
    defer tmp.cleanup();
    var path_buf: [128]u8 = undefined;
    const store = try tmp.file(&path_buf, "responder.db");

    var responder_node = try Node.create(store, .{});
    defer responder_node.destroy();
    var initiator_node = try Node.create("", .{});
    defer initiator_node.destroy();
    const port = try responder_node.host.listen(0);
    try expectEqual(port, responder_node.log.port);

    var responder: Responder = .{ .node = responder_node };
    var initiator: Initiator = .{ .node = initiator_node, .port = port };
    const rt = try std.Thread.spawn(.{}, Responder.run, .{&responder});
    const it = try std.Thread.spawn(.{}, Initiator.run, .{&initiator});
    it.join();
    rt.join();
    if (initiator.failure) |err| {
        std.debug.print("initiator failed: {s}\n", .{@errorName(err)});
        return err;
    }
    if (responder.failure) |err| {
        std.debug.print("responder failed: {s}\n", .{@errorName(err)});
        return err;
    }

    try expectEqual(@as(usize, messages_each_way), responder.replied);
    try expectEqual(@as(usize, messages_each_way), initiator_node.log.messages.items.len);
    try expect(responder.got_bye);
    const responder_id = try responder_node.id();
    const initiator_id = try initiator_node.id();
    try expectEqualSlices(u8, &responder_id, &initiator.peer);
    try expectEqualSlices(u8, &initiator_id, &responder_node.log.hellos.items[0]);
    // The lifecycle: the initiator's session starts INITIATING and turns ACTIVE at the first
    // reply; the responder's is ACTIVE from the first message.
    var states: [8]dmp.SessionState = undefined;
    try expectEqualSlices(dmp.SessionState, &.{ .initiating, .active }, initiator_node.log.statesOf(&responder_id, &states));
    try expectEqualSlices(dmp.SessionState, &.{.active}, responder_node.log.statesOf(&initiator_id, &states));
    try expectEqual(dmp.SessionState.active, try initiator_node.agent.sessionState(&responder_id));
    try expectEqual(@as(usize, 0), initiator_node.log.refused.items.len);
    try expectEqual(@as(usize, 0), responder_node.log.refused.items.len);
    try expectEqual(@as(usize, 0), initiator_node.log.queued);
}

// ---- three agents, one group ------------------------------------------------------------------

const group_messages_each = 100;

const Member = struct {
    node: *Node,
    index: usize,
    /// The other two members' ids.
    others: [2]dmp.AgentId = undefined,
    /// Threads done so far (shared).
    done: *std.atomic.Value(usize),
    failure: ?anyerror = null,
    group: dmp.GroupId = undefined,
    after_removal: bool = false,

    fn run(self: *Member) void {
        self.play() catch |err| {
            self.failure = err;
        };
        _ = self.done.fetchAdd(1, .monotonic);
        // Keep the connections open and read until everyone is done.
        const deadline = nowMs() + 30_000;
        while (self.done.load(.monotonic) < 3 and nowMs() < deadline) {
            _ = self.node.host.step(20, null) catch break;
        }
    }

    fn knowsOthers(m: *const Member) bool {
        var n: usize = 0;
        for (m.others) |o| {
            for (m.node.log.hellos.items) |h| {
                if (std.mem.eql(u8, &h, &o)) {
                    n += 1;
                    break;
                }
            }
        }
        return n == 2;
    }

    fn hasInvite(m: *const Member) bool {
        return m.node.log.group_keys.items.len > 0;
    }

    /// Sender keys of both others taken in for the group.
    fn hasAllKeys(m: *const Member) bool {
        var n: usize = 0;
        for (m.others) |o| {
            for (m.node.log.group_keys.items) |k| {
                if (std.mem.eql(u8, &k.peer, &o) and std.mem.eql(u8, &k.group, &m.group)) {
                    n += 1;
                    break;
                }
            }
        }
        return n == 2;
    }

    fn hasAllMessages(m: *const Member) bool {
        return m.node.log.group_messages.items.len >= 2 * group_messages_each;
    }

    fn play(self: *Member) !void {
        const node = self.node;
        try node.stepUntil(10_000, self, knowsOthers);
        if (self.index == 0) {
            // The first member creates the group and adds both others: its sender key goes to
            // each through its outbox; each joins (an invitation) and answers with its own.
            self.group = try node.host.groupCreate();
            for (&self.others) |*o| try node.host.groupAdd(&self.group, o);
        } else {
            // The others, once invited, add every other member (the inviter is one already).
            // Membership is each agent's to decide: a key from a member we have not added yet
            // is refused, kept by the host, and taken in when we add that member.
            try node.stepUntil(10_000, self, hasInvite);
            self.group = node.log.group_keys.items[0].group;
            for (&self.others) |*o| node.host.groupAdd(&self.group, o) catch |err| {
                if (err != error.InvalidArgument) return err; // already a member
            };
        }
        try node.stepUntil(10_000, self, hasAllKeys);
        var members: [4]dmp.AgentId = undefined;
        if ((try node.agent.groupMembers(&self.group, &members)).len != 2) return error.WrongMembers;

        var buf: [64]u8 = undefined;
        for (0..group_messages_each) |i| {
            const text = try std.fmt.bufPrint(&buf, "member {d} says {d}", .{ self.index, i });
            if (try node.host.groupSend(&self.group, text) != 2) return error.WrongMembers;
        }
        try node.stepUntil(20_000, self, hasAllMessages);
        // Per sender, in order.
        var next: [3]usize = .{ 0, 0, 0 };
        for (node.log.group_messages.items) |m| {
            if (!std.mem.eql(u8, &m.group, &self.group)) return error.WrongGroup;
            const sender = std.fmt.parseInt(usize, m.text[7..8], 10) catch return error.WrongPlaintext;
            if (sender == self.index or sender > 2) return error.WrongPlaintext;
            const want = try std.fmt.bufPrint(&buf, "member {d} says {d}", .{ sender, next[sender] });
            if (!std.mem.eql(u8, m.text, want)) return error.WrongPlaintext;
            next[sender] += 1;
        }
    }
};

test "host: three agents in three threads form a group; sender keys travel through the outboxes" {
    const tmp = try TempDir.init();
    defer tmp.cleanup();
    var path_buf: [128]u8 = undefined;
    const store = try tmp.file(&path_buf, "member0.db");

    var nodes: [3]*Node = undefined;
    nodes[0] = try Node.create(store, .{});
    defer nodes[0].destroy();
    nodes[1] = try Node.create("", .{});
    defer nodes[1].destroy();
    nodes[2] = try Node.create("", .{});
    defer nodes[2].destroy();
    var ids: [3]dmp.AgentId = undefined;
    var ports: [3]u16 = undefined;
    for (nodes, 0..) |n, i| {
        ids[i] = try n.id();
        ports[i] = try n.host.listen(0);
    }
    // A mesh: 0 dials 1 and 2, 1 dials 2 (HELLOs are sent now, read by the threads).
    _ = try nodes[0].host.dial(ports[1]);
    _ = try nodes[0].host.dial(ports[2]);
    _ = try nodes[1].host.dial(ports[2]);

    var done = std.atomic.Value(usize).init(0);
    var members: [3]Member = undefined;
    var threads: [3]std.Thread = undefined;
    for (&members, 0..) |*m, i| {
        m.* = .{ .node = nodes[i], .index = i, .done = &done };
        var k: usize = 0;
        for (ids, 0..) |id, j| {
            if (j == i) continue;
            m.others[k] = id;
            k += 1;
        }
    }
    for (&threads, &members) |*t, *m| t.* = try std.Thread.spawn(.{}, Member.run, .{m});
    for (threads) |t| t.join();
    for (members) |m| if (m.failure) |err| {
        std.debug.print("member {d} failed: {s}\n", .{ m.index, @errorName(err) });
        return err;
    };
    for (nodes) |n| {
        try expectEqual(@as(usize, 2 * group_messages_each), n.log.group_messages.items.len);
        // The only refusals: sender keys that came before their sender was added (then taken in).
        for (n.log.refused.items) |err| try expectEqual(error.UnknownSender, err);
        for (&ids) |*id| try expectEqual(@as(usize, 0), n.host.keptCount(id));
        try expectEqual(@as(usize, 0), try n.agent.outboxCount());
    }
    try expectEqualSlices(u8, &members[0].group, &members[1].group);
    try expectEqualSlices(u8, &members[0].group, &members[2].group);

    // Removal, single-threaded now: member 0 removes member 2; its new sender key reaches
    // member 1 through the outbox, and the next group message reaches member 1 only.
    const g = members[0].group;
    try nodes[0].host.groupRemove(&g, &ids[2]);
    try expectEqual(@as(usize, 0), try nodes[0].agent.outboxCount());
    try expectEqual(@as(usize, 1), try nodes[0].host.groupSend(&g, "after removal"));
    const Got = struct {
        fn one(n: *Node) bool {
            return n.log.group_messages.items.len > 2 * group_messages_each;
        }
    };
    try nodes[1].stepUntil(10_000, nodes[1], Got.one);
    const last = nodes[1].log.group_messages.items[2 * group_messages_each];
    try expectEqualStrings("after removal", last.text);
    try expectEqualSlices(u8, &ids[0], &last.peer);
}

// ---- bad frames -------------------------------------------------------------------------------

fn rawSend(conn: *transport.Connection, bytes: []const u8) !void {
    var sent: usize = 0;
    while (sent < bytes.len) {
        const rc = sys.send(conn.fd, bytes[sent..].ptr, bytes.len - sent, sys.MSG.NOSIGNAL);
        if (rc < 0) return error.SendFailed;
        sent += @intCast(rc);
    }
}

fn header(len: u32) [4]u8 {
    var h: [4]u8 = undefined;
    std.mem.writeInt(u32, &h, len, .big);
    return h;
}

/// Dials the host, lets it accept, and reads its HELLO (the host sends it at once).
fn rawDial(node: *Node) !transport.Connection {
    const before = node.log.connects;
    var conn = try transport.Connection.dial(node.log.port, .{ .read_timeout_ms = 5_000 });
    errdefer conn.close();
    const W = struct {
        n: *Node,
        c: usize,
        fn ok(w: @This()) bool {
            return w.n.log.connects > w.c;
        }
    };
    try node.stepUntil(5_000, W{ .n = node, .c = before }, W.ok);
    var buf: [dmp.bundle_max_len + 1]u8 = undefined;
    const f = (try link.read(&conn, &buf)) orelse return error.UnexpectedClose;
    if (f != .hello) return error.ExpectedHello;
    _ = try dmp.verifyBundle(f.hello);
    return conn;
}

/// What the host said last before closing: its CLOSE reason (or "" after a bare close).
fn closeReason(conn: *transport.Connection, out: []u8) ![]const u8 {
    var buf: [2048]u8 = undefined;
    while (true) {
        const f = (link.read(conn, &buf) catch |err| switch (err) {
            error.ConnectionReset => return "",
            else => return err,
        }) orelse return "";
        switch (f) {
            .close => |r| {
                @memcpy(out[0..r.len], r);
                return out[0..r.len];
            },
            else => {},
        }
    }
}

fn disconnects(n: *Node) usize {
    return n.log.disconnects.items.len;
}

/// Steps the host until it has reported `count` disconnects.
fn stepUntilDisconnects(node: *Node, count: usize) !void {
    const W = struct {
        n: *Node,
        c: usize,
        fn ok(w: @This()) bool {
            return disconnects(w.n) >= w.c;
        }
    };
    try node.stepUntil(5_000, W{ .n = node, .c = count }, W.ok);
}

test "host: bad frames close the connection with a reason; refused envelopes change nothing" {
    var node = try Node.create("", .{ .connection = .{ .read_timeout_ms = 300, .write_timeout_ms = 2_000 } });
    defer node.destroy();
    _ = try node.host.listen(0);
    var reason_buf: [2048]u8 = undefined;
    var frame: [64]u8 = undefined;

    const Case = struct { bytes: []const u8, reason: []const u8, half_close: bool = false };
    // Each forged stream on a connection of its own; the host reads, refuses, closes, goes on.
    const oversized = header(link.max_frame_len + 100);
    const huge = header(std.math.maxInt(u32));
    const cases = [_]Case{
        .{ .bytes = &[_]u8{ 0, 0, 0, 2, 0x02, 0x01 }, .reason = "MissingHello" }, // ENVELOPE before HELLO
        .{ .bytes = &[_]u8{ 0, 0, 0, 3, 0x7f, 1, 2 }, .reason = "UnknownFrameKind" },
        .{ .bytes = &[_]u8{ 0, 0, 0, 1, 0x01 }, .reason = "BadHello" }, // HELLO without a bundle
        .{ .bytes = &[_]u8{ 0, 0, 0, 6, 0x01, 'h', 'e', 'l', 'l', 'o' }, .reason = "BadHello" }, // not a bundle
        .{ .bytes = &[_]u8{ 0, 0, 0, 1, 0x02 }, .reason = "BadEnvelope" }, // ENVELOPE without an envelope
        .{ .bytes = &oversized, .reason = "FrameTooLarge" },
        .{ .bytes = &huge, .reason = "FrameTooLarge" },
        .{ .bytes = &[_]u8{ 0, 0, 0, 0 }, .reason = "EmptyFrame" },
        .{ .bytes = &[_]u8{ 0, 0, 0, 100, 0x02, 1, 2, 3 }, .reason = "TruncatedFrame", .half_close = true },
        .{ .bytes = &[_]u8{ 0, 0 }, .reason = "TruncatedFrame", .half_close = true },
        .{ .bytes = &[_]u8{ 0, 0, 0, 100, 0x02, 1, 2, 3 }, .reason = "Timeout" }, // stalls
    };
    for (cases, 1..) |case, i| {
        var conn = try rawDial(node);
        defer conn.close();
        try rawSend(&conn, case.bytes);
        if (case.half_close) _ = sys.shutdown(conn.fd, sys.SHUT.WR);
        try stepUntilDisconnects(node, i);
        const said = node.log.lastDisconnect();
        if (!std.mem.startsWith(u8, said, case.reason)) {
            std.debug.print("case {d}: expected {s}, host said {s}\n", .{ i, case.reason, said });
            return error.TestUnexpectedResult;
        }
        // Protocol errors are named in a CLOSE frame before the host closes.
        const reason = try closeReason(&conn, &reason_buf);
        if (reason.len > 0) try expectEqualStrings(case.reason, reason);
    }
    try expectEqual(@as(usize, 0), node.host.connectionCount());

    // A real agent: a tampered envelope, the genuine one, a replay, garbage; then a second
    // HELLO, which ends the connection.
    var mallory = try dmp.Agent.open("", &(try common.randomKey()), .{});
    defer mallory.deinit();
    const node_id = try node.id();
    var conn = try rawDial(node);
    defer conn.close();
    var buf: [8192]u8 = undefined;
    try expectEqualSlices(u8, &node_id, &(try mallory.addBundle(try node.host.agent.bundle(false, &buf))));
    var bundle_buf: [dmp.bundle_max_len]u8 = undefined;
    try link.writeHello(&conn, try mallory.bundle(false, &bundle_buf));

    var env_buf: [4096]u8 = undefined;
    const genuine = try mallory.send(&node_id, "first", &env_buf);
    var tampered: [4096]u8 = undefined;
    @memcpy(tampered[0..genuine.len], genuine);
    tampered[genuine.len - 3] ^= 0x10;
    try link.writeEnvelope(&conn, tampered[0..genuine.len]);
    try link.writeEnvelope(&conn, genuine);
    try link.writeEnvelope(&conn, genuine);
    try link.writeEnvelope(&conn, "garbage, not an envelope");
    const second = try mallory.send(&node_id, "second", &env_buf);
    try link.writeEnvelope(&conn, second);
    const W = struct {
        fn two(n: *Node) bool {
            return n.log.messages.items.len >= 2;
        }
    };
    try node.stepUntil(5_000, node, W.two);
    try expectEqual(@as(usize, 3), node.log.refused.items.len);
    try expectEqual(error.AuthFailed, node.log.refused.items[0]);
    try expectEqual(error.Duplicate, node.log.refused.items[1]);
    try expect(node.log.refused.items[2] == error.UnsupportedVersion or node.log.refused.items[2] == error.BadEnvelope);
    try expectEqualStrings("first", node.log.messages.items[0].text);
    try expectEqualStrings("second", node.log.messages.items[1].text);
    const mallory_id = try mallory.id();
    try expectEqualSlices(u8, &mallory_id, &node.log.messages.items[0].peer);
    try expectEqual(@as(usize, 1), node.host.connectionCount());

    // The host answers over the same connection.
    _ = try node.host.send(&mallory_id, "hello mallory");
    const reply = (try link.read(&conn, &buf)).?.envelope;
    var ev = try mallory.receive(reply);
    defer ev.deinit();
    try expectEqualStrings("hello mallory", try ev.plaintext(&frame));

    const before = disconnects(node);
    try link.writeHello(&conn, try mallory.bundle(false, &bundle_buf));
    try stepUntilDisconnects(node, before + 1);
    try expect(std.mem.startsWith(u8, node.log.lastDisconnect(), "DuplicateHello"));
    try expectEqualStrings("DuplicateHello", try closeReason(&conn, &reason_buf));

    // What the host sends to a peer with no connection waits, and leaves when it connects.
    _ = try node.host.send(&mallory_id, "while you were away");
    try expectEqual(@as(usize, 1), node.host.pendingCount(&mallory_id));
    var conn2 = try rawDial(node);
    defer conn2.close();
    try link.writeHello(&conn2, try mallory.bundle(false, &bundle_buf));
    const H = struct {
        fn back(n: *Node) bool {
            return n.log.hellos.items.len >= 2;
        }
    };
    try node.stepUntil(5_000, node, H.back);
    try expectEqual(@as(usize, 0), node.host.pendingCount(&mallory_id));
    var ev2 = try mallory.receive((try link.read(&conn2, &buf)).?.envelope);
    defer ev2.deinit();
    try expectEqualStrings("while you were away", try ev2.plaintext(&frame));

    // Random ENVELOPE bodies (half of them starting like a real envelope): every one refused by
    // the agent, the connection open throughout, the session intact.
    var seed: [8]u8 = undefined;
    try dmp.randomBytes(&seed);
    var prng = std.Random.DefaultPrng.init(std.mem.readInt(u64, &seed, .little));
    const rnd = prng.random();
    const refused_before = node.log.refused.items.len;
    const real = try mallory.send(&node_id, "template", &env_buf);
    var junk: [3000]u8 = undefined;
    for (0..300) |i| {
        const len = rnd.intRangeAtMost(usize, 1, junk.len);
        rnd.bytes(junk[0..len]);
        if (i % 2 == 0 and len > 20) @memcpy(junk[0..20], real[0..20]);
        try link.writeEnvelope(&conn2, junk[0..len]);
    }
    const R = struct {
        n: *Node,
        want: usize,
        fn ok(w: @This()) bool {
            return w.n.log.refused.items.len >= w.want;
        }
    };
    try node.stepUntil(10_000, R{ .n = node, .want = refused_before + 300 }, R.ok);
    const after = try mallory.send(&node_id, "after the junk", &env_buf);
    try link.writeEnvelope(&conn2, after);
    const M = struct {
        fn three(n: *Node) bool {
            return n.log.messages.items.len >= 3;
        }
    };
    try node.stepUntil(5_000, node, M.three);
    try expectEqualStrings("after the junk", node.log.messages.items[2].text);
    try expectEqual(@as(usize, 1), node.host.connectionCount());

    // A clean close is reported as such.
    const before2 = disconnects(node);
    conn2.close();
    try stepUntilDisconnects(node, before2 + 1);
    try expect(std.mem.startsWith(u8, node.log.lastDisconnect(), "Closed"));
}

test "link: parse every kind and refuse what is out of range" {
    try expectEqualStrings("b", (try link.parse(&.{ 0x01, 'b' })).hello);
    try expectEqualStrings("e", (try link.parse(&.{ 0x02, 'e' })).envelope);
    try expectEqualStrings("", (try link.parse(&.{0x03})).close);
    try expectEqualStrings("why", (try link.parse(&.{ 0x03, 'w', 'h', 'y' })).close);
    try testing.expectError(error.BadHello, link.parse(&.{0x01}));
    try testing.expectError(error.BadEnvelope, link.parse(&.{0x02}));
    try testing.expectError(error.UnknownFrameKind, link.parse(&.{0x00}));
    try testing.expectError(error.UnknownFrameKind, link.parse(&.{ 0x04, 1 }));
    try testing.expectError(error.UnknownFrameKind, link.parse(&.{0xff}));
    try testing.expectError(error.UnknownFrameKind, link.parse(""));
    const long = try gpa.alloc(u8, dmp.bundle_max_len + 2);
    defer gpa.free(long);
    @memset(long, 0);
    long[0] = 0x01;
    try testing.expectError(error.BadHello, link.parse(long));
    long[0] = 0x03;
    try testing.expectError(error.BadClose, link.parse(long));
    long[0] = 0x02;
    try expectEqual(long.len - 1, (try link.parse(long)).envelope.len);
}
