//! The dmp-node executable, run as processes: two nodes against each other over loopback (the
//! lifecycle, messages both ways, a group, a restart from the store, the store's lock and key),
//! a node against an in-process agent and forged frames, and command-line and stdin errors.

const std = @import("std");
const dmp = @import("dmp");
const build_options = @import("build_options");
const common = @import("common.zig");
const TempDir = @import("host_test.zig").TempDir;
const transport = dmp.transport;
const link = dmp.link;
const testing = std.testing;
const sys = std.c;

const expect = testing.expect;
const expectEqual = testing.expectEqual;
const expectEqualStrings = testing.expectEqualStrings;

const gpa = testing.allocator;
const wait_ms = 15_000;

fn nowMs() u64 {
    var ts: sys.timespec = undefined;
    _ = sys.clock_gettime(.MONOTONIC, &ts);
    return @as(u64, @intCast(ts.sec)) * 1000 + @as(u64, @intCast(ts.nsec)) / std.time.ns_per_ms;
}

/// A dmp-node process: its stdin to write, its stdout (and stderr) read line by line.
const Proc = struct {
    name: []const u8,
    pid: sys.pid_t,
    stdin: sys.fd_t,
    stdout: sys.fd_t,
    pending: std.ArrayList(u8) = .empty,
    lines: std.ArrayList([]u8) = .empty,
    eof: bool = false,
    exit_code: ?u8 = null,

    /// Starts dmp-node with `args` and exactly the environment `env`.
    fn spawn(name: []const u8, args: []const []const u8, env: []const []const u8) !*Proc {
        var arena_state = std.heap.ArenaAllocator.init(gpa);
        defer arena_state.deinit();
        const arena = arena_state.allocator();
        const argv = try arena.alloc(?[*:0]const u8, args.len + 2);
        argv[0] = try arena.dupeSentinel(u8, build_options.node_exe, 0);
        for (args, 1..) |a, i| argv[i] = try arena.dupeSentinel(u8, a, 0);
        argv[args.len + 1] = null;
        const envp = try arena.alloc(?[*:0]const u8, env.len + 1);
        for (env, 0..) |e, i| envp[i] = try arena.dupeSentinel(u8, e, 0);
        envp[env.len] = null;

        var in_pipe: [2]sys.fd_t = undefined;
        var out_pipe: [2]sys.fd_t = undefined;
        if (sys.pipe2(&in_pipe, .{ .CLOEXEC = true }) != 0) return error.PipeFailed;
        if (sys.pipe2(&out_pipe, .{ .CLOEXEC = true }) != 0) return error.PipeFailed;
        const pid = sys.fork();
        if (pid < 0) return error.ForkFailed;
        if (pid == 0) {
            // The child: only async-signal-safe calls from here.
            _ = sys.dup2(in_pipe[0], 0);
            _ = sys.dup2(out_pipe[1], 1);
            _ = sys.dup2(out_pipe[1], 2);
            _ = sys.execve(argv[0].?, @ptrCast(argv.ptr), @ptrCast(envp.ptr));
            sys._exit(127);
        }
        _ = sys.close(in_pipe[0]);
        _ = sys.close(out_pipe[1]);
        const self = try gpa.create(Proc);
        self.* = .{ .name = name, .pid = pid, .stdin = in_pipe[1], .stdout = out_pipe[0] };
        return self;
    }

    /// Kills the process if it still runs, and frees everything.
    fn destroy(self: *Proc) void {
        if (self.exit_code == null) {
            _ = sys.kill(self.pid, .KILL);
            var status: c_int = 0;
            _ = sys.waitpid(self.pid, &status, 0);
        }
        if (self.stdin >= 0) _ = sys.close(self.stdin);
        _ = sys.close(self.stdout);
        for (self.lines.items) |l| gpa.free(l);
        self.lines.deinit(gpa);
        self.pending.deinit(gpa);
        gpa.destroy(self);
    }

    fn write(self: *Proc, comptime fmt: []const u8, args: anytype) !void {
        const text = try std.fmt.allocPrint(gpa, fmt, args);
        defer gpa.free(text);
        var rest: []const u8 = text;
        while (rest.len > 0) {
            const rc = sys.write(self.stdin, rest.ptr, rest.len);
            if (rc < 0) return error.WriteFailed;
            rest = rest[@intCast(rc)..];
        }
    }

    fn closeStdin(self: *Proc) void {
        if (self.stdin >= 0) _ = sys.close(self.stdin);
        self.stdin = -1;
    }

    /// Reads what is available within `timeout_ms` into lines; false at the end of output.
    fn pump(self: *Proc, timeout_ms: i32) !bool {
        if (self.eof) return false;
        var pfd = [1]sys.pollfd{.{ .fd = self.stdout, .events = sys.POLL.IN, .revents = 0 }};
        const rc = sys.poll(&pfd, 1, timeout_ms);
        if (rc <= 0) return true;
        var buf: [65536]u8 = undefined;
        const n = sys.read(self.stdout, &buf, buf.len);
        if (n <= 0) {
            self.eof = true;
            if (self.pending.items.len > 0) try self.lines.append(gpa, try self.pending.toOwnedSlice(gpa));
            return false;
        }
        try self.pending.appendSlice(gpa, buf[0..@intCast(n)]);
        while (std.mem.findScalar(u8, self.pending.items, '\n')) |i| {
            try self.lines.append(gpa, try gpa.dupe(u8, self.pending.items[0..i]));
            const rest = self.pending.items.len - i - 1;
            std.mem.copyForwards(u8, self.pending.items[0..rest], self.pending.items[i + 1 ..]);
            self.pending.shrinkRetainingCapacity(rest);
        }
        return true;
    }

    /// The number of lines so far: wait for lines after this mark.
    fn mark(self: *const Proc) usize {
        return self.lines.items.len;
    }

    /// The index of the first line from `from` that starts with `prefix`, waiting for it.
    fn waitIndex(self: *Proc, from: usize, prefix: []const u8) !usize {
        const deadline = nowMs() + wait_ms;
        var i = from;
        while (true) {
            while (i < self.lines.items.len) : (i += 1) {
                if (std.mem.startsWith(u8, self.lines.items[i], prefix)) return i;
            }
            if (nowMs() > deadline or !(try self.pump(100))) {
                // One last look at what arrived.
                while (i < self.lines.items.len) : (i += 1) {
                    if (std.mem.startsWith(u8, self.lines.items[i], prefix)) return i;
                }
                std.debug.print("{s}: no line starting with \"{s}\" after line {d}; its output:\n", .{ self.name, prefix, from });
                self.dump();
                return error.LineNotFound;
            }
        }
    }

    /// The first line from `from` that starts with any of `prefixes`, waiting for it.
    fn waitAny(self: *Proc, from: usize, prefixes: []const []const u8) ![]const u8 {
        const deadline = nowMs() + wait_ms;
        while (true) {
            for (self.lines.items[from..]) |l| {
                for (prefixes) |prefix| if (std.mem.startsWith(u8, l, prefix)) return l;
            }
            if (nowMs() > deadline or !(try self.pump(100))) {
                std.debug.print("{s}: none of the expected lines after line {d}; its output:\n", .{ self.name, from });
                self.dump();
                return error.LineNotFound;
            }
        }
    }

    fn waitFor(self: *Proc, from: usize, prefix: []const u8) ![]const u8 {
        return self.lines.items[try self.waitIndex(from, prefix)];
    }

    fn waitForFmt(self: *Proc, from: usize, comptime fmt: []const u8, args: anytype) ![]const u8 {
        var buf: [512]u8 = undefined;
        return self.waitFor(from, try std.fmt.bufPrint(&buf, fmt, args));
    }

    fn dump(self: *const Proc) void {
        for (self.lines.items) |l| std.debug.print("  | {s}\n", .{l});
    }

    /// Waits for the process to end; returns its exit code (signals fail the test).
    fn wait(self: *Proc) !u8 {
        if (self.exit_code) |c| return c;
        const deadline = nowMs() + wait_ms;
        while (true) {
            // Keep reading its output so that it never blocks on a full pipe.
            _ = try self.pump(20);
            var status: c_int = 0;
            const rc = sys.waitpid(self.pid, &status, sys.W.NOHANG);
            if (rc == self.pid) {
                while (try self.pump(0)) {}
                const s: u32 = @bitCast(status);
                if (!sys.W.IFEXITED(s)) {
                    std.debug.print("{s}: killed by a signal; its output:\n", .{self.name});
                    self.dump();
                    self.exit_code = 255;
                    return error.ProcessCrashed;
                }
                self.exit_code = sys.W.EXITSTATUS(s);
                return self.exit_code.?;
            }
            if (nowMs() > deadline) {
                std.debug.print("{s}: did not exit; its output:\n", .{self.name});
                self.dump();
                return error.ProcessHung;
            }
        }
    }

    fn hasLine(self: *const Proc, prefix: []const u8) bool {
        for (self.lines.items) |l| if (std.mem.startsWith(u8, l, prefix)) return true;
        return false;
    }
};

/// The n-th space-separated word of a line.
fn word(line: []const u8, n: usize) []const u8 {
    var it = std.mem.tokenizeScalar(u8, line, ' ');
    var i: usize = 0;
    while (it.next()) |w| : (i += 1) if (i == n) return w;
    return "";
}

const Who = struct { fp: [32]u8, id: [64]u8 };

/// The AGENT line: our fingerprint and id.
fn identity(p: *Proc) !Who {
    const line = try p.waitFor(0, "AGENT ");
    var who: Who = undefined;
    const fp = word(line, 1);
    const id = word(line, 2);
    if (fp.len != 32 or id.len != 64) return error.BadAgentLine;
    @memcpy(&who.fp, fp);
    @memcpy(&who.id, id);
    return who;
}

fn hexKey(out: *[64]u8) !void {
    var key: [32]u8 = undefined;
    try dmp.randomBytes(&key);
    out.* = std.fmt.bytesToHex(key, .lower);
}

test "node: two dmp-node processes talk over loopback; lifecycle, groups, restart from the store" {
    const tmp = try TempDir.init();
    defer tmp.cleanup();
    var a_store: [128]u8 = undefined;
    var a_key: [128]u8 = undefined;
    var a_bundle: [128]u8 = undefined;
    var b_store: [128]u8 = undefined;
    const a_store_path = try tmp.file(&a_store, "a.db");
    const a_key_path = try tmp.file(&a_key, "a.key");
    const a_bundle_path = try tmp.file(&a_bundle, "a.bundle");
    const b_store_path = try tmp.file(&b_store, "b.db");

    // A's key in a file (64 hex digits and a newline), B's in the environment.
    var hex: [64]u8 = undefined;
    try hexKey(&hex);
    {
        const fd = sys.open(a_key_path, .{ .ACCMODE = .WRONLY, .CREAT = true, .TRUNC = true }, @as(sys.mode_t, 0o600));
        try expect(fd >= 0);
        defer _ = sys.close(fd);
        try expectEqual(@as(isize, 64), sys.write(fd, &hex, 64));
        try expectEqual(@as(isize, 1), sys.write(fd, "\n", 1));
    }
    var b_hex: [64]u8 = undefined;
    try hexKey(&b_hex);
    var b_env_buf: [128]u8 = undefined;
    const b_env = try std.fmt.bufPrint(&b_env_buf, "DMP_STORAGE_KEY={s}", .{&b_hex});

    // A listens and publishes its bundle.
    var a = try Proc.spawn("node A", &.{ "--store", a_store_path, "--key-file", a_key_path, "--listen", "127.0.0.1:0", "--bundle-out", a_bundle_path }, &.{});
    defer a.destroy();
    const who_a = try identity(a);
    _ = try a.waitFor(0, "BUNDLE ");
    const port = try std.fmt.parseInt(u16, word(try a.waitFor(0, "LISTENING "), 1), 10);
    var addr_buf: [32]u8 = undefined;
    const addr = try std.fmt.bufPrint(&addr_buf, "127.0.0.1:{d}", .{port});

    // B reads A's bundle and dials.
    var b = try Proc.spawn("node B", &.{ "--store", b_store_path, "--dial", addr, "--peer-bundle", a_bundle_path }, &.{b_env});
    defer b.destroy();
    const who_b = try identity(b);
    _ = try b.waitForFmt(0, "PEER {s} {s}", .{ &who_a.fp, &who_a.id });
    _ = try b.waitForFmt(0, "HELLO 1 {s} {s}", .{ &who_a.fp, &who_a.id });
    _ = try a.waitForFmt(0, "HELLO 1 {s} {s}", .{ &who_b.fp, &who_b.id });

    // The lifecycle: B's first message makes its session INITIATING, A's ACTIVE; A's reply
    // makes B's ACTIVE.
    var ma = a.mark();
    var mb = b.mark();
    try b.write("hello from b\n", .{});
    _ = try b.waitForFmt(mb, "SESSION {s} INITIATING", .{&who_a.fp});
    var line_buf: [256]u8 = undefined;
    const a_active = try a.waitIndex(ma, try std.fmt.bufPrint(&line_buf, "SESSION {s} ACTIVE", .{&who_b.fp}));
    const a_recv = try a.waitIndex(ma, "RECV ");
    try expect(a_recv > a_active);
    _ = try a.waitForFmt(ma, "RECV {s} hello from b", .{&who_b.fp});
    try a.write("hello from a\n", .{});
    const b_active = try b.waitIndex(mb, try std.fmt.bufPrint(&line_buf, "SESSION {s} ACTIVE", .{&who_a.fp}));
    const b_recv = try b.waitIndex(mb, "RECV ");
    try expect(b_recv > b_active);
    _ = try b.waitForFmt(mb, "RECV {s} hello from a", .{&who_a.fp});

    // 50 messages each way, written at once from both sides, received in order.
    ma = a.mark();
    mb = b.mark();
    for (0..50) |i| {
        try a.write("a to b #{d}\n", .{i});
        try b.write("b to a #{d}\n", .{i});
    }
    {
        var at_a = ma;
        var at_b = mb;
        for (0..50) |i| {
            at_a = 1 + try a.waitIndex(at_a, try std.fmt.bufPrint(&line_buf, "RECV {s} b to a #{d}", .{ &who_b.fp, i }));
            at_b = 1 + try b.waitIndex(at_b, try std.fmt.bufPrint(&line_buf, "RECV {s} a to b #{d}", .{ &who_a.fp, i }));
        }
    }

    // A group: A creates it and adds B; the sender keys cross (A's outbox, then B's); both send.
    ma = a.mark();
    mb = b.mark();
    try a.write("/group-create\n", .{});
    const gid_line = try a.waitFor(ma, "GROUP-CREATED ");
    var gid: [64]u8 = undefined;
    @memcpy(&gid, word(gid_line, 1));
    try a.write("/group-add {s}\n", .{&who_b.id});
    _ = try a.waitForFmt(ma, "GROUP-ADDED {s} {s}", .{ &gid, &who_b.fp });
    _ = try b.waitForFmt(mb, "GROUP-KEY {s} {s}", .{ &gid, &who_a.fp });
    _ = try a.waitForFmt(ma, "GROUP-KEY {s} {s}", .{ &gid, &who_b.fp });
    try b.write("/group-send from b to the group\n", .{});
    _ = try b.waitForFmt(mb, "GROUP-SENT {s} 1", .{&gid});
    _ = try a.waitForFmt(ma, "GROUP {s} {s} from b to the group", .{ &gid, &who_b.fp });
    try a.write("/group-send from a to the group\n", .{});
    _ = try b.waitForFmt(mb, "GROUP {s} {s} from a to the group", .{ &gid, &who_a.fp });
    try a.write("/group-members\n", .{});
    _ = try a.waitForFmt(ma, "MEMBERS {s} 1 {s}", .{ &gid, &who_b.fp });

    // B quits; A sees why.
    ma = a.mark();
    try b.write("/quit\n", .{});
    _ = try b.waitFor(mb, "BYE");
    try expectEqual(@as(u8, 0), try b.wait());
    _ = try a.waitForFmt(ma, "DISCONNECTED 1 {s} PeerClosed Quit", .{&who_b.fp});

    // B again, from its store: same identity, the session still ACTIVE, the group still there.
    var b2 = try Proc.spawn("node B (restarted)", &.{ "--store", b_store_path, "--dial", addr }, &.{b_env});
    defer b2.destroy();
    const who_b2 = try identity(b2);
    try expectEqualStrings(&who_b.id, &who_b2.id);
    _ = try b2.waitForFmt(0, "SESSION {s} ACTIVE", .{&who_a.fp});
    _ = try b2.waitForFmt(0, "HELLO 1 {s}", .{&who_a.fp});
    _ = try a.waitForFmt(ma, "HELLO 2 {s}", .{&who_b.fp});
    try b2.write("after restart\n", .{});
    _ = try a.waitForFmt(ma, "RECV {s} after restart", .{&who_b.fp});
    try a.write("/group-send still a group\n", .{});
    _ = try b2.waitForFmt(0, "GROUP {s} {s} still a group", .{ &gid, &who_a.fp });

    // The store is locked while B runs: a second node on it refuses to start.
    var b3 = try Proc.spawn("node B (second copy)", &.{ "--store", b_store_path }, &.{b_env});
    defer b3.destroy();
    try expectEqual(@as(u8, 1), try b3.wait());
    try expect(b3.hasLine("dmp-node: cannot open the agent at "));
    try expect(std.mem.find(u8, b3.lines.items[b3.lines.items.len - 1], "StoreLocked") != null);

    // The end of A's stdin ends A; B sees the connection close.
    const mb2 = b2.mark();
    a.closeStdin();
    _ = try a.waitFor(ma, "BYE");
    try expectEqual(@as(u8, 0), try a.wait());
    _ = try b2.waitForFmt(mb2, "DISCONNECTED 1 {s} PeerClosed Quit", .{&who_a.fp});
    b2.closeStdin();
    try expectEqual(@as(u8, 0), try b2.wait());

    // With the wrong key, B's store does not open.
    var wrong_hex: [64]u8 = undefined;
    try hexKey(&wrong_hex);
    var wrong_env_buf: [128]u8 = undefined;
    const wrong_env = try std.fmt.bufPrint(&wrong_env_buf, "DMP_STORAGE_KEY={s}", .{&wrong_hex});
    var b4 = try Proc.spawn("node B (wrong key)", &.{ "--store", b_store_path }, &.{wrong_env});
    defer b4.destroy();
    try expectEqual(@as(u8, 1), try b4.wait());
    try expect(std.mem.find(u8, b4.lines.items[b4.lines.items.len - 1], "WrongStorageKey") != null);
}

fn rawSend(conn: *transport.Connection, bytes: []const u8) !void {
    var sent: usize = 0;
    while (sent < bytes.len) {
        const rc = sys.send(conn.fd, bytes[sent..].ptr, bytes.len - sent, sys.MSG.NOSIGNAL);
        if (rc < 0) return error.SendFailed;
        sent += @intCast(rc);
    }
}

/// Dials the node and reads its HELLO (its bundle, copied to `bundle_out` when given).
fn dialNode(port: u16, bundle_out: ?[]u8) !struct { conn: transport.Connection, bundle_len: usize } {
    var conn = try transport.Connection.dial(port, .{});
    errdefer conn.close();
    var buf: [dmp.bundle_max_len + 1]u8 = undefined;
    const f = (try link.read(&conn, &buf)) orelse return error.UnexpectedClose;
    if (f != .hello) return error.ExpectedHello;
    if (bundle_out) |out| @memcpy(out[0..f.hello.len], f.hello);
    return .{ .conn = conn, .bundle_len = f.hello.len };
}

test "node: bad frames close the connection with a message; the node talks to an in-process agent" {
    var node = try Proc.spawn("node", &.{ "--listen", "127.0.0.1:0" }, &.{});
    defer node.destroy();
    const who = try identity(node);
    const port = try std.fmt.parseInt(u16, word(try node.waitFor(0, "LISTENING "), 1), 10);
    var reason_buf: [2048]u8 = undefined;

    const Case = struct { bytes: []const u8, line: []const u8, close: []const u8 = "", half_close: bool = false };
    var huge: [4]u8 = undefined;
    std.mem.writeInt(u32, &huge, link.max_frame_len + 1, .big);
    const cases = [_]Case{
        .{ .bytes = &huge, .line = "FrameTooLarge" },
        .{ .bytes = &[_]u8{ 0, 0, 0, 2, 0x09, 0x00 }, .line = "UnknownFrameKind", .close = "UnknownFrameKind" },
        .{ .bytes = &[_]u8{ 0, 0, 0, 4, 0x01, 'x', 'y', 'z' }, .line = "BadHello", .close = "BadHello" },
        .{ .bytes = &[_]u8{ 0, 0, 0, 3, 0x02, 0x01, 0x02 }, .line = "MissingHello", .close = "MissingHello" },
        .{ .bytes = &[_]u8{ 0, 0, 0, 0 }, .line = "EmptyFrame" },
        .{ .bytes = &[_]u8{ 0, 0, 1, 0, 0x02, 1, 2 }, .line = "TruncatedFrame", .half_close = true },
    };
    for (cases, 1..) |case, i| {
        const m = node.mark();
        var conn = (try dialNode(port, null)).conn;
        defer conn.close();
        try rawSend(&conn, case.bytes);
        if (case.half_close) _ = sys.shutdown(conn.fd, sys.SHUT.WR);
        var want: [64]u8 = undefined;
        _ = try node.waitFor(m, try std.fmt.bufPrint(&want, "DISCONNECTED {d} - {s}", .{ i, case.line }));
        if (case.close.len > 0) {
            var buf: [2048]u8 = undefined;
            const f = (try link.read(&conn, &buf)).?;
            try expectEqualStrings(case.close, f.close);
            @memcpy(reason_buf[0..f.close.len], f.close);
        }
    }

    // An in-process agent: HELLO, a tampered envelope (refused, the connection stays), the
    // genuine one, an answer from the node, text that needs escaping, then a clean close.
    var agent = try dmp.Agent.open("", &(try common.randomKey()), .{});
    defer agent.deinit();
    const m = node.mark();
    var bundle: [dmp.bundle_max_len]u8 = undefined;
    const dialed = try dialNode(port, &bundle);
    var conn = dialed.conn;
    defer conn.close();
    const node_id = try agent.addBundle(bundle[0..dialed.bundle_len]);
    try testing.expectEqualSlices(u8, &node_id, &(try hexId(&who.id)));
    const conn_no = cases.len + 1;
    var own: [dmp.bundle_max_len]u8 = undefined;
    try link.writeHello(&conn, try agent.bundle(false, &own));
    const fp_buf: [39]u8 = try agent.fingerprint();
    var fp: [32]u8 = undefined;
    var n: usize = 0;
    for (fp_buf) |ch| if (ch != ' ') {
        fp[n] = ch;
        n += 1;
    };
    _ = try node.waitForFmt(m, "HELLO {d} {s}", .{ conn_no, &fp });

    var env_buf: [4096]u8 = undefined;
    const genuine = try agent.send(&node_id, "first contact", &env_buf);
    var tampered: [4096]u8 = undefined;
    @memcpy(tampered[0..genuine.len], genuine);
    tampered[genuine.len / 2] ^= 0x01;
    try link.writeEnvelope(&conn, tampered[0..genuine.len]);
    _ = try node.waitForFmt(m, "REFUSED {d} {s} AuthFailed", .{ conn_no, &fp });
    try link.writeEnvelope(&conn, genuine);
    _ = try node.waitForFmt(m, "SESSION {s} ACTIVE", .{&fp});
    _ = try node.waitForFmt(m, "RECV {s} first contact", .{&fp});

    try node.write("hello, in-process agent\n", .{});
    var buf: [8192]u8 = undefined;
    const reply = (try link.read(&conn, &buf)).?.envelope;
    var ev = try agent.receive(reply);
    defer ev.deinit();
    try expectEqualStrings("hello, in-process agent", try ev.plaintext(&env_buf));
    try expectEqual(dmp.SessionState.active, try agent.sessionState(&node_id));

    const odd = try agent.send(&node_id, "two\nlines\x07 and a \\ and caf\xc3\xa9", &env_buf);
    try link.writeEnvelope(&conn, odd);
    _ = try node.waitForFmt(m, "RECV {s} two\\nlines\\x07 and a \\\\ and caf\xc3\xa9", .{&fp});

    conn.close();
    _ = try node.waitForFmt(m, "DISCONNECTED {d} {s} Closed", .{ conn_no, &fp });
    const before_quit = node.mark();
    try node.write("/quit\n", .{});
    _ = try node.waitFor(before_quit, "BYE");
    try expectEqual(@as(u8, 0), try node.wait());
    try expect(!node.hasLine("ERROR"));
}

fn hexId(hex: *const [64]u8) !dmp.AgentId {
    var id: dmp.AgentId = undefined;
    _ = try std.fmt.hexToBytes(&id, hex);
    return id;
}

test "node: command-line and stdin errors are reported, never a crash" {
    const bad = [_][]const []const u8{
        &.{ "--listen", "10.1.2.3:80" },
        &.{ "--dial", "127.0.0.1:0" },
        &.{"--bogus"},
        &.{"--store"},
        &.{ "--store", "/nonexistent/dir/x.db" }, // no key
        &.{ "--key-file", "/nonexistent/key" },
    };
    for (bad) |args| {
        var p = try Proc.spawn("node (bad arguments)", args, &.{});
        defer p.destroy();
        try expectEqual(@as(u8, 2), try p.wait());
        try expect(p.hasLine("dmp-node: "));
    }
    {
        var p = try Proc.spawn("node (bad key)", &.{}, &.{"DMP_STORAGE_KEY=not-a-key"});
        defer p.destroy();
        try expectEqual(@as(u8, 2), try p.wait());
    }
    {
        var p = try Proc.spawn("node (help)", &.{"--help"}, &.{});
        defer p.destroy();
        try expectEqual(@as(u8, 0), try p.wait());
        try expect(p.hasLine("usage: dmp-node"));
    }

    // Every command without what it needs, unknown commands and peers: ERROR lines, then the
    // end of stdin ends the node cleanly.
    var p = try Proc.spawn("node (stdin errors)", &.{}, &.{});
    defer p.destroy();
    _ = try identity(p);
    try p.write("hello with no peer\n/to\n/to zz hi\n/peer 12\n/peer abcd\n/group-send x\n/group-add abcd\n" ++
        "/group ffff\n/connect\n/nope\n/dial 10.0.0.1:1\n/add-bundle /nonexistent\n/peers\n/help\n\n//\n", .{});
    p.closeStdin();
    try expectEqual(@as(u8, 0), try p.wait());
    var errors: usize = 0;
    for (p.lines.items) |l| {
        if (std.mem.startsWith(u8, l, "ERROR ")) errors += 1;
    }
    try expectEqual(@as(usize, 13), errors);
    try expect(p.hasLine("LIST-END"));
    try expect(p.hasLine("HELP "));
    try expect(p.hasLine("BYE"));
}

test "node: three dmp-node processes form a group over a mesh of connections" {
    // A listens; B listens and dials A; C dials A and B.
    var a = try Proc.spawn("node A", &.{ "--listen", "127.0.0.1:0" }, &.{});
    defer a.destroy();
    const who_a = try identity(a);
    const port_a = word(try a.waitFor(0, "LISTENING "), 1);
    var addr_a_buf: [32]u8 = undefined;
    const addr_a = try std.fmt.bufPrint(&addr_a_buf, "127.0.0.1:{s}", .{port_a});
    var b = try Proc.spawn("node B", &.{ "--listen", "127.0.0.1:0", "--dial", addr_a }, &.{});
    defer b.destroy();
    const who_b = try identity(b);
    const port_b = word(try b.waitFor(0, "LISTENING "), 1);
    var addr_b_buf: [32]u8 = undefined;
    const addr_b = try std.fmt.bufPrint(&addr_b_buf, "127.0.0.1:{s}", .{port_b});
    var c = try Proc.spawn("node C", &.{ "--dial", addr_a, "--dial", addr_b }, &.{});
    defer c.destroy();
    const who_c = try identity(c);
    _ = try a.waitForFmt(0, "HELLO 2 {s}", .{&who_c.fp});
    _ = try b.waitForFmt(0, "HELLO 2 {s}", .{&who_c.fp});

    // A creates the group and adds B and C, who join (invited). Then B adds C and C adds B:
    // membership is each agent's own. B's key reaches C before C has added B, so C refuses it
    // (UnknownSender), keeps it, and takes it in when it adds B.
    try a.write("/group-create\n", .{});
    var gid: [64]u8 = undefined;
    @memcpy(&gid, word(try a.waitFor(0, "GROUP-CREATED "), 1));
    try a.write("/group-add {s}\n/group-add {s}\n", .{ &who_b.id, &who_c.id });
    _ = try b.waitForFmt(0, "GROUP-KEY {s} {s}", .{ &gid, &who_a.fp });
    _ = try c.waitForFmt(0, "GROUP-KEY {s} {s}", .{ &gid, &who_a.fp });
    const mc = c.mark();
    try b.write("/group-add {s}\n", .{&who_c.id});
    var kept_buf: [128]u8 = undefined;
    const kept_line = try std.fmt.bufPrint(&kept_buf, "GROUP-KEY {s} {s}", .{ &gid, &who_b.fp });
    var refused_buf: [128]u8 = undefined;
    const refused_line = try std.fmt.bufPrint(&refused_buf, "REFUSED 2 {s} UnknownSender", .{&who_b.fp});
    _ = try c.waitAny(mc, &.{ refused_line, kept_line });
    try c.write("/group-add {s}\n", .{&who_b.id});
    // Everyone holds both others' keys.
    for ([_]*Proc{ a, b, c }, [_]*const Who{ &who_a, &who_b, &who_c }) |p, me| {
        for ([_]*const Who{ &who_a, &who_b, &who_c }) |other| {
            if (other == me) continue;
            _ = try p.waitForFmt(0, "GROUP-KEY {s} {s}", .{ &gid, &other.fp });
        }
    }
    // Each sends to the group; each receives the two others' messages.
    try a.write("/group-send from A\n", .{});
    try b.write("/group-send from B\n", .{});
    try c.write("/group-send from C\n", .{});
    for ([_]*Proc{ a, b, c }, [_]*const Who{ &who_a, &who_b, &who_c }, [_][]const u8{ "A", "B", "C" }) |p, me, name| {
        _ = try p.waitForFmt(0, "GROUP-SENT {s} 2", .{&gid});
        for ([_]*const Who{ &who_a, &who_b, &who_c }, [_][]const u8{ "A", "B", "C" }) |other, other_name| {
            if (other == me) continue;
            _ = try p.waitForFmt(0, "GROUP {s} {s} from {s}", .{ &gid, &other.fp, other_name });
        }
        _ = name;
    }
    for ([_]*Proc{ a, b, c }) |p| {
        p.closeStdin();
        try expectEqual(@as(u8, 0), try p.wait());
        try expect(!p.hasLine("ERROR"));
        for (p.lines.items) |l| {
            if (std.mem.startsWith(u8, l, "REFUSED")) try expect(std.mem.find(u8, l, "UnknownSender") != null);
        }
    }
}
