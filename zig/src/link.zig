//! The control layer that `dmp-node` and `dmp.Host` speak on top of `dmp.transport`.
//!
//! Every transport frame (u32 big-endian length, then that many bytes) carries one control frame:
//! a one-byte kind, then its body.
//!
//! | kind | name     | body                                                                  |
//! |------|----------|-----------------------------------------------------------------------|
//! | 0x01 | HELLO    | the sender's DMP prekey bundle (1 to `bundle_max_len` bytes)          |
//! | 0x02 | ENVELOPE | one DMP envelope, pairwise or group (1 to `max_envelope_len` bytes)   |
//! | 0x03 | CLOSE    | why the sender is closing: UTF-8 text, 0 to `max_reason_len` bytes    |
//!
//! Each side sends HELLO as its first frame, once; ENVELOPE frames follow, in both directions.
//! CLOSE is optional: it precedes a deliberate close, so that the other side can say why. Any
//! other kind, a body out of range, a second HELLO or an ENVELOPE before the peer's HELLO is a
//! protocol error: the receiver closes the connection (sending CLOSE with the error's name first).
//!
//! HELLO tells the other side which agent is at the end of the connection, so that it knows where
//! to send that agent's envelopes and can start a session from the bundle. It is a routing claim,
//! not authentication: anyone can replay a published bundle. What authenticates is the library:
//! an envelope decrypts only for its recipient, and every event names its verified sender.

const std = @import("std");
const c = @import("c.zig");
const transport = @import("transport.zig");

pub const Kind = enum(u8) {
    hello = 0x01,
    envelope = 0x02,
    close = 0x03,
    _,
};

/// The longest CLOSE reason.
pub const max_reason_len = 1024;
/// The longest control frame: a kind byte and the largest envelope.
pub const max_frame_len: u32 = 1 + c.DMP_MAX_ENVELOPE_LEN;

comptime {
    if (max_frame_len > transport.default_max_frame_len) @compileError("link frames must fit the transport's default maximum");
}

/// A parsed control frame; the bodies are slices of the transport frame.
pub const Frame = union(enum) {
    hello: []const u8,
    envelope: []const u8,
    close: []const u8,
};

pub const ProtocolError = error{
    /// A kind byte that is not HELLO, ENVELOPE or CLOSE.
    UnknownFrameKind,
    /// HELLO with no bundle, or more than `bundle_max_len` bytes.
    BadHello,
    /// ENVELOPE with no envelope, or more than `max_envelope_len` bytes.
    BadEnvelope,
    /// CLOSE with more than `max_reason_len` bytes.
    BadClose,
};

/// Splits a transport frame into its control frame.
pub fn parse(payload: []const u8) ProtocolError!Frame {
    if (payload.len == 0) return error.UnknownFrameKind; // the transport never yields this
    const body = payload[1..];
    return switch (@as(Kind, @fromBackingInt(payload[0]))) {
        .hello => if (body.len == 0 or body.len > c.DMP_BUNDLE_MAX_LEN) error.BadHello else .{ .hello = body },
        .envelope => if (body.len == 0 or body.len > c.DMP_MAX_ENVELOPE_LEN) error.BadEnvelope else .{ .envelope = body },
        .close => if (body.len > max_reason_len) error.BadClose else .{ .close = body },
        _ => error.UnknownFrameKind,
    };
}

/// Sends one control frame.
pub fn write(conn: *transport.Connection, kind: Kind, body: []const u8) transport.Error!void {
    const k = [1]u8{@backingInt(kind)};
    return conn.writeFrameParts(&.{ &k, body });
}

pub fn writeHello(conn: *transport.Connection, bundle: []const u8) transport.Error!void {
    return write(conn, .hello, bundle);
}

pub fn writeEnvelope(conn: *transport.Connection, envelope: []const u8) transport.Error!void {
    return write(conn, .envelope, envelope);
}

/// Sends CLOSE (the reason cut to `max_reason_len`), then closes the connection. Best effort:
/// a connection that cannot take the frame is closed all the same.
pub fn closeWithReason(conn: *transport.Connection, reason: []const u8) void {
    if (conn.isOpen()) write(conn, .close, reason[0..@min(reason.len, max_reason_len)]) catch {};
    conn.close();
}

/// Reads one control frame into `buf` (`max_frame_len` bytes always suffice): null when the peer
/// closed cleanly between frames. A transport refusal closes the connection (as the transport
/// does); so does a protocol error, after a CLOSE naming it.
pub fn read(conn: *transport.Connection, buf: []u8) (transport.Error || ProtocolError)!?Frame {
    const payload = (try conn.readFrame(buf)) orelse return null;
    return parse(payload) catch |err| {
        closeWithReason(conn, @errorName(err));
        return err;
    };
}
