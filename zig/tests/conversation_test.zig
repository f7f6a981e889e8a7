//! Two agents in one process, each in its own thread, talking over loopback TCP through the
//! L0 transport: 1,000 messages each way, then tampered, replayed, garbage, oversized and
//! truncated frames, each refused without a crash and without harming the session.

const std = @import("std");
const dmp = @import("dmp");
const transport = dmp.transport;
const testing = std.testing;

const messages_each_way = 1000;
const timeouts: transport.Options = .{ .read_timeout_ms = 20_000, .write_timeout_ms = 20_000 };

/// The plaintext of message `i` in one direction: a header and a filler of varying length.
fn makeMessage(buf: []u8, from: []const u8, i: usize) []u8 {
    const head = std.fmt.bufPrint(buf, "{s} #{d}|", .{ from, i }) catch unreachable;
    const filler = (i * 37) % 3000;
    for (buf[head.len..][0..filler], 0..) |*b, k| b.* = @truncate(i + k);
    return buf[0 .. head.len + filler];
}

/// How many messages Alice sends before waiting for Bob's replies, in round `r`.
fn batchSize(r: usize) usize {
    return 1 + r % 7;
}

const Bob = struct {
    identity: *dmp.Identity,
    listener: *transport.Listener,
    // Results, read by the main thread after join.
    received: usize = 0,
    sent: usize = 0,
    refusals: [16]anyerror = undefined,
    refusal_count: usize = 0,
    failure: ?anyerror = null,
    session_id: dmp.SessionId = undefined,
    final_state: dmp.SessionState = .dormant,

    fn refuse(self: *Bob, err: anyerror) void {
        if (self.refusal_count < self.refusals.len) self.refusals[self.refusal_count] = err;
        self.refusal_count += 1;
    }

    fn run(self: *Bob) void {
        self.serve() catch |err| {
            self.failure = err;
        };
    }

    fn serve(self: *Bob) !void {
        const frame_buf = try testing.allocator.alloc(u8, transport.default_max_frame_len);
        defer testing.allocator.free(frame_buf);
        const pt_buf = try testing.allocator.alloc(u8, transport.default_max_frame_len);
        defer testing.allocator.free(pt_buf);
        var env_buf: [8192]u8 = undefined;
        var want_buf: [4096]u8 = undefined;
        var reply_buf: [4096]u8 = undefined;

        var session: ?dmp.Session = null;
        defer if (session) |*s| s.deinit();

        // Serve connection after connection until Alice says goodbye.
        while (true) {
            var conn = try self.listener.accept(20_000);
            defer conn.close();
            while (true) {
                const frame = conn.readFrame(frame_buf) catch |err| {
                    // A refused frame: the transport closed this connection; wait for the next.
                    self.refuse(err);
                    break;
                } orelse break; // Alice closed cleanly.

                var plaintext: []u8 = undefined;
                if (session) |*s| {
                    plaintext = s.decrypt(frame, pt_buf) catch |err| {
                        self.refuse(err);
                        continue; // the session is unchanged: keep reading
                    };
                } else {
                    const acc = try dmp.Session.accept(self.identity, frame, pt_buf);
                    session = acc.session;
                    plaintext = acc.plaintext;
                    self.session_id = try acc.session.id();
                }
                const s = &session.?;

                if (std.mem.eql(u8, plaintext, "bye")) {
                    self.final_state = try s.state();
                    return;
                }
                if (std.mem.startsWith(u8, plaintext, "extra ")) {
                    self.received += 1;
                    continue;
                }
                // A numbered message: check it exactly, then answer it.
                const want = makeMessage(&want_buf, "alice->bob", self.received);
                if (!std.mem.eql(u8, want, plaintext)) return error.WrongPlaintext;
                self.received += 1;
                const reply = makeMessage(&reply_buf, "bob->alice", self.sent);
                const env = try s.encrypt(reply, &env_buf);
                try conn.writeFrame(env);
                self.sent += 1;
            }
        }
    }
};

const Alice = struct {
    identity: *dmp.Identity,
    bundle: []const u8,
    port: u16,
    sent: usize = 0,
    received: usize = 0,
    failure: ?anyerror = null,
    session_id: dmp.SessionId = undefined,
    final_state: dmp.SessionState = .dormant,

    fn run(self: *Alice) void {
        self.talk() catch |err| {
            self.failure = err;
        };
    }

    fn talk(self: *Alice) !void {
        var session = try dmp.Session.initiate(self.identity, self.bundle);
        defer session.deinit();
        self.session_id = try session.id();
        var env_buf: [8192]u8 = undefined;
        var msg_buf: [4096]u8 = undefined;
        var want_buf: [4096]u8 = undefined;
        var frame_buf: [8192]u8 = undefined;
        var pt_buf: [8192]u8 = undefined;

        var conn = try transport.Connection.dial(self.port, timeouts);
        defer conn.close();

        // 1. 1,000 messages each way, in batches of 1 to 7 (direction changes every batch:
        //    a DH ratchet step each time).
        var round: usize = 0;
        while (self.sent < messages_each_way) : (round += 1) {
            const batch = @min(batchSize(round), messages_each_way - self.sent);
            for (0..batch) |_| {
                const env = try session.encrypt(makeMessage(&msg_buf, "alice->bob", self.sent), &env_buf);
                try conn.writeFrame(env);
                self.sent += 1;
            }
            for (0..batch) |_| {
                const frame = (try conn.readFrame(&frame_buf)) orelse return error.UnexpectedClose;
                const pt = try session.decrypt(frame, &pt_buf);
                const want = makeMessage(&want_buf, "bob->alice", self.received);
                if (!std.mem.eql(u8, want, pt)) return error.WrongPlaintext;
                self.received += 1;
            }
        }
        self.final_state = try session.state();

        // 2. A tampered envelope (refused: AuthFailed), then the genuine one (accepted: the
        //    refusal changed nothing), then a replay of it (refused: Duplicate).
        const genuine = try session.encrypt("extra genuine", &env_buf);
        var tampered: [8192]u8 = undefined;
        @memcpy(tampered[0..genuine.len], genuine);
        tampered[genuine.len - 1] ^= 0x40;
        try conn.writeFrame(tampered[0..genuine.len]);
        try conn.writeFrame(genuine);
        try conn.writeFrame(genuine);

        // 3. Garbage that is well framed: refused by the session (its first byte is no version).
        try conn.writeFrame("this is not an envelope at all");

        // 4. An oversized length prefix: refused by the transport, which closes the connection.
        var header: [4]u8 = undefined;
        std.mem.writeInt(u32, &header, transport.default_max_frame_len + 1, .big);
        try sendRaw(&conn, &header);
        // Wait for Bob to close it (an orderly end or a reset, never a crash).
        if (conn.readFrame(&frame_buf)) |f| {
            if (f != null) return error.UnexpectedFrame;
        } else |err| if (err != error.ConnectionReset) return err;
        conn.close();

        // 5. A new connection with a truncated frame, then closed mid-frame.
        var conn2 = try transport.Connection.dial(self.port, timeouts);
        std.mem.writeInt(u32, &header, 500, .big);
        try sendRaw(&conn2, &header);
        try sendRaw(&conn2, "only a few bytes of the promised 500");
        conn2.close();

        // 6. The session outlives connections: a third one carries on, then says goodbye.
        var conn3 = try transport.Connection.dial(self.port, timeouts);
        defer conn3.close();
        try conn3.writeFrame(try session.encrypt("extra after reconnecting", &env_buf));
        try conn3.writeFrame(try session.encrypt("bye", &env_buf));
    }
};

fn sendRaw(conn: *transport.Connection, bytes: []const u8) !void {
    const rc = std.c.send(conn.fd, bytes.ptr, bytes.len, std.c.MSG.NOSIGNAL);
    if (rc != @as(isize, @intCast(bytes.len))) return error.SendFailed;
}

test "conversation: two sessions, two threads, 1,000 messages each way over loopback TCP" {
    var alice_id = try dmp.Identity.generate();
    defer alice_id.deinit();
    var bob_id = try dmp.Identity.generate();
    defer bob_id.deinit();
    var bundle_buf: [dmp.bundle_max_len]u8 = undefined;
    const bundle = try bob_id.bundle(true, &bundle_buf);

    var listener = try transport.Listener.listen(.{ .connection = timeouts });
    defer listener.deinit();

    var bob: Bob = .{ .identity = &bob_id, .listener = &listener };
    var alice: Alice = .{ .identity = &alice_id, .bundle = bundle, .port = listener.port };
    const bob_thread = try std.Thread.spawn(.{}, Bob.run, .{&bob});
    const alice_thread = try std.Thread.spawn(.{}, Alice.run, .{&alice});
    alice_thread.join();
    bob_thread.join();

    if (alice.failure) |err| {
        std.debug.print("alice failed: {s}\n", .{@errorName(err)});
        return err;
    }
    if (bob.failure) |err| {
        std.debug.print("bob failed: {s}\n", .{@errorName(err)});
        return err;
    }
    try testing.expectEqual(@as(usize, messages_each_way), alice.sent);
    try testing.expectEqual(@as(usize, messages_each_way), alice.received);
    try testing.expectEqual(@as(usize, messages_each_way), bob.sent);
    // 1,000 numbered messages, the genuine extra one, and the one after reconnecting.
    try testing.expectEqual(@as(usize, messages_each_way + 2), bob.received);
    try testing.expectEqualSlices(u8, &alice.session_id, &bob.session_id);
    try testing.expectEqual(dmp.SessionState.active, alice.final_state);
    try testing.expectEqual(dmp.SessionState.active, bob.final_state);

    // Exactly the refusals expected, in order.
    try testing.expectEqual(@as(usize, 5), bob.refusal_count);
    try testing.expectEqual(@as(anyerror, error.AuthFailed), bob.refusals[0]);
    try testing.expectEqual(@as(anyerror, error.Duplicate), bob.refusals[1]);
    try testing.expectEqual(@as(anyerror, error.UnsupportedVersion), bob.refusals[2]); // "t" is no DMP version
    try testing.expectEqual(@as(anyerror, error.FrameTooLarge), bob.refusals[3]);
    try testing.expectEqual(@as(anyerror, error.TruncatedFrame), bob.refusals[4]);
}
