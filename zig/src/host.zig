//! `dmp.Host`: one `dmp.Agent` on the network. It listens and dials on loopback through
//! `dmp.transport`, speaks `dmp.link` on every connection (HELLO with the agent's bundle first,
//! then ENVELOPE frames), routes every envelope that arrives to `Agent.receive`, and sends what
//! the agent produces: messages, group messages and the agent's outbox (sender keys).
//!
//! - A connection leads to the peer named by its HELLO; the bundle is verified and remembered
//!   (`Agent.addBundle`), so a session can start from it. Several connections may lead to one
//!   peer; the most recently opened of them carries what we send.
//! - What we send to a peer with no connection waits in memory (in order, up to
//!   `Options.max_pending_per_peer` envelopes and `Options.max_pending_bytes_per_peer` bytes)
//!   and leaves when the peer connects. Outbox envelopes stay in the agent's outbox (in its
//!   store) until written to a connection; the outbox is delivered in order, so an envelope for
//!   a peer that is not connected holds back the ones queued after it.
//! - Refusals: a transport error (oversized, empty, truncated or stalled frame) or a protocol
//!   error (see `dmp.link`) closes that connection, with a `disconnected` notice naming it; an
//!   envelope the agent refuses (tampered, replayed, foreign, ...) is reported as `refused` and
//!   changes nothing, and the connection stays open. Nothing a peer sends can crash the host.
//! - Groups: in a group the agent already holds, a sender key from a peer that is not a member is
//!   refused (`UnknownSender`): membership is the caller's to decide. The host keeps such an
//!   envelope (`max_kept_per_peer` per peer, each at most `max_kept_len` bytes) and delivers it to
//!   the agent again after `groupAdd` of that peer, so members may add each other in any order.
//! - Single-threaded: call everything from one thread. `step` polls the listener, every
//!   connection and optionally one more descriptor (stdin, for `dmp-node`).
//!
//! Notices go to a callback; slices in a notice are valid only during the call, and the
//! callback must not call back into the host.

const std = @import("std");
const dmp = @import("dmp.zig");
const transport = @import("transport.zig");
const link = @import("link.zig");
const sys = std.c;

pub const ConnId = u32;

/// What happened, reported to `Handler`.
pub const Notice = union(enum) {
    /// Listening on 127.0.0.1:`port`.
    listening: struct { port: u16 },
    /// A connection opened (`outbound`: we dialed it) and our HELLO was sent.
    connected: struct { conn: ConnId, outbound: bool },
    /// The peer's HELLO arrived: its bundle verified and remembered; the connection leads to it.
    hello: struct { conn: ConnId, peer: dmp.AgentId },
    /// A connection is gone. `reason` is one word: `Closed` (clean end of stream), `PeerClosed`
    /// (the peer sent CLOSE; `detail` is its reason), `LocalClose`, a transport error
    /// (`FrameTooLarge`, `EmptyFrame`, `TruncatedFrame`, `Timeout`, `ConnectionReset`, ...) or a
    /// protocol error (`UnknownFrameKind`, `BadHello`, `BadEnvelope`, `BadClose`,
    /// `MissingHello`, `DuplicateHello`, `TooManyConnections`).
    disconnected: struct { conn: ConnId, peer: ?dmp.AgentId, reason: []const u8, detail: []const u8 },
    /// The primary session with `peer` appeared or changed state.
    session: struct { peer: dmp.AgentId, state: dmp.SessionState },
    /// A pairwise message.
    message: struct { peer: dmp.AgentId, text: []const u8 },
    /// A group message from `peer`.
    group_message: struct { group: dmp.GroupId, peer: dmp.AgentId, text: []const u8 },
    /// `peer`'s sender key for `group` was taken in (an invitation, or a member's key).
    group_key: struct { group: dmp.GroupId, peer: dmp.AgentId },
    /// An event of a kind this host does not know (a newer library).
    other_event: struct { peer: dmp.AgentId, kind: i32 },
    /// An envelope the agent refused; nothing changed and the connection stays open. `conn` is 0
    /// for a kept envelope delivered again (see `groupAdd`). `kept`: the envelope is kept, to be
    /// delivered again after `groupAdd` of `peer` (an `UnknownSender` refusal).
    refused: struct { conn: ConnId, peer: ?dmp.AgentId, err: dmp.Error, detail: []const u8, kept: bool = false },
    /// An envelope was written to the peer's connection (`len`: envelope bytes).
    sent: struct { peer: dmp.AgentId, len: usize },
    /// An envelope waits in memory until the peer connects.
    queued: struct { peer: dmp.AgentId, len: usize },
};

pub const Handler = struct {
    ctx: ?*anyopaque = null,
    func: ?*const fn (ctx: ?*anyopaque, notice: Notice) void = null,

    fn emit(self: Handler, notice: Notice) void {
        if (self.func) |f| f(self.ctx, notice);
    }
};

pub const Options = struct {
    /// Timeouts and maximum frame size of every connection.
    connection: transport.Options = .{ .read_timeout_ms = 5_000, .write_timeout_ms = 10_000 },
    /// Connections beyond this are closed at once (CLOSE `TooManyConnections`).
    max_connections: usize = 64,
    /// Envelopes held in memory per peer without a connection; beyond, sending is refused
    /// (`error.TooManyPending`) before anything is encrypted.
    max_pending_per_peer: usize = 10_000,
    /// Bytes held in memory per peer without a connection (the same refusal beyond).
    max_pending_bytes_per_peer: usize = 64 << 20,
};

pub const Error = dmp.Error || transport.Error || std.mem.Allocator.Error || error{ TooManyPending, TooManyConnections };

const Conn = struct {
    id: ConnId,
    conn: transport.Connection,
    outbound: bool,
    peer: ?dmp.AgentId = null,
};

const Peer = struct {
    id: dmp.AgentId,
    /// The last state reported (null: no session).
    state: ?dmp.SessionState = null,
    /// Control frames (ENVELOPE kind byte included) waiting for a connection, oldest first.
    pending: std.ArrayList([]u8) = .empty,
    /// Their total size.
    pending_bytes: usize = 0,
    /// Envelopes from this peer refused with `UnknownSender`, oldest first, to deliver again to
    /// the agent after `groupAdd` of the peer.
    kept: std.ArrayList([]u8) = .empty,
};

/// Refused envelopes kept per peer (the oldest is dropped beyond).
pub const max_kept_per_peer = 32;
/// Only envelopes up to this size are kept (a sender key travels in about 240 bytes).
pub const max_kept_len = 16 * 1024;

const envelope_kind = [1]u8{@backingInt(link.Kind.envelope)};

pub const Host = struct {
    gpa: std.mem.Allocator,
    agent: *dmp.Agent,
    handler: Handler,
    options: Options,
    listener: ?transport.Listener = null,
    conns: std.ArrayList(*Conn) = .empty,
    peers: std.ArrayList(*Peer) = .empty,
    next_conn_id: ConnId = 1,
    /// Incoming transport frames.
    in_buf: []u8,
    /// Outgoing envelopes (encrypted in place).
    out_buf: []u8,
    /// Plaintexts of received events (zeroized after each).
    pt_buf: []u8,
    pollfds: []sys.pollfd,
    poll_ids: []ConnId,

    pub fn init(gpa: std.mem.Allocator, agent: *dmp.Agent, handler: Handler, options: Options) std.mem.Allocator.Error!Host {
        const in_buf = try gpa.alloc(u8, link.max_frame_len);
        errdefer gpa.free(in_buf);
        const out_buf = try gpa.alloc(u8, dmp.max_envelope_len);
        errdefer gpa.free(out_buf);
        const pt_buf = try gpa.alloc(u8, dmp.max_plaintext_len);
        errdefer gpa.free(pt_buf);
        const pollfds = try gpa.alloc(sys.pollfd, options.max_connections + 2);
        errdefer gpa.free(pollfds);
        const poll_ids = try gpa.alloc(ConnId, options.max_connections + 2);
        return .{
            .gpa = gpa,
            .agent = agent,
            .handler = handler,
            .options = options,
            .in_buf = in_buf,
            .out_buf = out_buf,
            .pt_buf = pt_buf,
            .pollfds = pollfds,
            .poll_ids = poll_ids,
        };
    }

    /// Closes every connection (without notices) and the listener, and frees everything. The
    /// agent is the caller's.
    pub fn deinit(self: *Host) void {
        for (self.conns.items) |c| {
            c.conn.close();
            self.gpa.destroy(c);
        }
        self.conns.deinit(self.gpa);
        for (self.peers.items) |p| {
            for (p.pending.items) |f| self.gpa.free(f);
            p.pending.deinit(self.gpa);
            for (p.kept.items) |f| self.gpa.free(f);
            p.kept.deinit(self.gpa);
            self.gpa.destroy(p);
        }
        self.peers.deinit(self.gpa);
        if (self.listener) |*l| l.deinit();
        std.crypto.secureZero(u8, self.pt_buf);
        self.gpa.free(self.in_buf);
        self.gpa.free(self.out_buf);
        self.gpa.free(self.pt_buf);
        self.gpa.free(self.pollfds);
        self.gpa.free(self.poll_ids);
        self.* = undefined;
    }

    // ---- connections ---------------------------------------------------------------------------

    /// Listens on 127.0.0.1:`port` (0: the kernel chooses); returns the port.
    pub fn listen(self: *Host, port: u16) Error!u16 {
        if (self.listener != null) return error.AddressInUse;
        self.listener = try transport.Listener.listen(.{ .port = port, .connection = self.options.connection });
        const p = self.listener.?.port;
        self.handler.emit(.{ .listening = .{ .port = p } });
        return p;
    }

    /// Connects to 127.0.0.1:`port` and sends our HELLO.
    pub fn dial(self: *Host, port: u16) Error!ConnId {
        const conn = try transport.Connection.dial(port, self.options.connection);
        return self.adopt(conn, true);
    }

    /// Whether a connection leads to `peer` (its HELLO arrived).
    pub fn isConnected(self: *const Host, peer: *const dmp.AgentId) bool {
        return self.connFor(peer) != null;
    }

    pub fn connectionCount(self: *const Host) usize {
        return self.conns.items.len;
    }

    /// Sends CLOSE with `reason` on every connection and closes them (with notices).
    pub fn closeAll(self: *Host, reason: []const u8) void {
        while (self.conns.items.len > 0) {
            const c = self.conns.items[self.conns.items.len - 1];
            link.closeWithReason(&c.conn, reason);
            self.remove(c, "LocalClose", reason);
        }
    }

    fn adopt(self: *Host, conn_in: transport.Connection, outbound: bool) Error!ConnId {
        var conn = conn_in;
        if (self.conns.items.len >= self.options.max_connections) {
            link.closeWithReason(&conn, "TooManyConnections");
            return error.TooManyConnections;
        }
        const c = self.gpa.create(Conn) catch |err| {
            conn.close();
            return err;
        };
        c.* = .{ .id = self.next_conn_id, .conn = conn, .outbound = outbound };
        self.next_conn_id +%= 1;
        self.conns.append(self.gpa, c) catch |err| {
            c.conn.close();
            self.gpa.destroy(c);
            return err;
        };
        const id = c.id;
        self.handler.emit(.{ .connected = .{ .conn = id, .outbound = outbound } });
        var bundle_buf: [dmp.bundle_max_len]u8 = undefined;
        const bundle = self.agent.bundle(false, &bundle_buf) catch |err| {
            link.closeWithReason(&c.conn, "Internal");
            self.remove(c, "LocalClose", @errorName(err));
            return err;
        };
        link.writeHello(&c.conn, bundle) catch |err| {
            self.remove(c, @errorName(err), "while sending HELLO");
            return err;
        };
        return id;
    }

    /// Forgets a connection (closing it if still open) and reports it.
    fn remove(self: *Host, c: *Conn, reason: []const u8, detail: []const u8) void {
        c.conn.close();
        for (self.conns.items, 0..) |x, i| {
            if (x == c) {
                _ = self.conns.orderedRemove(i);
                break;
            }
        }
        self.handler.emit(.{ .disconnected = .{ .conn = c.id, .peer = c.peer, .reason = reason, .detail = detail } });
        self.gpa.destroy(c);
    }

    /// A protocol error: CLOSE naming it, then close.
    fn refuseConn(self: *Host, c: *Conn, reason: []const u8, detail: []const u8) void {
        link.closeWithReason(&c.conn, reason);
        self.remove(c, reason, detail);
    }

    fn connById(self: *const Host, id: ConnId) ?*Conn {
        for (self.conns.items) |c| if (c.id == id) return c;
        return null;
    }

    /// The most recently opened connection that leads to `peer`.
    fn connFor(self: *const Host, peer: *const dmp.AgentId) ?*Conn {
        var best: ?*Conn = null;
        for (self.conns.items) |c| {
            const p = c.peer orelse continue;
            if (!std.mem.eql(u8, &p, peer)) continue;
            if (best == null or c.id > best.?.id) best = c;
        }
        return best;
    }

    // ---- peers ---------------------------------------------------------------------------------

    fn findPeer(self: *const Host, id: *const dmp.AgentId) ?*Peer {
        for (self.peers.items) |p| if (std.mem.eql(u8, &p.id, id)) return p;
        return null;
    }

    fn ensurePeer(self: *Host, id: *const dmp.AgentId) std.mem.Allocator.Error!*Peer {
        if (self.findPeer(id)) |p| return p;
        const p = try self.gpa.create(Peer);
        errdefer self.gpa.destroy(p);
        p.* = .{ .id = id.* };
        try self.peers.append(self.gpa, p);
        return p;
    }

    /// The peers this host knows of (from bundles, connections, events and `loadPeers`).
    pub fn knownPeers(self: *const Host, out: []dmp.AgentId) []dmp.AgentId {
        const n = @min(out.len, self.peers.items.len);
        for (self.peers.items[0..n], out[0..n]) |p, *o| o.* = p.id;
        return out[0..n];
    }

    /// Envelopes waiting in memory for `peer`.
    pub fn pendingCount(self: *const Host, peer: *const dmp.AgentId) usize {
        const p = self.findPeer(peer) orelse return 0;
        return p.pending.items.len;
    }

    /// Takes in the peers the agent already has sessions with (a reopened store), reporting
    /// each session's state.
    pub fn loadPeers(self: *Host) Error!void {
        const ids = try self.agent.peersAlloc(self.gpa);
        defer self.gpa.free(ids);
        for (ids) |*id| {
            _ = try self.ensurePeer(id);
            self.refreshState(id);
        }
    }

    /// Reports the state of the primary session with `peer` if it changed since last reported.
    fn refreshState(self: *Host, peer: *const dmp.AgentId) void {
        const p = self.ensurePeer(peer) catch return;
        const now: ?dmp.SessionState = self.agent.sessionState(peer) catch null;
        const same = if (p.state) |old| (if (now) |n| old == n else false) else now == null;
        if (same) return;
        p.state = now;
        if (now) |s| self.handler.emit(.{ .session = .{ .peer = peer.*, .state = s } });
    }

    // ---- sending -------------------------------------------------------------------------------

    /// Verifies and remembers a peer's bundle (so that `send` can start a session from it).
    pub fn addBundle(self: *Host, bundle: []const u8) Error!dmp.AgentId {
        const id = try self.agent.addBundle(bundle);
        _ = try self.ensurePeer(&id);
        self.refreshState(&id);
        return id;
    }

    /// Encrypts `text` for `peer` (starting a session from its bundle if needed) and sends it,
    /// or keeps it until the peer connects. Returns the envelope's size.
    pub fn send(self: *Host, peer: *const dmp.AgentId, text: []const u8) Error!usize {
        const p = try self.ensurePeer(peer);
        try self.checkRoom(p, text.len);
        const env = try self.agent.send(peer, text, self.out_buf);
        self.refreshState(peer);
        try self.deliver(p, env);
        self.flushOutbox() catch {};
        return env.len;
    }

    /// Sets up a session with `peer` without a message (its agent reports
    /// `session_established`).
    pub fn connectSession(self: *Host, peer: *const dmp.AgentId) Error!void {
        const p = try self.ensurePeer(peer);
        try self.checkRoom(p, 0);
        const env = try self.agent.connect(peer, self.out_buf);
        self.refreshState(peer);
        try self.deliver(p, env);
        self.flushOutbox() catch {};
    }

    pub fn groupCreate(self: *Host) Error!dmp.GroupId {
        return self.agent.groupCreate();
    }

    /// Adds `peer` to the group; our sender key leaves through the outbox (now if the peer is
    /// connected). Envelopes from `peer` refused earlier as `UnknownSender` (its sender key, sent
    /// before we added it) are delivered to the agent again.
    pub fn groupAdd(self: *Host, group: *const dmp.GroupId, peer: *const dmp.AgentId) Error!void {
        const p = try self.ensurePeer(peer);
        try self.agent.groupAdd(group, peer);
        self.refreshState(peer);
        self.retryKept(p);
        self.flushOutbox() catch {};
    }

    /// Envelopes kept from `peer` (refused as `UnknownSender`), waiting for `groupAdd`.
    pub fn keptCount(self: *const Host, peer: *const dmp.AgentId) usize {
        const p = self.findPeer(peer) orelse return 0;
        return p.kept.items.len;
    }

    /// Keeps a copy of an envelope refused as `UnknownSender`; false if it cannot be kept.
    fn keep(self: *Host, from: *const dmp.AgentId, env: []const u8) bool {
        if (env.len > max_kept_len) return false;
        const p = self.ensurePeer(from) catch return false;
        const copy = self.gpa.dupe(u8, env) catch return false;
        if (p.kept.items.len >= max_kept_per_peer) self.gpa.free(p.kept.orderedRemove(0));
        p.kept.append(self.gpa, copy) catch {
            self.gpa.free(copy);
            return false;
        };
        return true;
    }

    /// Delivers `p`'s kept envelopes to the agent again, in order (those refused again as
    /// `UnknownSender`, e.g. for another group, are kept again).
    fn retryKept(self: *Host, p: *Peer) void {
        var list = p.kept;
        p.kept = .empty;
        defer {
            for (list.items) |f| self.gpa.free(f);
            list.deinit(self.gpa);
        }
        for (list.items) |env| self.onEnvelope(0, p.id, env);
    }

    /// Removes `peer` from the group; our new sender key leaves through the outbox.
    pub fn groupRemove(self: *Host, group: *const dmp.GroupId, peer: *const dmp.AgentId) Error!void {
        try self.agent.groupRemove(group, peer);
        self.flushOutbox() catch {};
    }

    /// Encrypts `text` once for the group and sends it to every member (or keeps it for those
    /// not connected). Returns the number of members.
    pub fn groupSend(self: *Host, group: *const dmp.GroupId, text: []const u8) Error!usize {
        const members = try self.agent.groupMembersAlloc(self.gpa, group);
        defer self.gpa.free(members);
        for (members) |*m| try self.checkRoom(try self.ensurePeer(m), text.len);
        const env = try self.agent.groupSend(group, text, self.out_buf);
        var first_err: ?Error = null;
        for (members) |*m| {
            const p = self.ensurePeer(m) catch |err| {
                first_err = first_err orelse err;
                continue;
            };
            self.deliver(p, env) catch |err| {
                first_err = first_err orelse err;
            };
        }
        if (first_err) |err| return err;
        return members.len;
    }

    /// Whether an envelope for a `text_len`-byte text may wait for `p` if it must.
    fn checkRoom(self: *const Host, p: *const Peer, text_len: usize) Error!void {
        if (self.connFor(&p.id) != null) return;
        // An envelope is its text, padded, plus at most a few KiB of headers.
        const estimate = 2 * text_len + 4096;
        if (p.pending.items.len >= self.options.max_pending_per_peer or
            p.pending_bytes + estimate > self.options.max_pending_bytes_per_peer)
            return error.TooManyPending;
    }

    /// Writes an envelope to the peer's connection, or keeps it for later.
    fn deliver(self: *Host, p: *Peer, env: []const u8) Error!void {
        while (self.connFor(&p.id)) |c| {
            if (link.writeEnvelope(&c.conn, env)) {
                self.handler.emit(.{ .sent = .{ .peer = p.id, .len = env.len } });
                return;
            } else |err| self.remove(c, @errorName(err), "while sending");
        }
        const frame = try self.gpa.alloc(u8, 1 + env.len);
        errdefer self.gpa.free(frame);
        frame[0] = envelope_kind[0];
        @memcpy(frame[1..], env);
        try p.pending.append(self.gpa, frame);
        p.pending_bytes += frame.len;
        self.handler.emit(.{ .queued = .{ .peer = p.id, .len = env.len } });
    }

    /// Sends what waits in memory for `p`, in order, while its connection takes it.
    fn flushPending(self: *Host, p: *Peer) void {
        var done: usize = 0;
        defer {
            for (p.pending.items[0..done]) |f| {
                p.pending_bytes -= f.len;
                self.gpa.free(f);
            }
            const rest = p.pending.items.len - done;
            std.mem.copyForwards([]u8, p.pending.items[0..rest], p.pending.items[done..]);
            p.pending.shrinkRetainingCapacity(rest);
        }
        while (done < p.pending.items.len) {
            const c = self.connFor(&p.id) orelse return;
            const frame = p.pending.items[done];
            c.conn.writeFrame(frame) catch |err| {
                self.remove(c, @errorName(err), "while sending");
                continue;
            };
            self.handler.emit(.{ .sent = .{ .peer = p.id, .len = frame.len - 1 } });
            done += 1;
        }
    }

    /// Sends the agent's outbox, oldest first, while the recipient of the oldest is connected.
    /// Called after every operation that may fill it; call it yourself after using the agent
    /// directly.
    pub fn flushOutbox(self: *Host) dmp.Error!void {
        while (true) {
            const item = self.agent.outboxNext(self.out_buf) catch |err| switch (err) {
                error.WrongState => return, // empty
                else => return err,
            };
            const c = self.connFor(&item.peer) orelse return;
            link.writeEnvelope(&c.conn, item.envelope) catch |err| {
                self.remove(c, @errorName(err), "while sending");
                continue;
            };
            self.handler.emit(.{ .sent = .{ .peer = item.peer, .len = item.envelope.len } });
            try self.agent.outboxDone(item.seq);
        }
    }

    // ---- the loop ------------------------------------------------------------------------------

    pub const StepResult = struct {
        /// `extra_fd` is readable (or at its end, or in error).
        extra_ready: bool = false,
        /// poll was interrupted by a signal.
        interrupted: bool = false,
    };

    /// Waits up to `timeout_ms` (-1: forever) for the listener, the connections and `extra_fd`,
    /// then handles what is ready: accepts a connection, reads one frame per ready connection.
    pub fn step(self: *Host, timeout_ms: i32, extra_fd: ?sys.fd_t) Error!StepResult {
        var n: usize = 0;
        var extra_at: ?usize = null;
        var listener_at: ?usize = null;
        if (extra_fd) |fd| {
            self.pollfds[n] = .{ .fd = fd, .events = sys.POLL.IN, .revents = 0 };
            extra_at = n;
            n += 1;
        }
        if (self.listener) |l| {
            self.pollfds[n] = .{ .fd = l.fd, .events = sys.POLL.IN, .revents = 0 };
            listener_at = n;
            n += 1;
        }
        const first_conn = n;
        for (self.conns.items) |c| {
            if (n == self.pollfds.len) break;
            self.pollfds[n] = .{ .fd = c.conn.fd, .events = sys.POLL.IN, .revents = 0 };
            self.poll_ids[n] = c.id;
            n += 1;
        }
        const rc = sys.poll(self.pollfds.ptr, @intCast(n), timeout_ms);
        if (rc < 0) {
            if (sys.errno(rc) == .INTR) return .{ .interrupted = true };
            return error.Unexpected;
        }
        var result: StepResult = .{};
        if (rc == 0) return result;
        const ready_mask: i16 = sys.POLL.IN | sys.POLL.HUP | sys.POLL.ERR | sys.POLL.NVAL;
        if (extra_at) |i| result.extra_ready = self.pollfds[i].revents & ready_mask != 0;
        if (listener_at) |i| {
            if (self.pollfds[i].revents & ready_mask != 0) self.acceptOne();
        }
        for (first_conn..n) |i| {
            if (self.pollfds[i].revents & ready_mask == 0) continue;
            // Earlier handling may have closed this connection: look it up again.
            const c = self.connById(self.poll_ids[i]) orelse continue;
            self.readOne(c);
        }
        return result;
    }

    fn acceptOne(self: *Host) void {
        const l = if (self.listener) |*l| l else return;
        // poll said a connection waits: accept it (without waiting, in case it went away).
        const conn = l.accept(0) catch |err| {
            // Out of descriptors or memory: do not spin on a listener that stays readable.
            if (err != error.Timeout) {
                const pause: sys.timespec = .{ .sec = 0, .nsec = 50 * std.time.ns_per_ms };
                _ = sys.nanosleep(&pause, null);
            }
            return;
        };
        _ = self.adopt(conn, false) catch {};
    }

    /// Reads and handles one frame of `c`.
    fn readOne(self: *Host, c: *Conn) void {
        const frame = link.read(&c.conn, self.in_buf) catch |err| {
            self.remove(c, @errorName(err), describe(err));
            return;
        } orelse {
            self.remove(c, "Closed", "");
            return;
        };
        switch (frame) {
            .hello => |bundle| self.onHello(c, bundle),
            .envelope => |env| {
                const from = c.peer orelse return self.refuseConn(c, "MissingHello", "an ENVELOPE before the peer's HELLO");
                self.onEnvelope(c.id, from, env);
            },
            .close => |reason| self.remove(c, "PeerClosed", reason),
        }
    }

    fn onHello(self: *Host, c: *Conn, bundle: []const u8) void {
        if (c.peer != null) return self.refuseConn(c, "DuplicateHello", "a second HELLO");
        const id = self.agent.addBundle(bundle) catch |err| {
            const detail: []const u8 = if (err == error.InvalidArgument) "our own bundle" else @errorName(err);
            return self.refuseConn(c, "BadHello", detail);
        };
        const p = self.ensurePeer(&id) catch return self.refuseConn(c, "Internal", "out of memory");
        c.peer = id;
        self.handler.emit(.{ .hello = .{ .conn = c.id, .peer = id } });
        self.refreshState(&id);
        self.flushPending(p);
        self.flushOutbox() catch {};
    }

    /// Hands an envelope that came from `from` (the connection's HELLO; 0 for a kept one) to
    /// the agent and reports what it was.
    fn onEnvelope(self: *Host, conn: ConnId, from: dmp.AgentId, env: []const u8) void {
        var ev = self.agent.receive(env) catch |err| {
            const detail = dmp.lastErrorMessage();
            const kept = err == error.UnknownSender and self.keep(&from, env);
            self.handler.emit(.{ .refused = .{ .conn = conn, .peer = from, .err = err, .detail = detail, .kept = kept } });
            return;
        };
        defer ev.deinit();
        const peer = ev.peer() catch return;
        const kind = ev.kind() catch return;
        self.refreshState(&peer);
        switch (kind) {
            .message, .group_message => {
                const text = ev.plaintext(self.pt_buf) catch return;
                defer std.crypto.secureZero(u8, text);
                if (kind == .message) {
                    self.handler.emit(.{ .message = .{ .peer = peer, .text = text } });
                } else {
                    const group = ev.groupId() catch return;
                    self.handler.emit(.{ .group_message = .{ .group = group, .peer = peer, .text = text } });
                }
            },
            .distribution_consumed => {
                const group = ev.groupId() catch return;
                self.handler.emit(.{ .group_key = .{ .group = group, .peer = peer } });
            },
            .session_established => {},
            _ => self.handler.emit(.{ .other_event = .{ .peer = peer, .kind = @backingInt(kind) } }),
        }
        // A reply to an invitation (our sender key) may have joined the outbox.
        self.flushOutbox() catch {};
    }
};

/// A few words on a refusal, for people.
pub fn describe(err: anyerror) []const u8 {
    return switch (err) {
        error.FrameTooLarge => "length prefix above the maximum frame size",
        error.EmptyFrame => "zero length prefix",
        error.TruncatedFrame => "the connection ended inside a frame",
        error.Timeout => "a frame stalled past the read timeout",
        error.ConnectionReset => "the connection was reset",
        error.UnknownFrameKind => "unknown control frame kind",
        error.BadHello => "HELLO without a bundle, or too long",
        error.BadEnvelope => "ENVELOPE without an envelope, or too long",
        error.BadClose => "CLOSE reason too long",
        else => "",
    };
}
