//! The agent family: many sessions and groups behind one identity, persisted in a store; the
//! outbox's numbered entries, strangers and accepted peers, closing and forgetting, signatures.

const std = @import("std");
const dmp = @import("dmp");
const common = @import("common.zig");
const c = dmp.c;
const testing = std.testing;

const expect = testing.expect;
const expectEqual = testing.expectEqual;
const expectError = testing.expectError;
const expectEqualSlices = testing.expectEqualSlices;
const expectEqualStrings = testing.expectEqualStrings;

/// A unique store path under /tmp, removed (with SQLite's side files) by `cleanup`.
const TempPath = struct {
    buf: [96]u8 = undefined,
    len: usize = 0,

    fn init() !TempPath {
        var t: TempPath = .{};
        var r: [8]u8 = undefined;
        try dmp.randomBytes(&r);
        const s = try std.mem.print(&t.buf, "/tmp/dmp-zig-agent-{x}.db", .{std.mem.readInt(u64, &r, .little)});
        t.len = s.len;
        return t;
    }

    fn path(self: *const TempPath) []const u8 {
        return self.buf[0..self.len];
    }

    fn cleanup(self: *const TempPath) void {
        for ([_][]const u8{ "", "-wal", "-shm", "-journal", ".lock" }) |suffix| {
            var z: [128]u8 = undefined;
            const name = std.mem.printSentinel(&z, "{s}{s}", .{ self.path(), suffix }, 0) catch continue;
            _ = std.c.unlink(name);
        }
    }
};

fn inMemory(options: dmp.AgentOptions) !dmp.Agent {
    return dmp.Agent.open("", &(try common.randomKey()), options);
}

/// Alice knows Bob's bundle.
fn introduce(alice: *dmp.Agent, bob: *dmp.Agent) !dmp.AgentId {
    var buf: [dmp.bundle_max_len]u8 = undefined;
    const bundle = try bob.bundle(true, &buf);
    const id = try alice.addBundle(bundle);
    try expectEqualSlices(u8, &(try bob.id()), &id);
    return id;
}

test "agent: two in-memory agents talk; events; peers; session state" {
    var alice = try inMemory(.{});
    defer alice.deinit();
    var bob = try inMemory(.{});
    defer bob.deinit();
    const alice_id = try alice.id();
    const bob_id = try introduce(&alice, &bob);
    try expectEqualSlices(u8, &(try dmp.fingerprint(&bob_id)), &(try bob.fingerprint()));
    try expectEqual(@as(usize, c.DMP_BUNDLE_MAX_LEN), try bob.bundleLen(true));

    try expectError(error.NoSession, bob.sessionState(&alice_id));
    // A first send into a too-small buffer creates no session.
    var small: [16]u8 = undefined;
    try expectError(error.BufferTooSmall, alice.send(&bob_id, "hi bob", &small));
    try expectError(error.NoSession, alice.sessionState(&bob_id));
    const env = try alice.sendAlloc(testing.allocator, &bob_id, "hi bob");
    defer testing.allocator.free(env);
    try expectEqual(dmp.SessionState.initiating, try alice.sessionState(&bob_id));

    var ev = try bob.receive(env);
    defer ev.deinit();
    try expectEqual(dmp.EventKind.message, try ev.kind());
    try expectEqualSlices(u8, &alice_id, &(try ev.peer()));
    try expectEqual(@as(usize, 6), try ev.plaintextLen());
    var pt: [64]u8 = undefined;
    try expectEqualStrings("hi bob", try ev.plaintext(&pt));
    const seq = try ev.seq();
    try expect(seq.new_session);
    try expectError(error.WrongState, ev.groupId());
    var tiny: [2]u8 = undefined;
    try expectError(error.BufferTooSmall, ev.plaintext(&tiny));

    var out: [8192]u8 = undefined;
    const reply = try bob.send(&alice_id, "hi alice", &out);
    var ev2 = try alice.receive(reply);
    defer ev2.deinit();
    const got = try ev2.plaintextAlloc(testing.allocator);
    defer testing.allocator.free(got);
    try expectEqualStrings("hi alice", got);
    try expect(!(try ev2.seq()).new_session);
    try expectEqual(dmp.SessionState.active, try alice.sessionState(&bob_id));

    var ids: [4]dmp.AgentId = undefined;
    const peers = try alice.peers(&ids);
    try expectEqual(@as(usize, 1), peers.len);
    try expectEqualSlices(u8, &bob_id, &peers[0]);
    const peers2 = try bob.peersAlloc(testing.allocator);
    defer testing.allocator.free(peers2);
    try expectEqualSlices(u8, &alice_id, &peers2[0]);

    // Replays, garbage and empty input are refused; nothing changes.
    try expectError(error.Duplicate, alice.receive(reply));
    if (bob.receive("garbage")) |e| {
        var ee = e;
        ee.deinit();
        return error.TestUnexpectedResult;
    } else |_| {}
    if (bob.receive("")) |e| {
        var ee = e;
        ee.deinit();
        return error.TestUnexpectedResult;
    } else |err| try expect(err == error.BadEnvelope or err == error.NullPointer);

    // Without a bundle there is no session to send on.
    var carol = try inMemory(.{});
    defer carol.deinit();
    const carol_id = try carol.id();
    try expectError(error.NoSession, alice.send(&carol_id, "x", &out));
    try expectError(error.BufferTooSmall, alice.send(&bob_id, "x", &tiny));

    try alice.maintain(1_800_000_000);
    // Still talking after upkeep.
    const after = try alice.send(&bob_id, "after maintain", &out);
    var ev3 = try bob.receive(after);
    ev3.deinit();
}

test "agent: connect without a message" {
    var alice = try inMemory(.{});
    defer alice.deinit();
    var bob = try inMemory(.{});
    defer bob.deinit();
    const bob_id = try introduce(&alice, &bob);
    const env = try alice.connectAlloc(testing.allocator, &bob_id);
    defer testing.allocator.free(env);
    var ev = try bob.receive(env);
    defer ev.deinit();
    try expectEqual(dmp.EventKind.session_established, try ev.kind());
    try expectEqual(@as(usize, 0), try ev.plaintextLen());
}

test "agent: groups through the outbox" {
    var a = try inMemory(.{});
    defer a.deinit();
    var b = try inMemory(.{});
    defer b.deinit();
    var out: [8192]u8 = undefined;
    const b_id = try introduce(&a, &b);
    // A session first (the sender key travels inside it).
    var e0 = try b.receive(try a.send(&b_id, "hello", &out));
    e0.deinit();
    const a_id = try a.id();

    const gid = try a.groupCreate();
    try expectEqual(@as(usize, 0), try a.outboxCount());
    try expectError(error.WrongState, a.outboxNext(&out));
    try a.groupAdd(&gid, &b_id);
    try expectError(error.InvalidArgument, a.groupAdd(&gid, &b_id));
    var unknown_gid = gid;
    unknown_gid[0] ^= 1;
    try expectError(error.WrongSession, a.groupAdd(&unknown_gid, &b_id));
    try expectEqual(@as(usize, 1), try a.outboxCount());

    const item = try a.outboxNextAlloc(testing.allocator);
    defer testing.allocator.free(item.envelope);
    try expectEqualSlices(u8, &b_id, &item.peer);
    var ev = try b.receive(item.envelope);
    try expectEqual(dmp.EventKind.distribution_consumed, try ev.kind());
    try expectEqualSlices(u8, &gid, &(try ev.groupId()));
    try expect(try ev.newGroup()); // B did not hold the group: an invitation
    ev.deinit();
    try a.outboxDone(item.seq);
    try expectEqual(@as(usize, 0), try a.outboxCount());
    try a.outboxDone(item.seq); // already removed: fine
    try expectError(error.InvalidArgument, a.outboxDone(item.seq + 1)); // never given

    var members: [2]dmp.AgentId = undefined;
    try expectEqual(@as(usize, 1), (try a.groupMembers(&gid, &members)).len);
    const ms = try a.groupMembersAlloc(testing.allocator, &gid);
    defer testing.allocator.free(ms);
    try expectEqualSlices(u8, &b_id, &ms[0]);

    const gm = try a.groupSend(&gid, "to the group", &out);
    var gev = try b.receive(gm);
    defer gev.deinit();
    try expectEqual(dmp.EventKind.group_message, try gev.kind());
    try expectEqualSlices(u8, &a_id, &(try gev.peer()));
    try expectEqualSlices(u8, &gid, &(try gev.groupId()));
    var pt: [64]u8 = undefined;
    try expectEqualStrings("to the group", try gev.plaintext(&pt));
    const gm2 = try a.groupSendAlloc(testing.allocator, &gid, "again");
    defer testing.allocator.free(gm2);
    var gev2 = try b.receive(gm2);
    gev2.deinit();

    // B leaves: the group is gone there, and A's messages to it are for no group B holds.
    try b.groupLeave(&gid);
    try expectError(error.WrongSession, b.groupLeave(&gid));
    try expectError(error.WrongSession, b.receive(try a.groupSend(&gid, "after leaving", &out)));

    try a.groupRemove(&gid, &b_id);
    try expectError(error.UnknownSender, a.groupRemove(&gid, &b_id));
    try expectEqual(@as(usize, 0), (try a.groupMembers(&gid, &members)).len);
    try expectError(error.WrongSession, a.groupSend(&unknown_gid, "x", &out));
}

/// A's outbox holds its sender key for B, then for C.
fn twoOutboxEntries(a: *dmp.Agent, b: *dmp.Agent, cc: *dmp.Agent) !void {
    const b_id = try introduce(a, b);
    const c_id = try introduce(a, cc);
    const gid = try a.groupCreate();
    try a.groupAdd(&gid, &b_id);
    try a.groupAdd(&gid, &c_id);
}

test "agent: outboxDone(seq) forgets exactly the entry it names" {
    var a = try inMemory(.{});
    defer a.deinit();
    var b = try inMemory(.{});
    defer b.deinit();
    var cc = try inMemory(.{});
    defer cc.deinit();
    try twoOutboxEntries(&a, &b, &cc);
    var out: [8192]u8 = undefined;
    var small: [8]u8 = undefined;
    try expectError(error.BufferTooSmall, a.outboxNext(&small));
    const first = try a.outboxNextAlloc(testing.allocator);
    defer testing.allocator.free(first.envelope);
    try expectEqualSlices(u8, &(try b.id()), &first.peer);
    // Two threads drain: both read the first entry; one sent the second (one agent numbers its
    // entries consecutively) and marks it done first. The first, not sent yet, stays.
    try a.outboxDone(first.seq + 1);
    try expectEqual(@as(usize, 1), try a.outboxCount());
    const again = try a.outboxNext(&out);
    try expectEqual(first.seq, again.seq);
    try expectEqualSlices(u8, &first.peer, &again.peer);
    try expectEqualSlices(u8, first.envelope, again.envelope);
    try a.outboxDone(first.seq + 1); // done twice: fine
    try expectError(error.InvalidArgument, a.outboxDone(first.seq + 2));
    try expectError(error.InvalidArgument, a.outboxDone(std.math.maxInt(u64)));
    try expectEqual(@as(usize, 1), try a.outboxCount());
    var ev = try b.receive(first.envelope);
    ev.deinit();
    try a.outboxDone(first.seq);
    try expectError(error.WrongState, a.outboxNext(&out));
}

test "agent: sign verifies under the agent id; messages beginning with DMP are refused" {
    var a = try inMemory(.{});
    defer a.deinit();
    const a_id = try a.id();
    const sig = try a.sign("I, agent A, agree");
    try dmp.ed25519.verify(&a_id, "I, agent A, agree", &sig);
    try expectError(error.BadSignature, dmp.ed25519.verify(&a_id, "I, agent A, agree!", &sig));
    const empty = try a.sign("");
    try dmp.ed25519.verify(&a_id, "", &empty);
    for ([_][]const u8{ "DMP", "DMP1 bundle", "DMPx" }) |reserved| {
        try expectError(error.InvalidArgument, a.sign(reserved));
    }
}

test "agent: a stranger is accepted by acceptPeer or by a reply" {
    var a = try inMemory(.{});
    defer a.deinit();
    var b = try inMemory(.{});
    defer b.deinit();
    var cc = try inMemory(.{});
    defer cc.deinit();
    const a_id = try a.id();
    const c_id = try cc.id();
    var out: [8192]u8 = undefined;
    const b_id = try introduce(&a, &b);
    try expect(try a.isAccepted(&b_id)); // adding a bundle accepts
    var ev = try b.receive(try a.send(&b_id, "hello from a stranger", &out));
    ev.deinit();
    try expect(!(try b.isAccepted(&a_id)));
    try b.acceptPeer(&a_id);
    try expect(try b.isAccepted(&a_id));
    try b.acceptPeer(&a_id); // again: nothing to do

    _ = try introduce(&cc, &b);
    ev = try b.receive(try cc.send(&b_id, "me too", &out));
    ev.deinit();
    try expect(!(try b.isAccepted(&c_id)));
    _ = try b.send(&c_id, "answered", &out); // sending accepts
    try expect(try b.isAccepted(&c_id));

    try expectError(error.NoSession, a.isAccepted(&c_id));
    try expectError(error.NoSession, a.acceptPeer(&c_id));
}

test "agent: closeSession then send starts a new session; forgetPeer forgets the bundle too" {
    var a = try inMemory(.{});
    defer a.deinit();
    var b = try inMemory(.{});
    defer b.deinit();
    const a_id = try a.id();
    var out: [8192]u8 = undefined;
    var bbuf: [dmp.bundle_max_len]u8 = undefined;
    // A bundle without a one-time prekey: it can start a second session.
    const b_id = try a.addBundle(try b.bundle(false, &bbuf));
    var ev = try b.receive(try a.send(&b_id, "hi", &out));
    ev.deinit();
    ev = try a.receive(try b.send(&a_id, "hello", &out));
    ev.deinit();
    try expectEqual(dmp.SessionState.active, try a.sessionState(&b_id));

    try a.closeSession(&b_id);
    try expectError(error.NoSession, a.sessionState(&b_id));
    try expectError(error.NoSession, a.closeSession(&b_id)); // nothing left to close
    try expect(try a.isAccepted(&b_id)); // still known, with its bundle
    ev = try b.receive(try a.send(&b_id, "a new session", &out));
    try expect((try ev.seq()).new_session);
    ev.deinit();
    try expectEqual(dmp.SessionState.initiating, try a.sessionState(&b_id));

    try a.forgetPeer(&b_id);
    var ids: [2]dmp.AgentId = undefined;
    try expectEqual(@as(usize, 0), (try a.peers(&ids)).len);
    try expectError(error.NoSession, a.send(&b_id, "x", &out)); // no bundle either
    try expectError(error.NoSession, a.forgetPeer(&b_id));
    try expectError(error.NoSession, a.isAccepted(&b_id));
    try expectError(error.NoSession, a.closeSession(&b_id));
    _ = try introduce(&a, &b);
    ev = try b.receive(try a.send(&b_id, "back", &out));
    ev.deinit();
}

test "agent: unanswered peers are those we wrote to first without reply" {
    var a = try inMemory(.{});
    defer a.deinit();
    var b = try inMemory(.{});
    defer b.deinit();
    var cc = try inMemory(.{});
    defer cc.deinit();
    const a_id = try a.id();
    var out: [8192]u8 = undefined;
    const b_id = try introduce(&a, &b);
    const c_id = try introduce(&a, &cc);
    const to_b = try a.sendAlloc(testing.allocator, &b_id, "anyone there?");
    defer testing.allocator.free(to_b);
    _ = try a.send(&c_id, "and you?", &out);
    var ts: std.c.timespec = undefined;
    try expectEqual(@as(c_int, 0), std.c.clock_gettime(.REALTIME, &ts));
    const now: u64 = @intCast(ts.sec);
    const later = now + 15 * 24 * 3600; // beyond the default 14 days
    var ids: [2]dmp.AgentId = undefined;
    try expectEqual(@as(usize, 0), (try a.unansweredPeers(now, &ids)).len);
    var one: [1]dmp.AgentId = undefined;
    try expectError(error.BufferTooSmall, a.unansweredPeers(later, &one));
    const both = try a.unansweredPeersAlloc(testing.allocator, later);
    defer testing.allocator.free(both);
    try expectEqual(@as(usize, 2), both.len);
    try expect(std.mem.order(u8, &both[0], &both[1]) == .lt); // in id order
    var ev = try b.receive(to_b);
    ev.deinit();
    ev = try a.receive(try b.send(&a_id, "here", &out));
    ev.deinit();
    const left = try a.unansweredPeers(later, &ids);
    try expectEqual(@as(usize, 1), left.len);
    try expectEqualSlices(u8, &c_id, &left[0]);
    try expectEqual(@as(usize, 0), (try b.unansweredPeers(later, &ids)).len);
}

test "agent: retained events are kept until acknowledged" {
    var alice = try inMemory(.{});
    defer alice.deinit();
    var bob = try inMemory(.{ .retain_events = true });
    defer bob.deinit();
    const bob_id = try introduce(&alice, &bob);
    var out: [8192]u8 = undefined;
    for ([_][]const u8{ "one", "two" }) |m| {
        var ev = try bob.receive(try alice.send(&bob_id, m, &out));
        ev.deinit();
    }
    try expectEqual(@as(usize, 2), try bob.pendingCount());
    var first = try bob.pendingEvent(0);
    defer first.deinit();
    var pt: [16]u8 = undefined;
    try expectEqualStrings("one", try first.plaintext(&pt));
    try expectError(error.InvalidArgument, bob.pendingEvent(2));
    try bob.ack((try first.seq()).seq);
    try expectEqual(@as(usize, 1), try bob.pendingCount());
    try expectError(error.InvalidArgument, bob.ack((try first.seq()).seq));
    // Without the flag nothing is retained.
    try expectEqual(@as(usize, 0), try alice.pendingCount());
}

test "agent: a store persists, is locked while open, and needs its key" {
    const tmp = try TempPath.init();
    defer tmp.cleanup();
    const key = try common.randomKey();
    const seed: [32]u8 = @splat(42);

    var peer = try inMemory(.{});
    defer peer.deinit();
    const peer_id = try peer.id();
    var out: [8192]u8 = undefined;

    var id: dmp.AgentId = undefined;
    var first_env: []u8 = undefined;
    {
        var agent = try dmp.Agent.openWithSeed(tmp.path(), &key, &seed, .{});
        defer agent.deinit();
        id = try agent.id();
        try expectError(error.StoreLocked, dmp.Agent.open(tmp.path(), &key, .{}));
        _ = try introduce(&agent, &peer);
        first_env = try agent.send(&peer_id, "before restart", &out);
    }
    var ev = try peer.receive(first_env);
    ev.deinit();
    {
        const wrong = try common.randomKey();
        try expectError(error.WrongStorageKey, dmp.Agent.open(tmp.path(), &wrong, .{}));
        const other_seed: [32]u8 = @splat(43);
        try expectError(error.InvalidArgument, dmp.Agent.openWithSeed(tmp.path(), &key, &other_seed, .{}));
        var agent = try dmp.Agent.open(tmp.path(), &key, .{});
        defer agent.deinit();
        try expectEqualSlices(u8, &id, &(try agent.id()));
        // The session survived: the peer's reply decrypts.
        const reply = try peer.send(&id, "after restart", &out);
        var ev2 = try agent.receive(reply);
        defer ev2.deinit();
        var pt: [32]u8 = undefined;
        try expectEqualStrings("after restart", try ev2.plaintext(&pt));
    }
}

test "agent: flags" {
    const key = try common.randomKey();
    var all = try dmp.Agent.open("", &key, .{ .retain_events = true, .refuse_group_invites = true, .allow_classical = true });
    all.deinit();
    var h: ?*c.dmp_agent_t = null;
    try expectError(error.InvalidArgument, dmp.check(c.dmp_agent_open(null, 0, &key, 8, &h)));
    try expectEqual(@as(?*c.dmp_agent_t, null), h);
    try expectError(error.NullPointer, dmp.check(c.dmp_agent_open(null, 0, null, 0, &h)));
}

test "agent: a file that is not a store is refused" {
    const tmp = try TempPath.init();
    defer tmp.cleanup();
    var z: [128]u8 = undefined;
    const name = try std.mem.printSentinel(&z, "{s}", .{tmp.path()}, 0);
    const fd = std.c.open(name, .{ .ACCMODE = .WRONLY, .CREAT = true, .TRUNC = true }, @as(std.c.mode_t, 0o600));
    try expect(fd >= 0);
    _ = std.c.write(fd, "this is not a database, only text that goes on for a while....", 63);
    _ = std.c.close(fd);
    if (dmp.Agent.open(tmp.path(), &(try common.randomKey()), .{})) |a| {
        var aa = a;
        aa.deinit();
        return error.TestUnexpectedResult;
    } else |err| try expect(err == error.StoreFailed or err == error.BadState or err == error.WrongStorageKey);
}
