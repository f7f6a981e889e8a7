//! L0: the reference TCP transport of DMP, on loopback.
//!
//! A frame is a u32 big-endian length followed by that many payload bytes (one DMP envelope).
//! DMP never sends an empty envelope, so a zero length is refused like any other bad frame.
//!
//! Every refusal (a length above the maximum, a zero length, a frame that does not fit the
//! caller's buffer, a connection that ends or stalls in the middle of a frame) returns an
//! error and closes the connection: the byte stream cannot be trusted to resynchronise. A
//! timeout while waiting for a frame that has not started leaves the connection open.
//! Payloads that are well framed but garbage are the library's to refuse (`Session.decrypt`).
//!
//! Blocking sockets with a deadline per frame (poll), SIGPIPE suppressed (MSG_NOSIGNAL),
//! TCP_NODELAY on, close-on-exec. No allocation except in `readFrameAlloc`.

const std = @import("std");
const builtin = @import("builtin");
const c = @import("c.zig");
const sys = std.c;

/// Bytes of the length prefix.
pub const header_len = 4;

/// The default maximum payload of a frame: the largest envelope a session accepts, plus slack.
pub const default_max_frame_len: u32 = c.DMP_MAX_ENVELOPE_LEN + 16;

pub const Options = struct {
    /// Longest wait for one whole frame to arrive, in milliseconds; null waits forever.
    read_timeout_ms: ?u32 = 10_000,
    /// Longest wait for one whole frame to be sent, in milliseconds; null waits forever.
    write_timeout_ms: ?u32 = 10_000,
    /// Frames whose length prefix exceeds this are refused (and never sent).
    max_frame_len: u32 = default_max_frame_len,
};

pub const Error = error{
    /// A length prefix above the maximum frame size, or above the caller's buffer.
    FrameTooLarge,
    /// A zero length prefix (or an attempt to send an empty frame).
    EmptyFrame,
    /// The peer closed the connection in the middle of a frame.
    TruncatedFrame,
    /// The deadline passed.
    Timeout,
    /// The connection is closed (by `close`, or after a refused frame).
    ConnectionClosed,
    /// The peer reset the connection, or it is gone while we were sending.
    ConnectionReset,
    /// Nobody listens on that port.
    ConnectionRefused,
    /// The port is taken.
    AddressInUse,
    /// Out of file descriptors, memory or ports.
    SystemResources,
    /// Any other operating-system failure.
    Unexpected,
};

const loopback_be: u32 = std.mem.nativeToBig(u32, 0x7f00_0001); // 127.0.0.1

fn loopbackAddr(port: u16) sys.sockaddr.in {
    return .{ .port = std.mem.nativeToBig(u16, port), .addr = loopback_be };
}

fn errnoOf(rc: anytype) sys.E {
    return sys.errno(rc);
}

fn mapErrno(e: sys.E) Error {
    return switch (e) {
        .CONNREFUSED => error.ConnectionRefused,
        .CONNRESET, .PIPE, .NOTCONN, .CONNABORTED => error.ConnectionReset,
        .ADDRINUSE => error.AddressInUse,
        .MFILE, .NFILE, .NOBUFS, .NOMEM, .ADDRNOTAVAIL => error.SystemResources,
        .TIMEDOUT => error.Timeout,
        else => error.Unexpected,
    };
}

fn newSocket() Error!sys.fd_t {
    const fd = sys.socket(sys.AF.INET, sys.SOCK.STREAM | sys.SOCK.CLOEXEC, 0);
    if (fd < 0) return mapErrno(errnoOf(fd));
    return fd;
}

fn setIntOption(fd: sys.fd_t, level: i32, name: u32, value: c_int) Error!void {
    const rc = sys.setsockopt(fd, level, name, &value, @sizeOf(c_int));
    if (rc != 0) return mapErrno(errnoOf(rc));
}

/// Nanoseconds on the monotonic clock.
fn nowNs() u64 {
    var ts: sys.timespec = undefined;
    _ = sys.clock_gettime(.MONOTONIC, &ts);
    return @as(u64, @intCast(ts.sec)) * std.time.ns_per_s + @as(u64, @intCast(ts.nsec));
}

fn deadlineAfter(timeout_ms: ?u32) ?u64 {
    const ms = timeout_ms orelse return null;
    return nowNs() + @as(u64, ms) * std.time.ns_per_ms;
}

/// Waits until `fd` is ready for `events` (or in error / hung up: the next call reports it).
/// Polls at least once, so a deadline already reached still finds a descriptor that is ready.
fn waitReady(fd: sys.fd_t, events: i16, deadline: ?u64) Error!void {
    while (true) {
        var timeout: c_int = -1;
        var expired = false;
        if (deadline) |d| {
            const now = nowNs();
            expired = now >= d;
            const left_ms = if (expired) 0 else (d - now + std.time.ns_per_ms - 1) / std.time.ns_per_ms;
            timeout = @intCast(@min(left_ms, std.math.maxInt(c_int)));
        }
        var pfd = [1]sys.pollfd{.{ .fd = fd, .events = events, .revents = 0 }};
        const rc = sys.poll(&pfd, 1, timeout);
        if (rc < 0) {
            const e = errnoOf(rc);
            if (e == .INTR) continue;
            return mapErrno(e);
        }
        if (rc > 0) return;
        if (expired) return error.Timeout;
        // Not ready yet: the loop re-checks the deadline.
    }
}

/// A listening socket on 127.0.0.1.
pub const Listener = struct {
    fd: sys.fd_t,
    /// The port actually bound (the kernel's choice when listening on port 0).
    port: u16,
    /// Options of the accepted connections.
    options: Options,

    pub const ListenOptions = struct {
        /// 0 lets the kernel choose a free port; read it back from `Listener.port`.
        port: u16 = 0,
        backlog: u31 = 16,
        connection: Options = .{},
    };

    pub fn listen(opts: ListenOptions) Error!Listener {
        const fd = try newSocket();
        errdefer _ = sys.close(fd);
        try setIntOption(fd, sys.SOL.SOCKET, sys.SO.REUSEADDR, 1);
        var addr = loopbackAddr(opts.port);
        if (sys.bind(fd, @ptrCast(&addr), @sizeOf(sys.sockaddr.in)) != 0) return mapErrno(errnoOf(@as(c_int, -1)));
        if (sys.listen(fd, opts.backlog) != 0) return mapErrno(errnoOf(@as(c_int, -1)));
        var bound: sys.sockaddr.in = undefined;
        var len: sys.socklen_t = @sizeOf(sys.sockaddr.in);
        if (sys.getsockname(fd, @ptrCast(&bound), &len) != 0) return mapErrno(errnoOf(@as(c_int, -1)));
        return .{ .fd = fd, .port = std.mem.bigToNative(u16, bound.port), .options = opts.connection };
    }

    /// Waits up to `timeout_ms` (null: forever) for a connection.
    pub fn accept(self: *Listener, timeout_ms: ?u32) Error!Connection {
        if (self.fd < 0) return error.ConnectionClosed;
        const deadline = deadlineAfter(timeout_ms);
        while (true) {
            try waitReady(self.fd, sys.POLL.IN, deadline);
            const fd = sys.accept4(self.fd, null, null, sys.SOCK.CLOEXEC);
            if (fd < 0) {
                const e = errnoOf(fd);
                switch (e) {
                    .INTR, .AGAIN, .CONNABORTED => continue,
                    else => return mapErrno(e),
                }
            }
            errdefer _ = sys.close(fd);
            try setIntOption(fd, sys.IPPROTO.TCP, sys.TCP.NODELAY, 1);
            return .{ .fd = fd, .options = self.options };
        }
    }

    /// Stops listening. Idempotent.
    pub fn deinit(self: *Listener) void {
        if (self.fd >= 0) _ = sys.close(self.fd);
        self.fd = -1;
    }
};

/// One framed TCP connection.
pub const Connection = struct {
    fd: sys.fd_t,
    options: Options,
    /// The deadline of the frame being read (set when its length prefix is awaited).
    frame_deadline: ?u64 = null,

    /// Connects to 127.0.0.1:`port`.
    pub fn dial(port: u16, options: Options) Error!Connection {
        const fd = try newSocket();
        errdefer _ = sys.close(fd);
        var addr = loopbackAddr(port);
        while (sys.connect(fd, @ptrCast(&addr), @sizeOf(sys.sockaddr.in)) != 0) {
            const e = errnoOf(@as(c_int, -1));
            if (e == .INTR) continue;
            return mapErrno(e);
        }
        try setIntOption(fd, sys.IPPROTO.TCP, sys.TCP.NODELAY, 1);
        return .{ .fd = fd, .options = options };
    }

    pub fn isOpen(self: *const Connection) bool {
        return self.fd >= 0;
    }

    /// Closes the connection (both directions). Idempotent.
    pub fn close(self: *Connection) void {
        if (self.fd < 0) return;
        _ = sys.shutdown(self.fd, sys.SHUT.RDWR);
        _ = sys.close(self.fd);
        self.fd = -1;
    }

    /// Sends one frame. `error.EmptyFrame` / `error.FrameTooLarge` are refused before any byte
    /// is sent (the connection stays open); a failure while sending closes the connection.
    pub fn writeFrame(self: *Connection, payload: []const u8) Error!void {
        return self.writeFrameParts(&.{payload});
    }

    /// Sends one frame whose payload is the concatenation of `parts` (e.g. a one-byte kind and
    /// an envelope, without copying the envelope). Same refusals as `writeFrame`, on the total.
    pub fn writeFrameParts(self: *Connection, parts: []const []const u8) Error!void {
        if (self.fd < 0) return error.ConnectionClosed;
        var total: usize = 0;
        for (parts) |p| total += p.len;
        if (total == 0) return error.EmptyFrame;
        if (total > self.options.max_frame_len) return error.FrameTooLarge;
        const deadline = deadlineAfter(self.options.write_timeout_ms);
        var header: [header_len]u8 = undefined;
        std.mem.writeInt(u32, &header, @intCast(total), .big);
        errdefer self.close();
        // Small frames leave in one segment; large ones as header then each part.
        var small: [4096]u8 = undefined;
        if (total <= small.len - header_len) {
            @memcpy(small[0..header_len], &header);
            var at: usize = header_len;
            for (parts) |p| {
                @memcpy(small[at..][0..p.len], p);
                at += p.len;
            }
            try self.sendAll(small[0..at], deadline);
        } else {
            try self.sendAll(&header, deadline);
            for (parts) |p| try self.sendAll(p, deadline);
        }
    }

    /// Receives one frame into `buf` and returns it, or null if the peer closed the connection
    /// cleanly between frames. Any refused frame closes the connection.
    pub fn readFrame(self: *Connection, buf: []u8) Error!?[]u8 {
        const len = (try self.readHeader(buf.len)) orelse return null;
        errdefer self.close();
        try self.recvAll(buf[0..len], self.frame_deadline);
        return buf[0..len];
    }

    /// `readFrame` into memory from `allocator` (the caller frees it); the length prefix is
    /// checked against `max_frame_len` before anything is allocated.
    pub fn readFrameAlloc(self: *Connection, allocator: std.mem.Allocator) (Error || std.mem.Allocator.Error)!?[]u8 {
        const len = (try self.readHeader(self.options.max_frame_len)) orelse return null;
        errdefer self.close();
        const buf = try allocator.alloc(u8, len);
        errdefer allocator.free(buf);
        try self.recvAll(buf, self.frame_deadline);
        return buf;
    }

    /// Reads and checks a length prefix; null on a clean end of stream before it.
    fn readHeader(self: *Connection, cap: usize) Error!?usize {
        if (self.fd < 0) return error.ConnectionClosed;
        self.frame_deadline = deadlineAfter(self.options.read_timeout_ms);
        var header: [header_len]u8 = undefined;
        var got: usize = 0;
        while (got < header_len) {
            const n = self.recvSome(header[got..], self.frame_deadline) catch |err| {
                // Waiting for a frame that has not started may time out harmlessly.
                if (!(err == error.Timeout and got == 0)) self.close();
                return err;
            };
            if (n == 0) {
                self.close();
                if (got == 0) return null;
                return error.TruncatedFrame;
            }
            got += n;
        }
        const len = std.mem.readInt(u32, &header, .big);
        errdefer self.close();
        if (len == 0) return error.EmptyFrame;
        if (len > self.options.max_frame_len or len > cap) return error.FrameTooLarge;
        return len;
    }

    fn recvAll(self: *Connection, buf: []u8, deadline: ?u64) Error!void {
        var got: usize = 0;
        while (got < buf.len) {
            const n = try self.recvSome(buf[got..], deadline);
            if (n == 0) return error.TruncatedFrame;
            got += n;
        }
    }

    /// One recv after the socket is readable: the bytes read, 0 at the end of the stream.
    fn recvSome(self: *Connection, buf: []u8, deadline: ?u64) Error!usize {
        while (true) {
            try waitReady(self.fd, sys.POLL.IN, deadline);
            const rc = sys.recv(self.fd, buf.ptr, buf.len, 0);
            if (rc < 0) {
                const e = errnoOf(rc);
                switch (e) {
                    .INTR, .AGAIN => continue,
                    else => return mapErrno(e),
                }
            }
            return @intCast(rc);
        }
    }

    fn sendAll(self: *Connection, bytes: []const u8, deadline: ?u64) Error!void {
        var sent: usize = 0;
        while (sent < bytes.len) {
            try waitReady(self.fd, sys.POLL.OUT, deadline);
            const rest = bytes[sent..];
            const rc = sys.send(self.fd, rest.ptr, rest.len, sys.MSG.NOSIGNAL);
            if (rc < 0) {
                const e = errnoOf(rc);
                switch (e) {
                    .INTR, .AGAIN => continue,
                    else => return mapErrno(e),
                }
            }
            sent += @intCast(rc);
        }
    }
};

comptime {
    if (builtin.os.tag != .linux and !builtin.os.tag.isDarwin() and !builtin.os.tag.isBSD())
        @compileError("dmp.transport needs POSIX sockets");
}
