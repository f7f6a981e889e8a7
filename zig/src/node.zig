//! dmp-node: one DMP agent on loopback TCP, driven by lines on stdin, reporting on stdout.
//!
//! See zig/README.md ("dmp-node") for the command line, the stdin commands, the stdout lines
//! and the wire framing. Everything the node prints is one line per event, first word in
//! capitals; text that came from a peer is escaped so that it can never break a line.

const std = @import("std");
const dmp = @import("dmp");
const sys = std.c;

const usage =
    \\usage: dmp-node [options]
    \\  --store PATH         keep the agent in an encrypted store at PATH (default: in memory)
    \\  --key-file PATH      the 32-byte storage key: 32 raw bytes or 64 hex digits
    \\                       (else $DMP_STORAGE_KEY, 64 hex digits; required with --store)
    \\  --listen ADDR        listen on 127.0.0.1:PORT (0: any free port; prints LISTENING <port>)
    \\  --dial ADDR          connect to 127.0.0.1:PORT (repeatable; retried for 5 s)
    \\  --bundle-out PATH    write our prekey bundle to PATH (hex and a newline; see --raw)
    \\  --raw                write --bundle-out as raw bytes
    \\  --peer-bundle PATH   read a peer's bundle (hex or raw) to send to it first (repeatable)
    \\  --stay               keep running at the end of stdin (default: quit)
    \\  --help               this text
    \\ADDR is 127.0.0.1:PORT, localhost:PORT, :PORT or PORT (loopback only).
    \\stdin: a line is a message to the current peer; /help lists the commands.
    \\
;

const help_text = "commands: <text> | //text | /to <peer> <text> | /peer <peer> | /peers | /connect [peer] | " ++
    "/dial <addr> | /add-bundle <path> | /id | /group-create | /group <group> | /group-add <peer> | " ++
    "/group-remove <peer> | /group-send <text> | /group-members | /quit";

const max_list = 16;
/// The longest stdin line: the largest message, plus a command.
const max_line_len = dmp.max_plaintext_len + 64;
const maintain_every_s = 600;

// ---- output --------------------------------------------------------------------------------------

fn writeAll(fd: sys.fd_t, bytes: []const u8) void {
    var rest = bytes;
    while (rest.len > 0) {
        const rc = sys.write(fd, rest.ptr, rest.len);
        if (rc < 0) {
            switch (sys.errno(rc)) {
                .INTR => continue,
                .AGAIN => {
                    // A non-blocking descriptor handed down by the parent: wait until it drains.
                    var pfd = [1]sys.pollfd{.{ .fd = fd, .events = sys.POLL.OUT, .revents = 0 }};
                    _ = sys.poll(&pfd, 1, 1000);
                    continue;
                },
                else => return, // stdout gone: nothing to report to
            }
        }
        rest = rest[@intCast(rc)..];
    }
}

/// One line on stdout.
fn say(comptime fmt: []const u8, args: anytype) void {
    var buf: [4096]u8 = undefined;
    const line = std.fmt.bufPrint(&buf, fmt ++ "\n", args) catch {
        writeAll(1, "ERROR Internal line too long\n");
        return;
    };
    writeAll(1, line);
}

/// Diagnostics for people (usage, fatal errors) on stderr.
fn complain(comptime fmt: []const u8, args: anytype) void {
    var buf: [4096]u8 = undefined;
    const line = std.fmt.bufPrint(&buf, "dmp-node: " ++ fmt ++ "\n", args) catch return;
    writeAll(2, line);
}

/// Escapes `text` for one line: printable ASCII as is except `\`; `\n`, `\r`, `\t`, `\\`; other
/// control bytes as `\xNN`; bytes from 0x80 as is when the text is valid UTF-8, else `\xNN`.
fn escape(out: *std.ArrayList(u8), gpa: std.mem.Allocator, text: []const u8) !void {
    const utf8 = std.unicode.utf8ValidateSlice(text);
    try out.ensureUnusedCapacity(gpa, text.len);
    for (text) |b| {
        switch (b) {
            '\\' => try out.appendSlice(gpa, "\\\\"),
            '\n' => try out.appendSlice(gpa, "\\n"),
            '\r' => try out.appendSlice(gpa, "\\r"),
            '\t' => try out.appendSlice(gpa, "\\t"),
            0x20...0x5b, 0x5d...0x7e => try out.append(gpa, b),
            else => if (b >= 0x80 and utf8) {
                try out.append(gpa, b);
            } else {
                const hex = std.fmt.bytesToHex([1]u8{b}, .lower);
                try out.appendSlice(gpa, "\\x");
                try out.appendSlice(gpa, &hex);
            },
        }
    }
}

/// A line whose last part is untrusted text: `prefix` then the escaped text.
fn sayText(gpa: std.mem.Allocator, prefix: []const u8, text: []const u8) void {
    var line: std.ArrayList(u8) = .empty;
    defer line.deinit(gpa);
    line.appendSlice(gpa, prefix) catch return writeAll(1, "ERROR OutOfMemory\n");
    escape(&line, gpa, text) catch return writeAll(1, "ERROR OutOfMemory\n");
    line.append(gpa, '\n') catch return writeAll(1, "ERROR OutOfMemory\n");
    writeAll(1, line.items);
}

/// A fingerprint as one token: the 32 hex digits of the library's fingerprint, spaces removed.
const Fp = [32]u8;

fn fpOf(id: *const dmp.AgentId) Fp {
    var out: Fp = undefined;
    const fp = dmp.fingerprint(id) catch {
        const hex = std.fmt.bytesToHex(id[0..16].*, .lower);
        return hex;
    };
    var n: usize = 0;
    for (fp) |ch| {
        if (ch == ' ' or n == out.len) continue;
        out[n] = ch;
        n += 1;
    }
    if (n != out.len) @memset(out[n..], '?');
    return out;
}

fn hex32(bytes: *const [32]u8) [64]u8 {
    return std.fmt.bytesToHex(bytes.*, .lower);
}

fn stateName(s: dmp.SessionState) []const u8 {
    return switch (s) {
        .dormant => "DORMANT",
        .initiating => "INITIATING",
        .active => "ACTIVE",
        .closed => "CLOSED",
        _ => "UNKNOWN",
    };
}

// ---- input helpers -------------------------------------------------------------------------------

fn isSpace(b: u8) bool {
    return b == ' ' or b == '\t' or b == '\n' or b == '\r' or b == 0x0b or b == 0x0c;
}

fn trim(s: []const u8) []const u8 {
    return std.mem.trim(u8, s, " \t\r\n\x0b\x0c");
}

fn isHex(s: []const u8) bool {
    for (s) |b| if (!std.ascii.isHex(b)) return false;
    return true;
}

/// Reads a whole (small) file into `buf`.
fn readFile(path: []const u8, buf: []u8) ![]u8 {
    var z: [4096]u8 = undefined;
    if (path.len >= z.len) return error.NameTooLong;
    @memcpy(z[0..path.len], path);
    z[path.len] = 0;
    const fd = sys.open(z[0..path.len :0], .{ .ACCMODE = .RDONLY, .CLOEXEC = true });
    if (fd < 0) return error.CannotOpen;
    defer _ = sys.close(fd);
    var n: usize = 0;
    while (true) {
        if (n == buf.len) {
            // Full: one more byte means the file is too large.
            var extra: [1]u8 = undefined;
            const rc = sys.read(fd, &extra, 1);
            if (rc > 0) return error.FileTooLarge;
            break;
        }
        const rc = sys.read(fd, buf[n..].ptr, buf.len - n);
        if (rc < 0) {
            if (sys.errno(rc) == .INTR) continue;
            return error.ReadFailed;
        }
        if (rc == 0) break;
        n += @intCast(rc);
    }
    return buf[0..n];
}

/// Writes `bytes` to `path` atomically (a temporary file, then rename).
fn writeFileAtomic(path: []const u8, bytes: []const u8) !void {
    var z: [4096]u8 = undefined;
    var t: [4096]u8 = undefined;
    const final = std.fmt.bufPrintSentinel(&z, "{s}", .{path}, 0) catch return error.NameTooLong;
    const tmp = std.fmt.bufPrintSentinel(&t, "{s}.tmp{d}", .{ path, sys.getpid() }, 0) catch return error.NameTooLong;
    const fd = sys.open(tmp, .{ .ACCMODE = .WRONLY, .CREAT = true, .TRUNC = true, .CLOEXEC = true }, @as(sys.mode_t, 0o644));
    if (fd < 0) return error.CannotCreate;
    var ok = false;
    defer if (!ok) {
        _ = sys.unlink(tmp);
    };
    {
        defer _ = sys.close(fd);
        var rest = bytes;
        while (rest.len > 0) {
            const rc = sys.write(fd, rest.ptr, rest.len);
            if (rc < 0) {
                if (sys.errno(rc) == .INTR) continue;
                return error.WriteFailed;
            }
            rest = rest[@intCast(rc)..];
        }
    }
    if (sys.rename(tmp, final) != 0) return error.RenameFailed;
    ok = true;
}

/// A storage key: 32 raw bytes, or 64 hex digits (whitespace around them ignored).
fn parseKey(content: []const u8) ?dmp.Key {
    var key: dmp.Key = undefined;
    if (content.len == key.len) {
        @memcpy(&key, content);
        return key;
    }
    const t = trim(content);
    if (t.len != 2 * key.len or !isHex(t)) return null;
    _ = std.fmt.hexToBytes(&key, t) catch return null;
    return key;
}

/// A bundle file: hex digits (whitespace around them ignored), else raw bytes.
fn decodeBundle(content: []u8) []u8 {
    const t = trim(content);
    if (t.len > 0 and t.len % 2 == 0 and isHex(t)) {
        // Decode in place: the output never overtakes the input.
        const start = @intFromPtr(t.ptr) - @intFromPtr(content.ptr);
        var i: usize = 0;
        while (i < t.len / 2) : (i += 1) {
            const hi = std.fmt.charToDigit(content[start + 2 * i], 16) catch unreachable;
            const lo = std.fmt.charToDigit(content[start + 2 * i + 1], 16) catch unreachable;
            content[i] = @intCast(hi * 16 + lo);
        }
        return content[0 .. t.len / 2];
    }
    return content;
}

/// 127.0.0.1:PORT, localhost:PORT, :PORT or PORT.
fn parseAddr(s: []const u8) ?u16 {
    var port_text = s;
    if (std.mem.findScalarLast(u8, s, ':')) |i| {
        const host = s[0..i];
        if (!(host.len == 0 or std.mem.eql(u8, host, "127.0.0.1") or std.mem.eql(u8, host, "localhost"))) return null;
        port_text = s[i + 1 ..];
    }
    return std.fmt.parseInt(u16, port_text, 10) catch null;
}

fn nowUnix() u64 {
    var ts: sys.timespec = undefined;
    if (sys.clock_gettime(.REALTIME, &ts) != 0) return 0;
    return @intCast(@max(ts.sec, 0));
}

fn nowMs() u64 {
    var ts: sys.timespec = undefined;
    _ = sys.clock_gettime(.MONOTONIC, &ts);
    return @as(u64, @intCast(ts.sec)) * 1000 + @as(u64, @intCast(ts.nsec)) / std.time.ns_per_ms;
}

fn sleepMs(ms: u64) void {
    const ts: sys.timespec = .{ .sec = @intCast(ms / 1000), .nsec = @intCast((ms % 1000) * std.time.ns_per_ms) };
    _ = sys.nanosleep(&ts, null);
}

// ---- signals -------------------------------------------------------------------------------------

var stop_requested = std.atomic.Value(bool).init(false);

fn onSignal(_: std.posix.SIG) callconv(.c) void {
    stop_requested.store(true, .monotonic);
}

fn installSignals() void {
    var ignore: std.posix.Sigaction = .{ .handler = .{ .handler = std.posix.SIG.IGN }, .mask = std.posix.sigemptyset(), .flags = 0 };
    std.posix.sigaction(.PIPE, &ignore, null);
    // No SA_RESTART: poll returns EINTR and the loop sees the request.
    var stop: std.posix.Sigaction = .{ .handler = .{ .handler = onSignal }, .mask = std.posix.sigemptyset(), .flags = 0 };
    std.posix.sigaction(.INT, &stop, null);
    std.posix.sigaction(.TERM, &stop, null);
}

// ---- command line --------------------------------------------------------------------------------

const Config = struct {
    store: ?[]const u8 = null,
    key_file: ?[]const u8 = null,
    listen: ?u16 = null,
    dials: [max_list]u16 = undefined,
    dial_count: usize = 0,
    bundle_out: ?[]const u8 = null,
    raw: bool = false,
    peer_bundles: [max_list][]const u8 = undefined,
    peer_bundle_count: usize = 0,
    stay: bool = false,
    help: bool = false,
};

fn parseArgs(args: []const [*:0]const u8) ?Config {
    var cfg: Config = .{};
    var i: usize = 1;
    while (i < args.len) : (i += 1) {
        const a = std.mem.span(args[i]);
        if (std.mem.eql(u8, a, "--help") or std.mem.eql(u8, a, "-h")) {
            cfg.help = true;
            continue;
        }
        if (std.mem.eql(u8, a, "--raw")) {
            cfg.raw = true;
            continue;
        }
        if (std.mem.eql(u8, a, "--stay")) {
            cfg.stay = true;
            continue;
        }
        const takes_value = [_][]const u8{ "--store", "--key-file", "--listen", "--dial", "--bundle-out", "--peer-bundle" };
        var known = false;
        for (takes_value) |name| known = known or std.mem.eql(u8, a, name);
        if (!known) {
            complain("unknown option {s}", .{a});
            return null;
        }
        if (i + 1 >= args.len) {
            complain("{s} needs a value", .{a});
            return null;
        }
        i += 1;
        const v = std.mem.span(args[i]);
        if (std.mem.eql(u8, a, "--store")) {
            if (v.len == 0) {
                complain("--store needs a path", .{});
                return null;
            }
            cfg.store = v;
        } else if (std.mem.eql(u8, a, "--key-file")) {
            cfg.key_file = v;
        } else if (std.mem.eql(u8, a, "--bundle-out")) {
            cfg.bundle_out = v;
        } else if (std.mem.eql(u8, a, "--listen") or std.mem.eql(u8, a, "--dial")) {
            const port = parseAddr(v) orelse {
                complain("{s} {s}: expected 127.0.0.1:PORT (loopback only)", .{ a, v });
                return null;
            };
            if (std.mem.eql(u8, a, "--listen")) {
                cfg.listen = port;
            } else {
                if (port == 0 or cfg.dial_count == max_list) {
                    complain("--dial {s}: a port from 1 to 65535, at most {d} times", .{ v, max_list });
                    return null;
                }
                cfg.dials[cfg.dial_count] = port;
                cfg.dial_count += 1;
            }
        } else if (std.mem.eql(u8, a, "--peer-bundle")) {
            if (cfg.peer_bundle_count == max_list) {
                complain("at most {d} --peer-bundle", .{max_list});
                return null;
            }
            cfg.peer_bundles[cfg.peer_bundle_count] = v;
            cfg.peer_bundle_count += 1;
        }
    }
    return cfg;
}

// ---- the node ------------------------------------------------------------------------------------

const Node = struct {
    gpa: std.mem.Allocator,
    agent: dmp.Agent,
    host: dmp.Host = undefined,
    current_peer: ?dmp.AgentId = null,
    current_group: ?dmp.GroupId = null,
    /// Groups seen in this run (created, or a key received), for `/group <prefix>`.
    groups: std.ArrayList(dmp.GroupId) = .empty,
    line: std.ArrayList(u8) = .empty,
    discarding: bool = false,
    stdin_open: bool = true,
    quit: bool = false,

    fn handler(self: *Node) dmp.host.Handler {
        return .{ .ctx = self, .func = onNotice };
    }

    fn rememberGroup(self: *Node, g: *const dmp.GroupId) void {
        for (self.groups.items) |x| if (std.mem.eql(u8, &x, g)) return;
        self.groups.append(self.gpa, g.*) catch {};
    }

    fn onNotice(ctx: ?*anyopaque, n: dmp.host.Notice) void {
        const self: *Node = @ptrCast(@alignCast(ctx.?));
        switch (n) {
            .listening => |l| say("LISTENING {d}", .{l.port}),
            .connected => |c| say("CONNECTED {d} {s}", .{ c.conn, if (c.outbound) "outbound" else "inbound" }),
            .hello => |h| {
                say("HELLO {d} {s} {s}", .{ h.conn, &fpOf(&h.peer), &hex32(&h.peer) });
                if (self.current_peer == null) self.current_peer = h.peer;
            },
            .disconnected => |d| {
                var prefix: [256]u8 = undefined;
                const fp: []const u8 = if (d.peer) |p| &fpOf(&p) else "-";
                const head = std.fmt.bufPrint(&prefix, "DISCONNECTED {d} {s} {s}{s}", .{ d.conn, fp, d.reason, if (d.detail.len > 0) " " else "" }) catch return;
                sayText(self.gpa, head, d.detail);
            },
            .session => |s| say("SESSION {s} {s}", .{ &fpOf(&s.peer), stateName(s.state) }),
            .message => |m| {
                var prefix: [64]u8 = undefined;
                sayText(self.gpa, std.fmt.bufPrint(&prefix, "RECV {s} ", .{&fpOf(&m.peer)}) catch return, m.text);
            },
            .group_message => |m| {
                var prefix: [128]u8 = undefined;
                sayText(self.gpa, std.fmt.bufPrint(&prefix, "GROUP {s} {s} ", .{ &hex32(&m.group), &fpOf(&m.peer) }) catch return, m.text);
            },
            .group_key => |k| {
                say("GROUP-KEY {s} {s}", .{ &hex32(&k.group), &fpOf(&k.peer) });
                self.rememberGroup(&k.group);
                if (self.current_group == null) self.current_group = k.group;
            },
            .other_event => |e| say("EVENT {d} {s}", .{ e.kind, &fpOf(&e.peer) }),
            .refused => |r| {
                var prefix: [256]u8 = undefined;
                const fp: []const u8 = if (r.peer) |p| &fpOf(&p) else "-";
                const head = std.fmt.bufPrint(&prefix, "REFUSED {d} {s} {s} ", .{ r.conn, fp, @errorName(r.err) }) catch return;
                sayText(self.gpa, head, r.detail);
            },
            .sent => |s| say("SENT {s} {d}", .{ &fpOf(&s.peer), s.len }),
            .queued => |q| say("QUEUED {s} {d}", .{ &fpOf(&q.peer), q.len }),
        }
    }

    fn sayError(err: anyerror, detail: []const u8) void {
        // A library error comes with the library's own explanation.
        const lib: []const u8 = if (errorAsDmp(err) != null) dmp.lastErrorMessage() else "";
        const gpa = std.heap.c_allocator;
        var line: std.ArrayList(u8) = .empty;
        defer line.deinit(gpa);
        build: {
            line.print(gpa, "ERROR {s} ", .{@errorName(err)}) catch break :build;
            escape(&line, gpa, detail) catch break :build;
            if (lib.len > 0) {
                line.appendSlice(gpa, ": ") catch break :build;
                escape(&line, gpa, lib) catch break :build;
            }
            line.append(gpa, '\n') catch break :build;
            return writeAll(1, line.items);
        }
        say("ERROR {s}", .{@errorName(err)});
    }

    fn errorAsDmp(err: anyerror) ?dmp.Error {
        inline for (dmp.status_codes) |e| if (err == e.err) return e.err;
        return null;
    }

    /// A peer by its id or fingerprint (hex, or a unique prefix of at least 4 digits), or any
    /// 64-digit id.
    fn resolvePeer(self: *Node, sel_in: []const u8) ?dmp.AgentId {
        const sel = trim(sel_in);
        if (sel.len < 4 or !isHex(sel)) {
            say("ERROR UnknownPeer give a peer's id or fingerprint (hex, at least 4 digits)", .{});
            return null;
        }
        var lower: [64]u8 = undefined;
        if (sel.len > lower.len) {
            say("ERROR UnknownPeer too long", .{});
            return null;
        }
        for (sel, 0..) |ch, i| lower[i] = std.ascii.toLower(ch);
        const s = lower[0..sel.len];
        var found: ?dmp.AgentId = null;
        var ids: [256]dmp.AgentId = undefined;
        for (self.host.knownPeers(&ids)) |id| {
            const h = hex32(&id);
            const f = fpOf(&id);
            if (std.mem.startsWith(u8, &h, s) or std.mem.startsWith(u8, &f, s)) {
                if (found != null and !std.mem.eql(u8, &found.?, &id)) {
                    say("ERROR AmbiguousPeer {s} matches several peers", .{s});
                    return null;
                }
                found = id;
            }
        }
        if (found == null and s.len == 64) {
            var id: dmp.AgentId = undefined;
            _ = std.fmt.hexToBytes(&id, s) catch return null;
            found = id;
        }
        if (found == null) say("ERROR UnknownPeer {s}", .{s});
        return found;
    }

    fn resolveGroup(self: *Node, sel_in: []const u8) ?dmp.GroupId {
        const sel = trim(sel_in);
        if (sel.len == 0) {
            if (self.current_group == null) say("ERROR NoGroup no current group: /group-create or /group <group>", .{});
            return self.current_group;
        }
        if (!isHex(sel) or sel.len > 64) {
            say("ERROR UnknownGroup give a group id (hex)", .{});
            return null;
        }
        var lower: [64]u8 = undefined;
        for (sel, 0..) |ch, i| lower[i] = std.ascii.toLower(ch);
        const s = lower[0..sel.len];
        if (s.len == 64) {
            var g: dmp.GroupId = undefined;
            _ = std.fmt.hexToBytes(&g, s) catch return null;
            return g;
        }
        var found: ?dmp.GroupId = null;
        for (self.groups.items) |g| {
            if (std.mem.startsWith(u8, &hex32(&g), s)) {
                if (found != null) {
                    say("ERROR AmbiguousGroup {s}", .{s});
                    return null;
                }
                found = g;
            }
        }
        if (found == null) say("ERROR UnknownGroup {s}", .{s});
        return found;
    }

    fn sendText(self: *Node, peer: *const dmp.AgentId, text: []const u8) void {
        if (text.len == 0) return;
        _ = self.host.send(peer, text) catch |err| return sayError(err, "sending to the peer");
    }

    fn addBundleFile(self: *Node, path: []const u8) ?dmp.AgentId {
        var buf: [2 * dmp.bundle_max_len + 256]u8 = undefined;
        const content = readFile(path, &buf) catch |err| {
            sayError(err, path);
            return null;
        };
        const bundle = decodeBundle(content);
        const id = self.host.addBundle(bundle) catch |err| {
            sayError(err, "the peer bundle");
            return null;
        };
        say("PEER {s} {s}", .{ &fpOf(&id), &hex32(&id) });
        if (self.current_peer == null) self.current_peer = id;
        return id;
    }

    fn dialPort(self: *Node, port: u16, patience_ms: u64) bool {
        const deadline = nowMs() + patience_ms;
        while (true) {
            _ = self.host.dial(port) catch |err| {
                if (err == error.ConnectionRefused and nowMs() < deadline) {
                    sleepMs(100);
                    continue;
                }
                var buf: [64]u8 = undefined;
                sayError(err, std.fmt.bufPrint(&buf, "dialing 127.0.0.1:{d}", .{port}) catch "dialing");
                return false;
            };
            return true;
        }
    }

    fn command(self: *Node, line_in: []const u8) void {
        var line = line_in;
        if (line.len > 0 and line[line.len - 1] == '\r') line = line[0 .. line.len - 1];
        if (line.len == 0) return;
        if (line[0] != '/' or std.mem.startsWith(u8, line, "//")) {
            const text = if (line[0] == '/') line[1..] else line;
            const peer = self.current_peer orelse
                return say("ERROR NoPeer no current peer: --peer-bundle, a connection, or /peer <peer>", .{});
            return self.sendText(&peer, text);
        }
        const space = std.mem.findScalar(u8, line, ' ');
        const cmd = line[0 .. space orelse line.len];
        const arg = if (space) |i| line[i + 1 ..] else "";
        const eql = std.mem.eql;

        if (eql(u8, cmd, "/quit") or eql(u8, cmd, "/exit")) {
            self.quit = true;
        } else if (eql(u8, cmd, "/help")) {
            say("HELP {s}", .{help_text});
        } else if (eql(u8, cmd, "/id")) {
            self.sayIdentity();
        } else if (eql(u8, cmd, "/peers")) {
            var ids: [256]dmp.AgentId = undefined;
            for (self.host.knownPeers(&ids)) |id| {
                const st: []const u8 = if (self.agent.sessionState(&id)) |s| stateName(s) else |_| "NONE";
                say("LIST {s} {s} {s} {s} {d}", .{ &fpOf(&id), &hex32(&id), st, if (self.host.isConnected(&id)) "ONLINE" else "OFFLINE", self.host.pendingCount(&id) });
            }
            say("LIST-END", .{});
        } else if (eql(u8, cmd, "/peer")) {
            const id = self.resolvePeer(arg) orelse return;
            self.current_peer = id;
            say("CURRENT-PEER {s}", .{&fpOf(&id)});
        } else if (eql(u8, cmd, "/to")) {
            const rest = std.mem.trimStart(u8, arg, " ");
            const sp = std.mem.findScalar(u8, rest, ' ') orelse return say("ERROR Usage /to <peer> <text>", .{});
            const id = self.resolvePeer(rest[0..sp]) orelse return;
            self.sendText(&id, rest[sp + 1 ..]);
        } else if (eql(u8, cmd, "/connect")) {
            const id = if (trim(arg).len > 0) (self.resolvePeer(arg) orelse return) else (self.current_peer orelse
                return say("ERROR NoPeer no current peer", .{}));
            self.host.connectSession(&id) catch |err| return sayError(err, "setting up a session");
        } else if (eql(u8, cmd, "/dial")) {
            const port = parseAddr(trim(arg)) orelse return say("ERROR Usage /dial 127.0.0.1:PORT", .{});
            _ = self.dialPort(port, 0);
        } else if (eql(u8, cmd, "/add-bundle")) {
            _ = self.addBundleFile(trim(arg));
        } else if (eql(u8, cmd, "/group-create")) {
            const g = self.host.groupCreate() catch |err| return sayError(err, "creating a group");
            self.rememberGroup(&g);
            self.current_group = g;
            say("GROUP-CREATED {s}", .{&hex32(&g)});
        } else if (eql(u8, cmd, "/group")) {
            const g = self.resolveGroup(arg) orelse return;
            self.current_group = g;
            self.rememberGroup(&g);
            say("CURRENT-GROUP {s}", .{&hex32(&g)});
        } else if (eql(u8, cmd, "/group-add") or eql(u8, cmd, "/group-remove")) {
            const g = self.current_group orelse return say("ERROR NoGroup no current group: /group-create or /group <group>", .{});
            const id = self.resolvePeer(arg) orelse return;
            if (eql(u8, cmd, "/group-add")) {
                self.host.groupAdd(&g, &id) catch |err| return sayError(err, "adding to the group");
                say("GROUP-ADDED {s} {s}", .{ &hex32(&g), &fpOf(&id) });
            } else {
                self.host.groupRemove(&g, &id) catch |err| return sayError(err, "removing from the group");
                say("GROUP-REMOVED {s} {s}", .{ &hex32(&g), &fpOf(&id) });
            }
        } else if (eql(u8, cmd, "/group-send")) {
            const g = self.current_group orelse return say("ERROR NoGroup no current group: /group-create or /group <group>", .{});
            if (arg.len == 0) return say("ERROR Usage /group-send <text>", .{});
            const n = self.host.groupSend(&g, arg) catch |err| return sayError(err, "sending to the group");
            say("GROUP-SENT {s} {d}", .{ &hex32(&g), n });
        } else if (eql(u8, cmd, "/group-members")) {
            const g = self.current_group orelse return say("ERROR NoGroup no current group", .{});
            const members = self.agent.groupMembersAlloc(self.gpa, &g) catch |err| return sayError(err, "listing the group");
            defer self.gpa.free(members);
            var line_buf: std.ArrayList(u8) = .empty;
            defer line_buf.deinit(self.gpa);
            line_buf.print(self.gpa, "MEMBERS {s} {d}", .{ &hex32(&g), members.len }) catch return;
            for (members) |*m| line_buf.print(self.gpa, " {s}", .{&fpOf(m)}) catch return;
            line_buf.append(self.gpa, '\n') catch return;
            writeAll(1, line_buf.items);
        } else {
            sayText(self.gpa, "ERROR UnknownCommand ", cmd);
        }
    }

    fn sayIdentity(self: *Node) void {
        const id = self.agent.id() catch |err| return sayError(err, "reading our id");
        say("AGENT {s} {s}", .{ &fpOf(&id), &hex32(&id) });
    }

    /// Reads what stdin has and runs every complete line.
    fn readStdin(self: *Node) void {
        var buf: [65536]u8 = undefined;
        const rc = sys.read(0, &buf, buf.len);
        if (rc < 0 and (sys.errno(rc) == .INTR or sys.errno(rc) == .AGAIN)) return;
        if (rc <= 0) {
            // End of input (or an error, treated alike): a last unterminated line still counts.
            if (self.line.items.len > 0 and !self.discarding) self.command(self.line.items);
            self.line.clearRetainingCapacity();
            self.stdin_open = false;
            return;
        }
        var rest = buf[0..@intCast(rc)];
        while (rest.len > 0 and !self.quit) {
            const nl = std.mem.findScalar(u8, rest, '\n');
            const chunk = rest[0 .. nl orelse rest.len];
            if (!self.discarding) {
                if (self.line.items.len + chunk.len > max_line_len) {
                    say("ERROR LineTooLong a line may hold at most {d} bytes; dropped", .{max_line_len});
                    self.discarding = true;
                    self.line.clearRetainingCapacity();
                } else {
                    self.line.appendSlice(self.gpa, chunk) catch {
                        say("ERROR OutOfMemory line dropped", .{});
                        self.discarding = true;
                        self.line.clearRetainingCapacity();
                    };
                }
            }
            if (nl) |i| {
                if (!self.discarding) self.command(self.line.items);
                self.line.clearRetainingCapacity();
                self.discarding = false;
                rest = rest[i + 1 ..];
            } else break;
        }
    }
};

pub fn main(init: std.process.Init.Minimal) u8 {
    return run(init.args.vector);
}

fn run(args: []const [*:0]const u8) u8 {
    const cfg = parseArgs(args) orelse {
        writeAll(2, usage);
        return 2;
    };
    if (cfg.help) {
        writeAll(1, usage);
        return 0;
    }
    installSignals();
    dmp.checkAbi() catch {
        complain("the linked libdmp speaks another ABI than this program", .{});
        return 1;
    };
    const gpa = std.heap.c_allocator;

    // The storage key: --key-file, else $DMP_STORAGE_KEY, else (in memory only) a random one.
    var key: dmp.Key = undefined;
    defer std.crypto.secureZero(u8, &key);
    if (cfg.key_file) |path| {
        var buf: [1024]u8 = undefined;
        defer std.crypto.secureZero(u8, &buf);
        const content = readFile(path, &buf) catch |err| {
            complain("--key-file {s}: {s}", .{ path, @errorName(err) });
            return 2;
        };
        key = parseKey(content) orelse {
            complain("--key-file {s}: expected 32 raw bytes or 64 hex digits", .{path});
            return 2;
        };
    } else if (sys.getenv("DMP_STORAGE_KEY")) |env| {
        const text = std.mem.span(env);
        const t = trim(text);
        if (t.len != 64 or !isHex(t)) {
            complain("DMP_STORAGE_KEY: expected 64 hex digits", .{});
            return 2;
        }
        _ = std.fmt.hexToBytes(&key, t) catch unreachable;
    } else if (cfg.store != null) {
        complain("--store needs a storage key: --key-file PATH or DMP_STORAGE_KEY (64 hex digits)", .{});
        return 2;
    } else {
        dmp.randomBytes(&key) catch {
            complain("no randomness for a storage key", .{});
            return 1;
        };
    }

    var node: Node = .{ .gpa = gpa, .agent = undefined };
    node.agent = dmp.Agent.open(cfg.store orelse "", &key, .{}) catch |err| {
        complain("cannot open the agent{s}{s}: {s} ({s})", .{ if (cfg.store != null) " at " else "", cfg.store orelse "", @errorName(err), dmp.lastErrorMessage() });
        return 1;
    };
    defer node.agent.deinit();
    std.crypto.secureZero(u8, &key);
    node.agent.maintain(nowUnix()) catch {};
    var last_maintain = nowMs();

    node.host = dmp.Host.init(gpa, &node.agent, node.handler(), .{}) catch {
        complain("out of memory", .{});
        return 1;
    };
    defer node.host.deinit();
    defer node.groups.deinit(gpa);
    defer node.line.deinit(gpa);

    node.sayIdentity();
    node.host.loadPeers() catch |err| Node.sayError(err, "loading the stored peers");

    if (cfg.bundle_out) |path| {
        var bundle_buf: [dmp.bundle_max_len]u8 = undefined;
        const bundle = node.agent.bundle(true, &bundle_buf) catch |err| {
            complain("cannot make a bundle: {s}", .{@errorName(err)});
            return 1;
        };
        var out: [2 * dmp.bundle_max_len + 1]u8 = undefined;
        const bytes: []const u8 = if (cfg.raw) bundle else blk: {
            const digits = "0123456789abcdef";
            for (bundle, 0..) |b, i| {
                out[2 * i] = digits[b >> 4];
                out[2 * i + 1] = digits[b & 15];
            }
            out[2 * bundle.len] = '\n';
            break :blk out[0 .. 2 * bundle.len + 1];
        };
        writeFileAtomic(path, bytes) catch |err| {
            complain("--bundle-out {s}: {s}", .{ path, @errorName(err) });
            return 1;
        };
        say("BUNDLE {s}", .{path});
    }
    for (cfg.peer_bundles[0..cfg.peer_bundle_count]) |path| {
        _ = node.addBundleFile(path) orelse {
            complain("--peer-bundle {s}: refused", .{path});
            return 1;
        };
    }
    if (cfg.listen) |port| {
        _ = node.host.listen(port) catch |err| {
            complain("--listen 127.0.0.1:{d}: {s}", .{ port, @errorName(err) });
            return 1;
        };
    }
    for (cfg.dials[0..cfg.dial_count]) |port| {
        if (!node.dialPort(port, 5_000)) {
            complain("--dial 127.0.0.1:{d}: could not connect", .{port});
            return 1;
        }
    }

    while (!node.quit and !stop_requested.load(.monotonic)) {
        const r = node.host.step(1000, if (node.stdin_open) @as(sys.fd_t, 0) else null) catch |err| {
            Node.sayError(err, "polling");
            sleepMs(100);
            continue;
        };
        if (r.extra_ready) {
            node.readStdin();
            if (!node.stdin_open and !cfg.stay) node.quit = true;
        }
        if (nowMs() - last_maintain > maintain_every_s * 1000) {
            node.agent.maintain(nowUnix()) catch |err| Node.sayError(err, "maintenance");
            last_maintain = nowMs();
        }
    }

    // Deliver what can still be delivered, say what could not, and close every connection.
    node.host.flushOutbox() catch {};
    var ids: [256]dmp.AgentId = undefined;
    for (node.host.knownPeers(&ids)) |*id| {
        const n = node.host.pendingCount(id);
        if (n > 0) say("UNDELIVERED {s} {d}", .{ &fpOf(id), n });
    }
    node.host.closeAll("Quit");
    say("BYE", .{});
    return 0;
}
