//! The L0 TCP transport: framing, limits, timeouts, refusals, clean close.

const std = @import("std");
const dmp = @import("dmp");
const common = @import("common.zig");
const transport = dmp.transport;
const testing = std.testing;
const sys = std.c;

const expect = testing.expect;
const expectEqual = testing.expectEqual;
const expectError = testing.expectError;

/// A connected client/server pair on loopback.
const Link = struct {
    listener: transport.Listener,
    client: transport.Connection,
    server: transport.Connection,

    fn init(options: transport.Options) !Link {
        var listener = try transport.Listener.listen(.{ .connection = options });
        errdefer listener.deinit();
        try expect(listener.port != 0);
        var client = try transport.Connection.dial(listener.port, options);
        errdefer client.close();
        const server = try listener.accept(5_000);
        return .{ .listener = listener, .client = client, .server = server };
    }

    fn deinit(self: *Link) void {
        self.client.close();
        self.server.close();
        self.listener.deinit();
    }
};

/// Bytes straight onto the socket, bypassing the framing (to forge bad frames).
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

test "transport: listen on port 0 reports the port; frames of many sizes round trip; clean close" {
    var link = try Link.init(.{});
    defer link.deinit();

    const buf = try testing.allocator.alloc(u8, transport.default_max_frame_len);
    defer testing.allocator.free(buf);
    const payload = try testing.allocator.alloc(u8, transport.default_max_frame_len);
    defer testing.allocator.free(payload);
    try dmp.randomBytes(payload);

    // Sizes around the one-segment threshold, and the maximum. The reader runs in a thread so
    // that large frames do not have to fit in the socket buffers.
    const lens = [_]usize{ 1, 2, 100, 4091, 4092, 4093, 65_536, 200_000, transport.default_max_frame_len };
    const Reader = struct {
        fn run(conn: *transport.Connection, out: []u8, expected: []const u8, ok: *bool) void {
            ok.* = false;
            for (lens) |n| {
                const frame = (conn.readFrame(out) catch return) orelse return;
                if (!std.mem.eql(u8, frame, expected[0..n])) return;
            }
            ok.* = true;
        }
    };
    var ok = false;
    const t = try std.Thread.spawn(.{}, Reader.run, .{ &link.server, buf, payload, &ok });
    for (lens) |n| try link.client.writeFrame(payload[0..n]);
    t.join();
    try expect(ok);

    // The other direction, and an allocated read.
    try link.server.writeFrame("pong");
    const got = (try link.client.readFrameAlloc(testing.allocator)).?;
    defer testing.allocator.free(got);
    try testing.expectEqualStrings("pong", got);

    // A clean close between frames reads as null, then the connection is closed.
    link.client.close();
    try expectEqual(@as(?[]u8, null), try link.server.readFrame(buf));
    try expect(!link.server.isOpen());
    try expectError(error.ConnectionClosed, link.server.readFrame(buf));
    try expectError(error.ConnectionClosed, link.server.writeFrame("x"));
    try expectError(error.ConnectionClosed, link.client.writeFrame("x"));
    link.client.close(); // idempotent
}

test "transport: an oversized length prefix is refused and the connection closed" {
    var link = try Link.init(.{ .max_frame_len = 1024 });
    defer link.deinit();
    var buf: [2048]u8 = undefined;
    try rawSend(&link.client, &header(1025));
    try rawSend(&link.client, "some bytes that follow");
    try expectError(error.FrameTooLarge, link.server.readFrame(&buf));
    try expect(!link.server.isOpen());
    // The peer sees the connection end (an orderly end or a reset, never a crash).
    if (link.client.readFrame(&buf)) |f| try expectEqual(@as(?[]u8, null), f) else |err| try expectEqual(error.ConnectionReset, err);

    // The largest u32 too, without allocating it.
    var link2 = try Link.init(.{});
    defer link2.deinit();
    try rawSend(&link2.client, &header(std.math.maxInt(u32)));
    try expectError(error.FrameTooLarge, link2.server.readFrameAlloc(testing.allocator));
    try expect(!link2.server.isOpen());
}

test "transport: a frame larger than the caller's buffer is refused" {
    var link = try Link.init(.{});
    defer link.deinit();
    var small: [16]u8 = undefined;
    try link.client.writeFrame("seventeen bytes!!");
    try expectError(error.FrameTooLarge, link.server.readFrame(&small));
    try expect(!link.server.isOpen());
}

test "transport: an empty frame is refused" {
    var link = try Link.init(.{});
    defer link.deinit();
    var buf: [64]u8 = undefined;
    try rawSend(&link.client, &header(0));
    try expectError(error.EmptyFrame, link.server.readFrame(&buf));
    try expect(!link.server.isOpen());
}

test "transport: truncated frames (peer closes mid-frame) are refused" {
    var buf: [256]u8 = undefined;
    {
        // Payload cut short.
        var link = try Link.init(.{});
        defer link.deinit();
        try rawSend(&link.client, &header(100));
        try rawSend(&link.client, "only ten b");
        link.client.close();
        try expectError(error.TruncatedFrame, link.server.readFrame(&buf));
        try expect(!link.server.isOpen());
    }
    {
        // Length prefix cut short.
        var link = try Link.init(.{});
        defer link.deinit();
        try rawSend(&link.client, &[_]u8{ 0, 0 });
        link.client.close();
        try expectError(error.TruncatedFrame, link.server.readFrame(&buf));
        try expect(!link.server.isOpen());
    }
    {
        // A good frame, then a truncated one: the good one is delivered first.
        var link = try Link.init(.{});
        defer link.deinit();
        try link.client.writeFrame("complete");
        try rawSend(&link.client, &header(50));
        try rawSend(&link.client, "partial");
        link.client.close();
        try testing.expectEqualStrings("complete", (try link.server.readFrame(&buf)).?);
        try expectError(error.TruncatedFrame, link.server.readFrame(&buf));
    }
}

test "transport: timeouts; a stalled frame closes, an idle wait does not" {
    var link = try Link.init(.{ .read_timeout_ms = 150 });
    defer link.deinit();
    var buf: [256]u8 = undefined;

    // Nothing sent: a timeout, the connection stays usable.
    try expectError(error.Timeout, link.server.readFrame(&buf));
    try expect(link.server.isOpen());
    try link.client.writeFrame("late but fine");
    try testing.expectEqualStrings("late but fine", (try link.server.readFrame(&buf)).?);

    // A frame that starts and stalls: a timeout, and the connection is closed.
    try rawSend(&link.client, &header(100));
    try rawSend(&link.client, "stall");
    try expectError(error.Timeout, link.server.readFrame(&buf));
    try expect(!link.server.isOpen());

    // Accept with a timeout.
    try expectError(error.Timeout, link.listener.accept(100));
}

test "transport: write timeout when the peer does not read" {
    var link = try Link.init(.{ .write_timeout_ms = 200 });
    defer link.deinit();
    const big = try testing.allocator.alloc(u8, 1 << 20);
    defer testing.allocator.free(big);
    @memset(big, 0x5a);
    // The server never reads: the socket buffers fill and a write must time out.
    var i: usize = 0;
    const err = while (i < 256) : (i += 1) {
        link.client.writeFrame(big) catch |e| break e;
    } else return error.TestUnexpectedResult;
    try expectEqual(error.Timeout, err);
    try expect(!link.client.isOpen());
}

test "transport: refusals before sending leave the connection open" {
    var link = try Link.init(.{ .max_frame_len = 8 });
    defer link.deinit();
    try expectError(error.EmptyFrame, link.client.writeFrame(""));
    try expectError(error.FrameTooLarge, link.client.writeFrame("nine bytes"));
    try expect(link.client.isOpen());
    try link.client.writeFrame("eight b!");
    var buf: [8]u8 = undefined;
    try testing.expectEqualStrings("eight b!", (try link.server.readFrame(&buf)).?);
}

test "transport: dialing a closed port is refused; writing to a gone peer is an error, not SIGPIPE" {
    var listener = try transport.Listener.listen(.{});
    const port = listener.port;
    listener.deinit();
    listener.deinit(); // idempotent
    try expectError(error.ConnectionRefused, transport.Connection.dial(port, .{}));
    try expectError(error.ConnectionClosed, listener.accept(10));

    var link = try Link.init(.{});
    defer link.deinit();
    link.server.close();
    var i: usize = 0;
    const err = while (i < 1000) : (i += 1) {
        link.client.writeFrame("anyone there?") catch |e| break e;
    } else return error.TestUnexpectedResult;
    try expectEqual(error.ConnectionReset, err);
}

test "transport: two listeners get different ports" {
    var a = try transport.Listener.listen(.{});
    defer a.deinit();
    var b = try transport.Listener.listen(.{});
    defer b.deinit();
    try expect(a.port != b.port);
    try expectError(error.AddressInUse, transport.Listener.listen(.{ .port = a.port }));
}

test "transport + session: garbage frames are refused by the session, which stays intact" {
    var p = try common.Pair.init();
    defer p.deinit();
    var link = try Link.init(.{});
    defer link.deinit();

    var rng_state: [8]u8 = undefined;
    try dmp.randomBytes(&rng_state);
    var prng = std.Random.DefaultPrng.init(std.mem.readInt(u64, &rng_state, .little));
    const rnd = prng.random();

    var frame: [2048]u8 = undefined;
    var pt: [2048]u8 = undefined;
    var refused: usize = 0;
    for (0..500) |i| {
        const len = rnd.intRangeAtMost(usize, 1, frame.len);
        rnd.bytes(frame[0..len]);
        // Half of them start like a real envelope (version and type bytes of one).
        if (i % 2 == 0 and len > 2) {
            var real: [256]u8 = undefined;
            const env = try p.a.encryptAlloc(testing.allocator, "x");
            defer testing.allocator.free(env);
            @memcpy(real[0..2], env[0..2]);
            @memcpy(frame[0..2], real[0..2]);
        }
        try link.client.writeFrame(frame[0..len]);
        const got = (try link.server.readFrame(&pt)).?;
        var out: [2048]u8 = undefined;
        if (p.b.decrypt(got, &out)) |_| return error.TestUnexpectedResult else |_| refused += 1;
    }
    try expectEqual(@as(usize, 500), refused);
    // The session was not changed by any of them... but the messages Alice encrypted above
    // advanced her chain: Bob still decrypts the next one (skipping over the unsent ones).
    const env = try p.a.encryptAlloc(testing.allocator, "still works");
    defer testing.allocator.free(env);
    try link.client.writeFrame(env);
    const got = (try link.server.readFrame(&pt)).?;
    var out: [2048]u8 = undefined;
    try testing.expectEqualStrings("still works", try p.b.decrypt(got, &out));
}

test "transport: accept with a zero timeout takes a waiting connection, and times out without one" {
    var listener = try transport.Listener.listen(.{});
    defer listener.deinit();
    try expectError(error.Timeout, listener.accept(0));
    var client = try transport.Connection.dial(listener.port, .{});
    defer client.close();
    // The connection is queued by the kernel as soon as dial returns.
    var server = try listener.accept(0);
    defer server.close();
    try client.writeFrame("ready");
    var buf: [16]u8 = undefined;
    try testing.expectEqualStrings("ready", (try server.readFrame(&buf)).?);
}
