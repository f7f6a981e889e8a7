//! Tests of the Janus bridge (dmp_bridge.zig), calling it exactly as Janus would.
//!
//! test.sh compiles dmp_bridge.zig the way `janus build` compiles a `use zig` file
//! (`zig build-obj -O ReleaseSafe -fno-stack-check -lc`) and links that object into this test.
//! Every bridge function is declared below, in `J`, with the types Janus gives it (i32, i64,
//! and `ptr` as ?*anyopaque: nothing else), and every call goes through `j("name")`, which
//! records it. The tests check:
//!  - the signatures: dmp_bridge.zig parsed the way Janus parses a `use zig` file; every
//!    function Janus would see is an `export fn ... callconv(.c)` using only i32, i64 and
//!    pointers, and `J` (what this test calls) is exactly what Janus would see; the `declare`
//!    lines of examples/first_app.ll agree too;
//!  - the library table (dmp_api.zig) against zig/src/c.zig (the module `dmp_c`);
//!  - every family with its error paths (NULL, negative and zero lengths, too-small buffers,
//!    tampered, replayed and foreign input), and the first-app lifecycle end to end;
//!  - that every exported function was called (statically: a `j("name")` call in this file;
//!    and at run time: the last test).
//!
//! Run with DMP_LIBRARY set to libdmp.so (test.sh does it). The first test also tries a path
//! that does not exist, before the library is loaded.

const std = @import("std");
const c = @import("dmp_c");
const dmp_api = @import("dmp_api.zig");
const static_libm = @import("static_libm.zig");
const testing = std.testing;

const bridge_src = @embedFile("dmp_bridge.zig");
const self_src = @embedFile("test_bridge.zig");
const first_app_ll = @embedFile("examples/first_app.ll");
const dmp_jan = @embedFile("dmp.jan");
const first_app_jan = @embedFile("examples/first_app.jan");

// =============================================================================================
// The bridge as Janus sees it: i32, i64, ptr (?*anyopaque), void
// =============================================================================================

pub const J = struct {
    pub extern fn dmpj_init(path: ?*anyopaque, path_len: i64) i32;
    pub extern fn dmpj_abi_version() i32;
    pub extern fn dmpj_version(out: ?*anyopaque, out_cap: i64, out_len: ?*anyopaque) i32;
    pub extern fn dmpj_strerror(status: i32, out: ?*anyopaque, out_cap: i64, out_len: ?*anyopaque) i32;
    pub extern fn dmpj_last_error_message(out: ?*anyopaque, out_cap: i64, out_len: ?*anyopaque) i32;
    pub extern fn dmpj_last_status() i32;
    pub extern fn dmpj_key_len() i64;
    pub extern fn dmpj_public_key_len() i64;
    pub extern fn dmpj_signature_len() i64;
    pub extern fn dmpj_fingerprint_len() i64;
    pub extern fn dmpj_session_id_len() i64;
    pub extern fn dmpj_group_id_len() i64;
    pub extern fn dmpj_aead_overhead() i64;
    pub extern fn dmpj_bundle_max_len() i64;
    pub extern fn dmpj_distribution_len() i64;
    pub extern fn dmpj_max_plaintext_len() i64;
    pub extern fn dmpj_max_envelope_len() i64;
    pub extern fn dmpj_aead_seal(key32: ?*anyopaque, ad: ?*anyopaque, ad_len: i64, pt: ?*anyopaque, pt_len: i64, out: ?*anyopaque, out_cap: i64, out_len: ?*anyopaque) i32;
    pub extern fn dmpj_aead_open(key32: ?*anyopaque, ad: ?*anyopaque, ad_len: i64, in: ?*anyopaque, in_len: i64, out: ?*anyopaque, out_cap: i64, out_len: ?*anyopaque) i32;
    pub extern fn dmpj_random_bytes(out: ?*anyopaque, len: i64) i32;
    pub extern fn dmpj_hkdf_sha256(salt: ?*anyopaque, salt_len: i64, ikm: ?*anyopaque, ikm_len: i64, info: ?*anyopaque, info_len: i64, out: ?*anyopaque, out_len: i64) i32;
    pub extern fn dmpj_ed25519_keypair(seed32_out: ?*anyopaque, public32_out: ?*anyopaque) i32;
    pub extern fn dmpj_ed25519_public(seed32: ?*anyopaque, public32_out: ?*anyopaque) i32;
    pub extern fn dmpj_ed25519_sign(seed32: ?*anyopaque, msg: ?*anyopaque, msg_len: i64, sig64_out: ?*anyopaque) i32;
    pub extern fn dmpj_ed25519_verify(public32: ?*anyopaque, msg: ?*anyopaque, msg_len: i64, sig64: ?*anyopaque) i32;
    pub extern fn dmpj_x25519_keypair(secret32_out: ?*anyopaque, public32_out: ?*anyopaque) i32;
    pub extern fn dmpj_x25519_public(secret32: ?*anyopaque, public32_out: ?*anyopaque) i32;
    pub extern fn dmpj_x25519(secret32: ?*anyopaque, public32: ?*anyopaque, shared32_out: ?*anyopaque) i32;
    pub extern fn dmpj_identity_generate(out: ?*anyopaque) i32;
    pub extern fn dmpj_identity_from_seed(seed32: ?*anyopaque, out: ?*anyopaque) i32;
    pub extern fn dmpj_identity_free(identity: ?*anyopaque) void;
    pub extern fn dmpj_identity_public_key(identity: ?*anyopaque, public32_out: ?*anyopaque) i32;
    pub extern fn dmpj_identity_fingerprint(identity: ?*anyopaque, out: ?*anyopaque, out_cap: i64, out_len: ?*anyopaque) i32;
    pub extern fn dmpj_fingerprint(agent_id32: ?*anyopaque, out: ?*anyopaque, out_cap: i64, out_len: ?*anyopaque) i32;
    pub extern fn dmpj_identity_sign(identity: ?*anyopaque, msg: ?*anyopaque, msg_len: i64, sig64_out: ?*anyopaque) i32;
    pub extern fn dmpj_identity_bundle(identity: ?*anyopaque, with_one_time_prekey: i32, out: ?*anyopaque, out_cap: i64, out_len: ?*anyopaque) i32;
    pub extern fn dmpj_bundle_verify(bundle: ?*anyopaque, bundle_len: i64, agent_id32_out: ?*anyopaque) i32;
    pub extern fn dmpj_identity_serialize(identity: ?*anyopaque, storage_key32: ?*anyopaque, out: ?*anyopaque, out_cap: i64, out_len: ?*anyopaque) i32;
    pub extern fn dmpj_identity_deserialize(record: ?*anyopaque, record_len: i64, storage_key32: ?*anyopaque, out: ?*anyopaque) i32;
    pub extern fn dmpj_session_initiate(identity: ?*anyopaque, bundle: ?*anyopaque, bundle_len: i64, out: ?*anyopaque) i32;
    pub extern fn dmpj_session_accept(identity: ?*anyopaque, envelope: ?*anyopaque, envelope_len: i64, session_out: ?*anyopaque, pt_out: ?*anyopaque, pt_cap: i64, pt_len: ?*anyopaque) i32;
    pub extern fn dmpj_session_encrypted_len(session: ?*anyopaque, pt_len: i64, len_out: ?*anyopaque) i32;
    pub extern fn dmpj_session_encrypt(session: ?*anyopaque, pt: ?*anyopaque, pt_len: i64, out: ?*anyopaque, out_cap: i64, out_len: ?*anyopaque) i32;
    pub extern fn dmpj_session_decrypt(session: ?*anyopaque, envelope: ?*anyopaque, envelope_len: i64, out: ?*anyopaque, out_cap: i64, out_len: ?*anyopaque) i32;
    pub extern fn dmpj_session_state(session: ?*anyopaque, state_out: ?*anyopaque) i32;
    pub extern fn dmpj_session_peer_id(session: ?*anyopaque, peer32_out: ?*anyopaque) i32;
    pub extern fn dmpj_session_id(session: ?*anyopaque, id8_out: ?*anyopaque) i32;
    pub extern fn dmpj_session_close(session: ?*anyopaque) i32;
    pub extern fn dmpj_session_serialize(session: ?*anyopaque, storage_key32: ?*anyopaque, out: ?*anyopaque, out_cap: i64, out_len: ?*anyopaque) i32;
    pub extern fn dmpj_session_deserialize(record: ?*anyopaque, record_len: i64, storage_key32: ?*anyopaque, out: ?*anyopaque) i32;
    pub extern fn dmpj_session_free(session: ?*anyopaque) void;
    pub extern fn dmpj_group_new(identity: ?*anyopaque, group_id32: ?*anyopaque, out: ?*anyopaque) i32;
    pub extern fn dmpj_group_free(group: ?*anyopaque) void;
    pub extern fn dmpj_group_id(group: ?*anyopaque, group_id32_out: ?*anyopaque) i32;
    pub extern fn dmpj_group_add_member(group: ?*anyopaque, member32: ?*anyopaque) i32;
    pub extern fn dmpj_group_remove_member(group: ?*anyopaque, member32: ?*anyopaque) i32;
    pub extern fn dmpj_group_member_count(group: ?*anyopaque, count_out: ?*anyopaque) i32;
    pub extern fn dmpj_group_distribution(group: ?*anyopaque, out: ?*anyopaque, out_cap: i64, out_len: ?*anyopaque) i32;
    pub extern fn dmpj_group_process_distribution(group: ?*anyopaque, sender32: ?*anyopaque, distribution: ?*anyopaque, distribution_len: i64) i32;
    pub extern fn dmpj_group_encrypt(group: ?*anyopaque, pt: ?*anyopaque, pt_len: i64, out: ?*anyopaque, out_cap: i64, out_len: ?*anyopaque) i32;
    pub extern fn dmpj_group_decrypt(group: ?*anyopaque, in: ?*anyopaque, in_len: i64, sender32_out: ?*anyopaque, out: ?*anyopaque, out_cap: i64, out_len: ?*anyopaque) i32;
    pub extern fn dmpj_group_serialize(group: ?*anyopaque, storage_key32: ?*anyopaque, out: ?*anyopaque, out_cap: i64, out_len: ?*anyopaque) i32;
    pub extern fn dmpj_group_deserialize(record: ?*anyopaque, record_len: i64, storage_key32: ?*anyopaque, out: ?*anyopaque) i32;
    pub extern fn dmpj_agent_open(path: ?*anyopaque, path_len: i64, storage_key32: ?*anyopaque, flags: i32, out: ?*anyopaque) i32;
    pub extern fn dmpj_agent_open_with_seed(path: ?*anyopaque, path_len: i64, storage_key32: ?*anyopaque, seed32: ?*anyopaque, flags: i32, out: ?*anyopaque) i32;
    pub extern fn dmpj_agent_free(agent: ?*anyopaque) void;
    pub extern fn dmpj_agent_id(agent: ?*anyopaque, id32_out: ?*anyopaque) i32;
    pub extern fn dmpj_agent_fingerprint(agent: ?*anyopaque, out: ?*anyopaque, out_cap: i64, out_len: ?*anyopaque) i32;
    pub extern fn dmpj_agent_bundle(agent: ?*anyopaque, with_one_time_prekey: i32, out: ?*anyopaque, out_cap: i64, out_len: ?*anyopaque) i32;
    pub extern fn dmpj_agent_add_bundle(agent: ?*anyopaque, bundle: ?*anyopaque, bundle_len: i64, peer32_out: ?*anyopaque) i32;
    pub extern fn dmpj_agent_send(agent: ?*anyopaque, peer32: ?*anyopaque, pt: ?*anyopaque, pt_len: i64, out: ?*anyopaque, out_cap: i64, out_len: ?*anyopaque) i32;
    pub extern fn dmpj_agent_connect(agent: ?*anyopaque, peer32: ?*anyopaque, out: ?*anyopaque, out_cap: i64, out_len: ?*anyopaque) i32;
    pub extern fn dmpj_agent_receive(agent: ?*anyopaque, envelope: ?*anyopaque, envelope_len: i64, event_out: ?*anyopaque) i32;
    pub extern fn dmpj_agent_pending_count(agent: ?*anyopaque, count_out: ?*anyopaque) i32;
    pub extern fn dmpj_agent_pending_event(agent: ?*anyopaque, index: i64, event_out: ?*anyopaque) i32;
    pub extern fn dmpj_agent_ack(agent: ?*anyopaque, seq: i64) i32;
    pub extern fn dmpj_agent_peers(agent: ?*anyopaque, out: ?*anyopaque, out_cap: i64, out_len: ?*anyopaque) i32;
    pub extern fn dmpj_agent_session_state(agent: ?*anyopaque, peer32: ?*anyopaque, state_out: ?*anyopaque) i32;
    pub extern fn dmpj_agent_maintain(agent: ?*anyopaque, now_unix: i64) i32;
    pub extern fn dmpj_agent_group_create(agent: ?*anyopaque, group_id32_out: ?*anyopaque) i32;
    pub extern fn dmpj_agent_group_add(agent: ?*anyopaque, group_id32: ?*anyopaque, peer32: ?*anyopaque) i32;
    pub extern fn dmpj_agent_group_remove(agent: ?*anyopaque, group_id32: ?*anyopaque, peer32: ?*anyopaque) i32;
    pub extern fn dmpj_agent_group_leave(agent: ?*anyopaque, group_id32: ?*anyopaque) i32;
    pub extern fn dmpj_agent_group_send(agent: ?*anyopaque, group_id32: ?*anyopaque, pt: ?*anyopaque, pt_len: i64, out: ?*anyopaque, out_cap: i64, out_len: ?*anyopaque) i32;
    pub extern fn dmpj_agent_group_members(agent: ?*anyopaque, group_id32: ?*anyopaque, out: ?*anyopaque, out_cap: i64, out_len: ?*anyopaque) i32;
    pub extern fn dmpj_agent_outbox_count(agent: ?*anyopaque, count_out: ?*anyopaque) i32;
    pub extern fn dmpj_agent_outbox_next(agent: ?*anyopaque, peer32_out: ?*anyopaque, out: ?*anyopaque, out_cap: i64, out_len: ?*anyopaque, seq_out: ?*anyopaque) i32;
    pub extern fn dmpj_agent_outbox_done(agent: ?*anyopaque, seq: i64) i32;
    pub extern fn dmpj_agent_sign(agent: ?*anyopaque, msg: ?*anyopaque, msg_len: i64, sig64_out: ?*anyopaque) i32;
    pub extern fn dmpj_agent_accept_peer(agent: ?*anyopaque, peer32: ?*anyopaque) i32;
    pub extern fn dmpj_agent_is_accepted(agent: ?*anyopaque, peer32: ?*anyopaque, accepted_out: ?*anyopaque) i32;
    pub extern fn dmpj_agent_close_session(agent: ?*anyopaque, peer32: ?*anyopaque) i32;
    pub extern fn dmpj_agent_forget_peer(agent: ?*anyopaque, peer32: ?*anyopaque) i32;
    pub extern fn dmpj_agent_unanswered_peers(agent: ?*anyopaque, now_unix: i64, out: ?*anyopaque, out_cap: i64, out_len: ?*anyopaque) i32;
    pub extern fn dmpj_event_kind(event: ?*anyopaque, kind_out: ?*anyopaque) i32;
    pub extern fn dmpj_event_peer(event: ?*anyopaque, peer32_out: ?*anyopaque) i32;
    pub extern fn dmpj_event_group_id(event: ?*anyopaque, group_id32_out: ?*anyopaque) i32;
    pub extern fn dmpj_event_plaintext(event: ?*anyopaque, out: ?*anyopaque, out_cap: i64, out_len: ?*anyopaque) i32;
    pub extern fn dmpj_event_seq(event: ?*anyopaque, seq_out: ?*anyopaque, new_session_out: ?*anyopaque) i32;
    pub extern fn dmpj_event_new_group(event: ?*anyopaque, new_group_out: ?*anyopaque) i32;
    pub extern fn dmpj_event_free(event: ?*anyopaque) void;
    pub extern fn dmpj_buf_new(len: i64) ?*anyopaque;
    pub extern fn dmpj_buf_free(buf: ?*anyopaque) void;
    pub extern fn dmpj_buf_len(buf: ?*anyopaque) i64;
    pub extern fn dmpj_buf_get(buf: ?*anyopaque, index: i64) i32;
    pub extern fn dmpj_buf_set(buf: ?*anyopaque, index: i64, value: i32) i32;
    pub extern fn dmpj_buf_i32(buf: ?*anyopaque, offset: i64) i32;
    pub extern fn dmpj_buf_i64(buf: ?*anyopaque, offset: i64) i64;
    pub extern fn dmpj_buf_ptr(buf: ?*anyopaque, offset: i64) ?*anyopaque;
    pub extern fn dmpj_mem_copy(dst: ?*anyopaque, src: ?*anyopaque, len: i64) i32;
    pub extern fn dmpj_mem_eq(a: ?*anyopaque, b: ?*anyopaque, len: i64) i32;
    pub extern fn dmpj_ptr_add(p: ?*anyopaque, offset: i64) ?*anyopaque;
    pub extern fn dmpj_cstr_len(s: ?*anyopaque) i64;
    pub extern fn dmpj_println(p: ?*anyopaque, len: i64) i32;
};

const j_names = @typeInfo(J).@"struct".decl_names;
/// Which bridge functions this run has called (checked by the last test).
var called: [j_names.len]bool = @splat(false);

fn nameIndex(comptime name: []const u8) usize {
    inline for (j_names, 0..) |n, i| {
        if (comptime std.mem.eql(u8, n, name)) return i;
    }
    @compileError("no bridge function " ++ name);
}

/// The bridge function `name` (as Janus declares it), noting that it was called.
fn j(comptime name: []const u8) *const @TypeOf(@field(J, name)) {
    called[comptime nameIndex(name)] = true;
    return &@field(J, name);
}

/// Any pointer, slice or handle as Janus's `ptr`.
fn P(x: anytype) ?*anyopaque {
    const T = @TypeOf(x);
    return switch (@typeInfo(T)) {
        .null => null,
        .optional => if (x) |v| P(v) else null,
        .pointer => |p| if (p.size == .slice) @ptrCast(@constCast(x.ptr)) else @ptrCast(@constCast(x)),
        else => @compileError("P: not a pointer: " ++ @typeName(T)),
    };
}

fn len64(s: []const u8) i64 {
    return @intCast(s.len);
}

fn lastError(buf: []u8) []const u8 {
    var n: i64 = 0;
    if (j("dmpj_last_error_message")(P(buf), len64(buf), P(&n)) != c.DMP_OK) return "(message too long)";
    return buf[0..@intCast(n)];
}

fn expectStatus(expected: i32, rc: i32) !void {
    if (rc == expected) return;
    var buf: [1024]u8 = undefined;
    std.debug.print("expected status {d}, got {d}: {s}\n", .{ expected, rc, lastError(&buf) });
    return error.TestUnexpectedResult;
}

fn ok(rc: i32) !void {
    return expectStatus(c.DMP_OK, rc);
}

/// The last error message on this thread contains `part`.
fn expectMessage(part: []const u8) !void {
    var buf: [1024]u8 = undefined;
    const msg = lastError(&buf);
    if (std.mem.indexOf(u8, msg, part) == null) {
        std.debug.print("last error message {s} does not contain {s}\n", .{ msg, part });
        return error.TestUnexpectedResult;
    }
}

fn randomKey() ![32]u8 {
    var k: [32]u8 = undefined;
    try ok(j("dmpj_random_bytes")(P(&k), 32));
    return k;
}

fn newIdentity() !?*anyopaque {
    var h: ?*anyopaque = null;
    try ok(j("dmpj_identity_generate")(P(&h)));
    try testing.expect(h != null);
    return h;
}

fn idOf(identity: ?*anyopaque) ![32]u8 {
    var id: [32]u8 = undefined;
    try ok(j("dmpj_identity_public_key")(identity, P(&id)));
    return id;
}

fn bundleOf(identity: ?*anyopaque, buf: []u8) ![]u8 {
    var n: i64 = 0;
    try ok(j("dmpj_identity_bundle")(identity, 1, P(buf), len64(buf), P(&n)));
    return buf[0..@intCast(n)];
}

fn sessionState(s: ?*anyopaque) !i32 {
    var v: i32 = -1;
    try ok(j("dmpj_session_state")(s, P(&v)));
    return v;
}

fn encrypt(s: ?*anyopaque, pt: []const u8, out: []u8) ![]u8 {
    var n: i64 = 0;
    try ok(j("dmpj_session_encrypt")(s, P(pt), len64(pt), P(out), len64(out), P(&n)));
    return out[0..@intCast(n)];
}

fn decrypt(s: ?*anyopaque, env: []const u8, out: []u8) ![]u8 {
    var n: i64 = 0;
    try ok(j("dmpj_session_decrypt")(s, P(env), len64(env), P(out), len64(out), P(&n)));
    return out[0..@intCast(n)];
}

/// Alice's and Bob's sessions, both ACTIVE (one message each way).
const Pair = struct { a: ?*anyopaque, b: ?*anyopaque };

fn sessionPair(alice: ?*anyopaque, bob: ?*anyopaque) !Pair {
    var bbuf: [c.DMP_BUNDLE_MAX_LEN]u8 = undefined;
    const bundle = try bundleOf(bob, &bbuf);
    var a: ?*anyopaque = null;
    try ok(j("dmpj_session_initiate")(alice, P(bundle), len64(bundle), P(&a)));
    var env_buf: [4096]u8 = undefined;
    const first = try encrypt(a, "ping", &env_buf);
    var b: ?*anyopaque = null;
    var pt: [64]u8 = undefined;
    var n: i64 = 0;
    try ok(j("dmpj_session_accept")(bob, P(first), len64(first), P(&b), P(&pt), pt.len, P(&n)));
    try testing.expectEqualStrings("ping", pt[0..@intCast(n)]);
    const reply = try encrypt(b, "pong", &env_buf);
    try testing.expectEqualStrings("pong", try decrypt(a, reply, &pt));
    return .{ .a = a, .b = b };
}

fn hex(comptime s: []const u8) [s.len / 2]u8 {
    var out: [s.len / 2]u8 = undefined;
    _ = std.fmt.hexToBytes(&out, s) catch unreachable;
    return out;
}

// =============================================================================================
// Signatures: the bridge as Janus parses it
// =============================================================================================

/// One function of a Zig file as Janus's `use zig` reader finds it.
const ZigSig = struct {
    name: []const u8,
    is_export: bool,
    c_callconv: bool,
    params: [16][]const u8 = undefined,
    n_params: usize = 0,
    ret: []const u8,
};

fn isWordChar(ch: u8) bool {
    return std.ascii.isAlphanumeric(ch) or ch == '_';
}

fn wordAt(src: []const u8, i: usize, word: []const u8) bool {
    if (!std.mem.startsWith(u8, src[i..], word)) return false;
    return i + word.len >= src.len or !isWordChar(src[i + word.len]);
}

fn skipSpace(src: []const u8, i: *usize) void {
    while (i.* < src.len and std.ascii.isWhitespace(src[i.*])) i.* += 1;
}

/// Finds every function Janus registers from a Zig source, by the rules of its reader
/// (compiler/.../zig_parser: `pub fn`, `pub export fn` and `export fn` anywhere outside `//`
/// comments; parameters split at top-level commas; the return type after an optional
/// `callconv(...)`, up to `{` or `;`; a function's body skipped by brace counting).
fn janusView(src: []const u8, out: []ZigSig) !usize {
    var count: usize = 0;
    var i: usize = 0;
    while (i < src.len) {
        skipSpace(src, &i);
        if (i >= src.len) break;
        if (i + 1 < src.len and src[i] == '/' and src[i + 1] == '/') {
            while (i < src.len and src[i] != '\n') i += 1;
            continue;
        }
        var is_export = false;
        var found = false;
        if (wordAt(src, i, "pub")) {
            var k = i + 3;
            skipSpace(src, &k);
            if (wordAt(src, k, "export")) {
                is_export = true;
                k += 6;
                skipSpace(src, &k);
            }
            if (wordAt(src, k, "fn")) {
                i = k + 2;
                found = true;
            }
        } else if (wordAt(src, i, "export")) {
            var k = i + 6;
            skipSpace(src, &k);
            if (wordAt(src, k, "fn")) {
                is_export = true;
                i = k + 2;
                found = true;
            }
        }
        if (!found) {
            i += 1;
            continue;
        }
        if (count == out.len) return error.TooManyFunctions;
        out[count] = try parseSig(src, &i, is_export);
        count += 1;
    }
    return count;
}

fn parseSig(src: []const u8, pos: *usize, is_export: bool) !ZigSig {
    var i = pos.*;
    skipSpace(src, &i);
    const name_start = i;
    while (i < src.len and isWordChar(src[i])) i += 1;
    var sig: ZigSig = .{ .name = src[name_start..i], .is_export = is_export, .c_callconv = false, .ret = "void" };
    skipSpace(src, &i);
    if (i >= src.len or src[i] != '(') return error.NoParameterList;
    i += 1;
    while (i < src.len and src[i] != ')') {
        skipSpace(src, &i);
        if (src[i] == ')') break;
        while (i < src.len and isWordChar(src[i])) i += 1;
        skipSpace(src, &i);
        if (src[i] != ':') return error.ParameterWithoutType;
        i += 1;
        const t0 = i;
        var depth: usize = 0;
        while (i < src.len) : (i += 1) {
            if (src[i] == '(') depth += 1;
            if (src[i] == ')') {
                if (depth == 0) break;
                depth -= 1;
            }
            if (src[i] == ',' and depth == 0) break;
        }
        if (sig.n_params == sig.params.len) return error.TooManyParameters;
        sig.params[sig.n_params] = std.mem.trim(u8, src[t0..i], " \t\r\n");
        sig.n_params += 1;
        if (i < src.len and src[i] == ',') i += 1;
    }
    i += 1; // ')'
    skipSpace(src, &i);
    if (wordAt(src, i, "callconv")) {
        const cc0 = i;
        while (i < src.len and src[i] != ')') i += 1;
        i += 1;
        sig.c_callconv = std.mem.eql(u8, std.mem.trim(u8, src[cc0..i], " "), "callconv(.c)");
        skipSpace(src, &i);
    }
    if (i < src.len and src[i] != '{') {
        const r0 = i;
        while (i < src.len and src[i] != '{' and src[i] != ';') i += 1;
        sig.ret = std.mem.trim(u8, src[r0..i], " \t\r\n");
    }
    var depth: usize = 0;
    while (i < src.len) : (i += 1) {
        if (src[i] == '{') depth += 1;
        if (src[i] == '}') {
            if (depth == 0) break;
            depth -= 1;
            if (depth == 0) {
                i += 1;
                break;
            }
        }
        if (src[i] == ';' and depth == 0) {
            i += 1;
            break;
        }
    }
    pos.* = i;
    return sig;
}

/// The type Janus gives a Zig type string (its own mapping, including the silent i32).
fn janusType(t: []const u8) []const u8 {
    const exact = [_][2][]const u8{
        .{ "i32", "i32" },   .{ "u32", "i32" },   .{ "i64", "i64" }, .{ "u64", "i64" },
        .{ "usize", "i64" }, .{ "isize", "i64" }, .{ "bool", "i1" }, .{ "void", "void" },
        .{ "f32", "f32" },   .{ "f64", "f64" },
    };
    for (exact) |e| if (std.mem.eql(u8, t, e[0])) return e[1];
    if (std.mem.indexOfScalar(u8, t, '*') != null) return "ptr";
    if (std.mem.startsWith(u8, t, "?")) return "ptr";
    return "i32";
}

/// The bridge's rule, stricter than Janus: a parameter is exactly i32 or i64 or a pointer; a
/// result is one of those or void. (Janus maps u32, usize, ... too, but silently changes
/// u8, u16, bool, slices and structs: none is allowed here.)
fn allowedType(t: []const u8, is_return: bool) bool {
    if (std.mem.eql(u8, t, "i32") or std.mem.eql(u8, t, "i64")) return true;
    if (is_return and std.mem.eql(u8, t, "void")) return true;
    for ([_][]const u8{ "*", "?*", "[*", "?[*" }) |prefix| {
        if (std.mem.startsWith(u8, t, prefix)) return true;
    }
    return false;
}

/// Problems of one signature by the bridge's rule; 0 if none.
fn sigProblems(sig: *const ZigSig, report: bool) usize {
    var problems: usize = 0;
    if (!sig.is_export or !sig.c_callconv) {
        if (report) std.debug.print("{s}: not an `export fn ... callconv(.c)` (a `pub fn` is read by Janus too)\n", .{sig.name});
        problems += 1;
    }
    for (sig.params[0..sig.n_params]) |t| {
        if (!allowedType(t, false)) {
            if (report) std.debug.print("{s}: parameter type {s} (Janus: {s}) is not i32, i64 or a pointer\n", .{ sig.name, t, janusType(t) });
            problems += 1;
        }
    }
    if (!allowedType(sig.ret, true)) {
        if (report) std.debug.print("{s}: result type {s} (Janus: {s}) is not i32, i64, a pointer or void\n", .{ sig.name, sig.ret, janusType(sig.ret) });
        problems += 1;
    }
    return problems;
}

/// The Janus type of a type of `J`.
fn jType(comptime T: type) []const u8 {
    return switch (T) {
        i32 => "i32",
        i64 => "i64",
        void => "void",
        ?*anyopaque => "ptr",
        else => @compileError("J uses a type Janus does not give: " ++ @typeName(T)),
    };
}

/// `J`'s functions: name, Janus parameter types, Janus result type.
const JSig = struct { name: []const u8, params: []const []const u8, ret: []const u8 };
const j_sigs: [j_names.len]JSig = blk: {
    var sigs: [j_names.len]JSig = undefined;
    for (j_names, 0..) |name, i| {
        const info = @typeInfo(@TypeOf(@field(J, name))).@"fn";
        var params: [info.param_types.len][]const u8 = undefined;
        for (info.param_types, 0..) |pt, k| params[k] = jType(pt.?);
        const frozen = params;
        sigs[i] = .{ .name = name, .params = &frozen, .ret = jType(info.return_type.?) };
    }
    break :blk sigs;
};

fn findJ(name: []const u8) ?*const JSig {
    for (&j_sigs) |*s| if (std.mem.eql(u8, s.name, name)) return s;
    return null;
}

test "signatures: Janus sees only export fns of i32, i64 and pointers, exactly what J calls" {
    var sigs: [256]ZigSig = undefined;
    const n = try janusView(bridge_src, &sigs);
    try testing.expect(n > 90);
    var problems: usize = 0;
    for (sigs[0..n]) |*sig| {
        problems += sigProblems(sig, true);
        if (!std.mem.startsWith(u8, sig.name, "dmpj_")) {
            std.debug.print("{s}: exports should be named dmpj_* (libdmp's own names are dmp_*)\n", .{sig.name});
            problems += 1;
        }
        const js = findJ(sig.name) orelse {
            std.debug.print("{s}: exported by the bridge but not declared (so not called) by this test\n", .{sig.name});
            problems += 1;
            continue;
        };
        var same = js.params.len == sig.n_params and std.mem.eql(u8, js.ret, janusType(sig.ret));
        if (same) {
            for (js.params, sig.params[0..sig.n_params]) |jp, bp| same = same and std.mem.eql(u8, jp, janusType(bp));
        }
        if (!same) {
            std.debug.print("{s}: the test's declaration differs from what Janus reads in the bridge\n", .{sig.name});
            problems += 1;
        }
    }
    // And the other way: every function of J is one Janus finds in the bridge.
    for (j_names) |name| {
        var found = false;
        for (sigs[0..n]) |*sig| found = found or std.mem.eql(u8, sig.name, name);
        if (!found) {
            std.debug.print("{s}: declared by the test but not exported by the bridge\n", .{name});
            problems += 1;
        }
    }
    try testing.expectEqual(@as(usize, 0), problems);
    try testing.expectEqual(j_names.len, n);
}

test "signatures: the checker itself catches what Janus would silently turn into i32" {
    const bad =
        \\// export fn in_a_comment(x: u8) void {}
        \\export fn takes_u8(x: u8) callconv(.c) i32 { return x; }
        \\export fn takes_slice(s: []const u8, n: usize) callconv(.c) i32 { return 0; }
        \\pub fn helper(b: bool) bool { return b; }
        \\export fn returns_u16(p: ?*anyopaque) callconv(.c) u16 { if (p) |_| { return 1; } return 0; }
        \\export fn fine(p: ?*align(1) i64, q: ?[*]const u8, n: i64) callconv(.c) ?*anyopaque { return null; }
        \\fn private(x: u8) u8 { return x; }
    ;
    var sigs: [8]ZigSig = undefined;
    const n = try janusView(bad, &sigs);
    try testing.expectEqual(@as(usize, 5), n);
    try testing.expectEqual(@as(usize, 1), sigProblems(&sigs[0], false)); // u8
    try testing.expectEqualStrings("i32", janusType(sigs[0].params[0])); // what Janus would do
    try testing.expectEqual(@as(usize, 2), sigProblems(&sigs[1], false)); // slice, usize
    try testing.expectEqual(@as(usize, 3), sigProblems(&sigs[2], false)); // pub fn, bool, bool
    try testing.expectEqual(@as(usize, 1), sigProblems(&sigs[3], false)); // u16
    try testing.expectEqual(@as(usize, 0), sigProblems(&sigs[4], false));
    try testing.expectEqualStrings("ptr", janusType(sigs[4].params[0]));
}

test "signatures: every export has a j(\"name\") call in this file" {
    var missing: usize = 0;
    for (j_names) |name| {
        var pat_buf: [80]u8 = undefined;
        const pat = try std.mem.print(&pat_buf, "j(\"{s}\")", .{name});
        // The declaration list and this test's own loop do not count: look for a call site.
        var count: usize = 0;
        var from: usize = 0;
        while (std.mem.indexOfPos(u8, self_src, from, pat)) |at| : (from = at + pat.len) count += 1;
        if (count == 0) {
            std.debug.print("{s}: no j(\"{s}\") call in test_bridge.zig\n", .{ name, name });
            missing += 1;
        }
    }
    try testing.expectEqual(@as(usize, 0), missing);
}

test "signatures: examples/first_app.ll declares the bridge functions as Janus would" {
    var sigs: [256]ZigSig = undefined;
    const n = try janusView(bridge_src, &sigs);
    var declared: usize = 0;
    var lines = std.mem.splitScalar(u8, first_app_ll, '\n');
    while (lines.next()) |line| {
        if (!std.mem.startsWith(u8, line, "declare ")) continue;
        const at = std.mem.indexOfScalar(u8, line, '@') orelse continue;
        const open = std.mem.indexOfScalarPos(u8, line, at, '(') orelse return error.BadDeclare;
        const close = std.mem.lastIndexOfScalar(u8, line, ')') orelse return error.BadDeclare;
        const name = line[at + 1 .. open];
        if (!std.mem.startsWith(u8, name, "dmpj_")) continue;
        const ret = std.mem.trim(u8, line["declare ".len..at], " ");
        const sig = for (sigs[0..n]) |*s| {
            if (std.mem.eql(u8, s.name, name)) break s;
        } else {
            std.debug.print("first_app.ll declares {s}, which the bridge does not export\n", .{name});
            return error.TestUnexpectedResult;
        };
        try testing.expectEqualStrings(janusType(sig.ret), ret);
        var it = std.mem.splitScalar(u8, line[open + 1 .. close], ',');
        var k: usize = 0;
        while (it.next()) |raw| {
            const t = std.mem.trim(u8, raw, " ");
            if (t.len == 0) continue;
            try testing.expect(k < sig.n_params);
            try testing.expectEqualStrings(janusType(sig.params[k]), t);
            k += 1;
        }
        try testing.expectEqual(sig.n_params, k);
        declared += 1;
    }
    try testing.expect(declared >= 15);
}

/// Checks every `dmpj_name(...)` call in a Janus source: the name is an export of the bridge
/// and the call has as many arguments as the export has parameters. Returns the calls seen.
fn checkJanusCalls(file: []const u8, src: []const u8, sigs: []const ZigSig) !usize {
    var calls: usize = 0;
    var problems: usize = 0;
    var i: usize = 0;
    while (std.mem.indexOfPos(u8, src, i, "dmpj_")) |at| {
        i = at + 5;
        if (at > 0 and isWordChar(src[at - 1])) continue;
        var e = at;
        while (e < src.len and isWordChar(src[e])) e += 1;
        if (e >= src.len or src[e] != '(') continue; // a mention in a comment, not a call
        const line_start = if (std.mem.lastIndexOfScalar(u8, src[0..at], '\n')) |nl| nl + 1 else 0;
        if (std.mem.indexOf(u8, src[line_start..at], "//") != null) continue;
        const name = src[at..e];
        // Count the arguments: top-level commas, skipping string literals.
        var depth: usize = 0;
        var args: usize = 0;
        var any = false;
        var k = e + 1;
        while (k < src.len) : (k += 1) {
            const ch = src[k];
            if (ch == '"') {
                k += 1;
                while (k < src.len and src[k] != '"') k += 1;
                any = true;
            } else if (ch == '(') {
                depth += 1;
            } else if (ch == ')') {
                if (depth == 0) break;
                depth -= 1;
            } else if (ch == ',' and depth == 0) {
                args += 1;
            } else if (!std.ascii.isWhitespace(ch)) {
                any = true;
            }
        }
        if (any) args += 1;
        calls += 1;
        const sig = for (sigs) |*sg| {
            if (std.mem.eql(u8, sg.name, name)) break sg;
        } else {
            std.debug.print("{s}: calls {s}, which the bridge does not export\n", .{ file, name });
            problems += 1;
            continue;
        };
        if (sig.n_params != args) {
            std.debug.print("{s}: {s} called with {d} arguments, the bridge takes {d}\n", .{ file, name, args, sig.n_params });
            problems += 1;
        }
    }
    if (problems != 0) return error.TestUnexpectedResult;
    return calls;
}

test "Janus sources: dmp.jan and first_app.jan call only exports, with their argument counts" {
    var sigs: [256]ZigSig = undefined;
    const n = try janusView(bridge_src, &sigs);
    try testing.expect(try checkJanusCalls("dmp.jan", dmp_jan, sigs[0..n]) > 80);
    try testing.expect(try checkJanusCalls("examples/first_app.jan", first_app_jan, sigs[0..n]) > 40);
    // And they load the bridge the way Janus does.
    try testing.expect(std.mem.indexOf(u8, dmp_jan, "use zig \"dmp_bridge.zig\"") != null);
    try testing.expect(std.mem.indexOf(u8, first_app_jan, "use zig \"../dmp_bridge.zig\"") != null);
}

/// The value of `const NAME: iNN = VALUE` in a Janus source, or null if it has no such line.
fn janusConst(src: []const u8, name: []const u8) ?i64 {
    var lines = std.mem.splitScalar(u8, src, '\n');
    while (lines.next()) |line| {
        if (!std.mem.startsWith(u8, line, "const ")) continue;
        const rest = line["const ".len..];
        if (!std.mem.startsWith(u8, rest, name) or rest.len <= name.len or rest[name.len] != ':') continue;
        const eq = std.mem.indexOfScalar(u8, rest, '=') orelse return null;
        const text = std.mem.trim(u8, rest[eq + 1 ..], " \t\r");
        return std.fmt.parseInt(i64, text, 10) catch null;
    }
    return null;
}

test "Janus sources: every constant of dmp.jan has the header's value" {
    // dmp.jan name -> header value (through zig/src/c.zig, which zig/tests checks against dmp.h).
    const NameValue = struct { []const u8, i64 };
    const pairs = [_]NameValue{
        .{ "OK", c.DMP_OK },
        .{ "SESSION_DORMANT", c.DMP_SESSION_DORMANT },
        .{ "SESSION_INITIATING", c.DMP_SESSION_INITIATING },
        .{ "SESSION_ACTIVE", c.DMP_SESSION_ACTIVE },
        .{ "SESSION_CLOSED", c.DMP_SESSION_CLOSED },
        .{ "EVENT_MESSAGE", c.DMP_EVENT_MESSAGE },
        .{ "EVENT_GROUP_MESSAGE", c.DMP_EVENT_GROUP_MESSAGE },
        .{ "EVENT_DISTRIBUTION_CONSUMED", c.DMP_EVENT_DISTRIBUTION_CONSUMED },
        .{ "EVENT_SESSION_ESTABLISHED", c.DMP_EVENT_SESSION_ESTABLISHED },
        .{ "AGENT_RETAIN_EVENTS", c.DMP_AGENT_RETAIN_EVENTS },
        .{ "AGENT_REFUSE_GROUP_INVITES", c.DMP_AGENT_REFUSE_GROUP_INVITES },
        .{ "AGENT_ALLOW_CLASSICAL", c.DMP_AGENT_ALLOW_CLASSICAL },
        .{ "KEY_LEN", c.DMP_KEY_LEN },
        .{ "PUBLIC_KEY_LEN", c.DMP_PUBLIC_KEY_LEN },
        .{ "AGENT_ID_LEN", c.DMP_PUBLIC_KEY_LEN },
        .{ "SIGNATURE_LEN", c.DMP_SIGNATURE_LEN },
        .{ "FINGERPRINT_LEN", c.DMP_FINGERPRINT_LEN },
        .{ "SESSION_ID_LEN", c.DMP_SESSION_ID_LEN },
        .{ "GROUP_ID_LEN", c.DMP_GROUP_ID_LEN },
        .{ "AEAD_OVERHEAD", c.DMP_AEAD_OVERHEAD },
        .{ "BUNDLE_MAX_LEN", c.DMP_BUNDLE_MAX_LEN },
        .{ "DISTRIBUTION_LEN", c.DMP_DISTRIBUTION_LEN },
        .{ "MAX_PLAINTEXT_LEN", c.DMP_MAX_PLAINTEXT_LEN },
        .{ "MAX_ENVELOPE_LEN", c.DMP_MAX_ENVELOPE_LEN },
    };
    var problems: usize = 0;
    for (pairs) |pair| {
        const got = janusConst(dmp_jan, pair[0]) orelse {
            std.debug.print("dmp.jan: no constant {s}\n", .{pair[0]});
            problems += 1;
            continue;
        };
        if (got != pair[1]) {
            std.debug.print("dmp.jan: {s} = {d}, the header says {d}\n", .{ pair[0], got, pair[1] });
            problems += 1;
        }
    }
    // The status codes, by the header's names.
    const errors = [_][]const u8{
        "INTERNAL",            "INVALID_ARGUMENT",   "NULL_POINTER",   "BUFFER_TOO_SMALL", "BAD_ENVELOPE",
        "UNSUPPORTED_VERSION", "WRONG_MESSAGE_TYPE", "AUTH_FAILED",    "DUPLICATE",        "TOO_FAR_AHEAD",
        "WRONG_SESSION",       "WRONG_STATE",        "BAD_SIGNATURE",  "WEAK_KEY",         "UNKNOWN_PREKEY",
        "WRONG_STORAGE_KEY",   "RANDOM_FAILURE",     "TOO_LARGE",      "BAD_STATE",        "UNKNOWN_SENDER",
        "UNKNOWN_KEY_ID",      "MEMBER_REMOVED",     "SUPERSEDED_KEY", "DOWNGRADE",        "PQ_REQUIRED",
        "NO_SESSION",          "STORE_LOCKED",       "STORE_FAILED",   "EXPIRED_BUNDLE",
    };
    inline for (errors) |e| {
        const got = janusConst(dmp_jan, "ERR_" ++ e);
        if (got != @as(i64, @field(c, "DMP_ERR_" ++ e))) {
            std.debug.print("dmp.jan: ERR_{s} = {?d}, the header says {d}\n", .{ e, got, @field(c, "DMP_ERR_" ++ e) });
            problems += 1;
        }
    }
    try testing.expectEqual(@as(usize, 0), problems);
    try testing.expectEqual(@as(?i64, 8), janusConst(dmp_jan, "SESSION_ID_LEN"));
    // Nothing else: every constant of dmp.jan is checked above, but the bridge's own
    // ERR_LIBRARY_UNAVAILABLE.
    var count: usize = 0;
    var lines = std.mem.splitScalar(u8, dmp_jan, '\n');
    while (lines.next()) |line| {
        if (std.mem.startsWith(u8, line, "const ")) count += 1;
    }
    try testing.expect(janusConst(dmp_jan, "ERR_LIBRARY_UNAVAILABLE") != null);
    try testing.expectEqual(pairs.len + errors.len + 1, count);
}

// =============================================================================================
// The library table against zig/src/c.zig (which zig/tests checks against include/dmp.h)
// =============================================================================================

fn sameType(comptime A: type, comptime B: type) bool {
    if (A == B) return true;
    const a = @typeInfo(A);
    const b = @typeInfo(B);
    if (std.meta.activeTag(a) != std.meta.activeTag(b)) return false;
    return switch (a) {
        .optional => sameType(a.optional.child, b.optional.child),
        .pointer => a.pointer.size == b.pointer.size and
            a.pointer.attrs.@"const" == b.pointer.attrs.@"const" and
            a.pointer.attrs.@"volatile" == b.pointer.attrs.@"volatile" and
            (a.pointer.sentinel_ptr == null) == (b.pointer.sentinel_ptr == null) and
            sameType(a.pointer.child, b.pointer.child),
        // Handles: anyopaque in the bridge, dmp_*_t in c.zig; both opaque.
        .@"opaque" => true,
        else => false,
    };
}

test "library table: every function of dmp_api.zig has the signature of zig/src/c.zig" {
    const info = @typeInfo(dmp_api.Api).@"struct";
    var mismatches: usize = 0;
    inline for (info.field_names, info.field_types) |name, T| {
        const mine = @typeInfo(@typeInfo(T).pointer.child).@"fn";
        const theirs = @typeInfo(@TypeOf(@field(c, name))).@"fn";
        var same = mine.param_types.len == theirs.param_types.len and
            sameType(mine.return_type.?, theirs.return_type.?) and
            mine.attrs.@"callconv".eql(theirs.attrs.@"callconv");
        if (same) {
            inline for (mine.param_types, theirs.param_types) |x, y| same = same and sameType(x.?, y.?);
        }
        if (!same) {
            std.debug.print("dmp_api.zig: {s} differs from zig/src/c.zig\n", .{name});
            mismatches += 1;
        }
    }
    try testing.expectEqual(@as(usize, 0), mismatches);
    try testing.expectEqual(@as(u32, c.DMP_ABI_VERSION), dmp_api.abi_version);
}

// =============================================================================================
// Loading, status and version
// =============================================================================================

test "loading: a path that does not exist, then the library from DMP_LIBRARY" {
    // Before anything loaded the library (this is the first test that calls it).
    const bogus = "/nonexistent/dir/libdmp.so";
    try expectStatus(-1000, j("dmpj_init")(P(bogus), len64(bogus)));
    try expectMessage("DMPJ_ERR_LIBRARY_UNAVAILABLE");
    try expectMessage(bogus);
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_init")(null, -1));
    try expectMessage("dmpj_init: path_len is negative");
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_init")(null, 5));
    // Default places: DMP_LIBRARY (test.sh sets it).
    try ok(j("dmpj_init")(null, 0));
    try testing.expectEqual(@as(i32, c.DMP_ABI_VERSION), j("dmpj_abi_version")());
    // Loaded once: another path changes nothing.
    try ok(j("dmpj_init")(P(bogus), len64(bogus)));
}

test "status: version, strerror, last error message, with their buffer rules" {
    var buf: [256]u8 = undefined;
    var n: i64 = -1;
    try ok(j("dmpj_version")(P(&buf), buf.len, P(&n)));
    try testing.expect(n > 0 and n < buf.len);
    try testing.expectEqual(@as(u8, 0), buf[@intCast(n)]); // NUL added when there is room
    try testing.expect(std.ascii.isDigit(buf[0]));
    // Size query, too small, exact fit (no room for the NUL: none written), errors.
    const vlen = n;
    try expectStatus(c.DMP_ERR_BUFFER_TOO_SMALL, j("dmpj_version")(null, 0, P(&n)));
    try testing.expectEqual(vlen, n);
    try expectStatus(c.DMP_ERR_BUFFER_TOO_SMALL, j("dmpj_version")(P(&buf), vlen - 1, P(&n)));
    buf[@intCast(vlen)] = 'x';
    try ok(j("dmpj_version")(P(&buf), vlen, P(&n)));
    try testing.expectEqual(@as(u8, 'x'), buf[@intCast(vlen)]);
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_version")(P(&buf), buf.len, null));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_version")(P(&buf), -1, P(&n)));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_version")(null, buf.len, P(&n)));

    try ok(j("dmpj_strerror")(c.DMP_ERR_AUTH_FAILED, P(&buf), buf.len, P(&n)));
    try testing.expect(std.mem.indexOf(u8, buf[0..@intCast(n)], "AUTH") != null or n > 5);
    try ok(j("dmpj_strerror")(0, P(&buf), buf.len, P(&n)));
    try ok(j("dmpj_strerror")(-12345, P(&buf), buf.len, P(&n)));
    try ok(j("dmpj_strerror")(-1000, P(&buf), buf.len, P(&n)));
    try testing.expect(std.mem.indexOf(u8, buf[0..@intCast(n)], "could not be loaded") != null);
    try expectStatus(c.DMP_ERR_BUFFER_TOO_SMALL, j("dmpj_strerror")(c.DMP_ERR_AUTH_FAILED, P(&buf), 2, P(&n)));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_strerror")(0, P(&buf), buf.len, null));

    // A library failure: its detail is the library's.
    var id: [32]u8 = @splat(0);
    var fp: [64]u8 = undefined;
    try testing.expect(j("dmpj_fingerprint")(P(&id), P(&fp), fp.len, P(&n)) < 0);
    try expectMessage("dmp_fingerprint");
    // A bridge failure: its detail is the bridge's, naming the function and the argument.
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_random_bytes")(P(&buf), -5));
    try expectMessage("dmpj_random_bytes: len is negative (-5)");
    // Asking for the message with a too-small buffer does not replace it.
    var tiny: [4]u8 = undefined;
    try expectStatus(c.DMP_ERR_BUFFER_TOO_SMALL, j("dmpj_last_error_message")(P(&tiny), tiny.len, P(&n)));
    try testing.expect(n > tiny.len);
    try expectMessage("dmpj_random_bytes: len is negative");
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_last_error_message")(P(&buf), buf.len, null));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_last_error_message")(P(&buf), -1, P(&n)));
    try expectMessage("dmpj_random_bytes: len is negative");
    // A success does not clear it (as in the library: "the last failure").
    try ok(j("dmpj_random_bytes")(P(&buf), 8));
    try expectMessage("dmpj_random_bytes: len is negative");
    // The last status follows the same rules: the bridge's failure, then the library's.
    try testing.expectEqual(@as(i32, c.DMP_ERR_INVALID_ARGUMENT), j("dmpj_last_status")());
    try expectStatus(c.DMP_ERR_WEAK_KEY, j("dmpj_fingerprint")(P(&id), P(&fp), fp.len, P(&n)));
    try testing.expectEqual(@as(i32, c.DMP_ERR_WEAK_KEY), j("dmpj_last_status")());
    try ok(j("dmpj_random_bytes")(P(&buf), 8));
    try testing.expectEqual(@as(i32, c.DMP_ERR_WEAK_KEY), j("dmpj_last_status")());
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_buf_get")(null, 0));
    try testing.expectEqual(@as(i32, c.DMP_ERR_NULL_POINTER), j("dmpj_last_status")());
}

test "sizes: every size function equals the header's constant" {
    try testing.expectEqual(@as(i64, c.DMP_KEY_LEN), j("dmpj_key_len")());
    try testing.expectEqual(@as(i64, c.DMP_PUBLIC_KEY_LEN), j("dmpj_public_key_len")());
    try testing.expectEqual(@as(i64, c.DMP_SIGNATURE_LEN), j("dmpj_signature_len")());
    try testing.expectEqual(@as(i64, c.DMP_FINGERPRINT_LEN), j("dmpj_fingerprint_len")());
    try testing.expectEqual(@as(i64, c.DMP_SESSION_ID_LEN), j("dmpj_session_id_len")());
    try testing.expectEqual(@as(i64, c.DMP_GROUP_ID_LEN), j("dmpj_group_id_len")());
    try testing.expectEqual(@as(i64, c.DMP_AEAD_OVERHEAD), j("dmpj_aead_overhead")());
    try testing.expectEqual(@as(i64, c.DMP_BUNDLE_MAX_LEN), j("dmpj_bundle_max_len")());
    try testing.expectEqual(@as(i64, c.DMP_DISTRIBUTION_LEN), j("dmpj_distribution_len")());
    try testing.expectEqual(@as(i64, c.DMP_MAX_PLAINTEXT_LEN), j("dmpj_max_plaintext_len")());
    try testing.expectEqual(@as(i64, c.DMP_MAX_ENVELOPE_LEN), j("dmpj_max_envelope_len")());
}

// =============================================================================================
// Raw primitives
// =============================================================================================

test "raw: AEAD seal and open; tampered, truncated, wrong key and ad; buffers; NULL" {
    const key = try randomKey();
    const ad = "header v1";
    const msg = "attack at dawn";
    var sealed: [msg.len + c.DMP_AEAD_OVERHEAD]u8 = undefined;
    var n: i64 = 0;
    // Size query first: NULL out, capacity 0.
    try expectStatus(c.DMP_ERR_BUFFER_TOO_SMALL, j("dmpj_aead_seal")(P(&key), P(ad), ad.len, P(msg), msg.len, null, 0, P(&n)));
    try testing.expectEqual(@as(i64, sealed.len), n);
    try expectStatus(c.DMP_ERR_BUFFER_TOO_SMALL, j("dmpj_aead_seal")(P(&key), P(ad), ad.len, P(msg), msg.len, P(&sealed), sealed.len - 1, P(&n)));
    try ok(j("dmpj_aead_seal")(P(&key), P(ad), ad.len, P(msg), msg.len, P(&sealed), sealed.len, P(&n)));
    try testing.expectEqual(@as(i64, sealed.len), n);
    var opened: [msg.len]u8 = undefined;
    try ok(j("dmpj_aead_open")(P(&key), P(ad), ad.len, P(&sealed), sealed.len, P(&opened), opened.len, P(&n)));
    try testing.expectEqualStrings(msg, opened[0..@intCast(n)]);
    try expectStatus(c.DMP_ERR_BUFFER_TOO_SMALL, j("dmpj_aead_open")(P(&key), P(ad), ad.len, P(&sealed), sealed.len, P(&opened), 3, P(&n)));
    try testing.expectEqual(@as(i64, msg.len), n);

    // Every byte flipped in turn: refused.
    for (0..sealed.len) |i| {
        var t = sealed;
        t[i] ^= 0x01;
        try expectStatus(c.DMP_ERR_AUTH_FAILED, j("dmpj_aead_open")(P(&key), P(ad), ad.len, P(&t), t.len, P(&opened), opened.len, P(&n)));
    }
    var other = key;
    other[0] ^= 1;
    try expectStatus(c.DMP_ERR_AUTH_FAILED, j("dmpj_aead_open")(P(&other), P(ad), ad.len, P(&sealed), sealed.len, P(&opened), opened.len, P(&n)));
    try expectStatus(c.DMP_ERR_AUTH_FAILED, j("dmpj_aead_open")(P(&key), P("header v2"), ad.len, P(&sealed), sealed.len, P(&opened), opened.len, P(&n)));
    try expectStatus(c.DMP_ERR_AUTH_FAILED, j("dmpj_aead_open")(P(&key), null, 0, P(&sealed), sealed.len, P(&opened), opened.len, P(&n)));
    try expectStatus(c.DMP_ERR_AUTH_FAILED, j("dmpj_aead_open")(P(&key), P(ad), ad.len, P(&sealed), c.DMP_AEAD_OVERHEAD - 1, P(&opened), opened.len, P(&n)));
    try expectStatus(c.DMP_ERR_AUTH_FAILED, j("dmpj_aead_open")(P(&key), P(ad), ad.len, P(&sealed), sealed.len - 1, P(&opened), opened.len, P(&n)));
    try expectStatus(c.DMP_ERR_AUTH_FAILED, j("dmpj_aead_open")(P(&key), P(ad), ad.len, null, 0, P(&opened), opened.len, P(&n)));

    // Empty plaintext and empty ad (NULL with length 0) are fine.
    var sealed0: [c.DMP_AEAD_OVERHEAD]u8 = undefined;
    try ok(j("dmpj_aead_seal")(P(&key), null, 0, null, 0, P(&sealed0), sealed0.len, P(&n)));
    try testing.expectEqual(@as(i64, c.DMP_AEAD_OVERHEAD), n);
    try ok(j("dmpj_aead_open")(P(&key), null, 0, P(&sealed0), sealed0.len, null, 0, P(&n)));
    try testing.expectEqual(@as(i64, 0), n);

    // NULL and negative arguments.
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_aead_seal")(null, P(ad), ad.len, P(msg), msg.len, P(&sealed), sealed.len, P(&n)));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_aead_seal")(P(&key), P(ad), ad.len, null, 5, P(&sealed), sealed.len, P(&n)));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_aead_seal")(P(&key), P(ad), ad.len, P(msg), msg.len, P(&sealed), sealed.len, null));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_aead_seal")(P(&key), P(ad), -1, P(msg), msg.len, P(&sealed), sealed.len, P(&n)));
    try expectMessage("dmpj_aead_seal: ad_len is negative");
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_aead_seal")(P(&key), P(ad), ad.len, P(msg), -1, P(&sealed), sealed.len, P(&n)));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_aead_seal")(P(&key), P(ad), ad.len, P(msg), msg.len, P(&sealed), std.math.minInt(i64), P(&n)));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_aead_open")(null, P(ad), ad.len, P(&sealed), sealed.len, P(&opened), opened.len, P(&n)));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_aead_open")(P(&key), P(ad), ad.len, P(&sealed), -40, P(&opened), opened.len, P(&n)));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_aead_open")(P(&key), P(ad), -2, P(&sealed), sealed.len, P(&opened), opened.len, P(&n)));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_aead_open")(P(&key), P(ad), ad.len, P(&sealed), sealed.len, P(&opened), -1, P(&n)));
    // The out_len of a call the bridge refused is left alone.
    n = 77;
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_aead_open")(P(&key), P(ad), ad.len, P(&sealed), sealed.len, P(&opened), -1, P(&n)));
    try testing.expectEqual(@as(i64, 77), n);
}

test "raw: random bytes and HKDF-SHA256 (RFC 5869 case 1)" {
    var a: [64]u8 = @splat(0);
    var b: [64]u8 = @splat(0);
    try ok(j("dmpj_random_bytes")(P(&a), a.len));
    try ok(j("dmpj_random_bytes")(P(&b), b.len));
    try testing.expect(!std.mem.eql(u8, &a, &b));
    try ok(j("dmpj_random_bytes")(null, 0));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_random_bytes")(null, 8));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_random_bytes")(P(&a), -1));

    const ikm: [22]u8 = @splat(0x0b);
    const salt = hex("000102030405060708090a0b0c");
    const info = hex("f0f1f2f3f4f5f6f7f8f9");
    const expected = hex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
    var okm: [42]u8 = undefined;
    try ok(j("dmpj_hkdf_sha256")(P(&salt), salt.len, P(&ikm), ikm.len, P(&info), info.len, P(&okm), okm.len));
    try testing.expectEqualSlices(u8, &expected, &okm);
    try ok(j("dmpj_hkdf_sha256")(null, 0, P(&ikm), ikm.len, null, 0, P(&okm), okm.len));
    try ok(j("dmpj_hkdf_sha256")(null, 0, null, 0, null, 0, null, 0));
    var big: [c.DMP_HKDF_MAX_LEN + 1]u8 = undefined;
    try expectStatus(c.DMP_ERR_TOO_LARGE, j("dmpj_hkdf_sha256")(null, 0, P(&ikm), ikm.len, null, 0, P(&big), big.len));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_hkdf_sha256")(null, 0, P(&ikm), ikm.len, null, 0, null, 8));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_hkdf_sha256")(null, 3, P(&ikm), ikm.len, null, 0, P(&okm), okm.len));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_hkdf_sha256")(P(&salt), -1, P(&ikm), ikm.len, null, 0, P(&okm), okm.len));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_hkdf_sha256")(P(&salt), salt.len, P(&ikm), -1, null, 0, P(&okm), okm.len));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_hkdf_sha256")(P(&salt), salt.len, P(&ikm), ikm.len, null, -1, P(&okm), okm.len));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_hkdf_sha256")(P(&salt), salt.len, P(&ikm), ikm.len, null, 0, P(&okm), -1));
}

test "raw: Ed25519 (RFC 8032 test 1), fresh keys, tampered messages, NULL" {
    const seed = hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
    const public = hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
    const expected_sig = hex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
    var pk: [32]u8 = undefined;
    try ok(j("dmpj_ed25519_public")(P(&seed), P(&pk)));
    try testing.expectEqualSlices(u8, &public, &pk);
    var sig: [64]u8 = undefined;
    try ok(j("dmpj_ed25519_sign")(P(&seed), null, 0, P(&sig)));
    try testing.expectEqualSlices(u8, &expected_sig, &sig);
    try ok(j("dmpj_ed25519_verify")(P(&public), null, 0, P(&sig)));

    var s2: [32]u8 = undefined;
    var p2: [32]u8 = undefined;
    try ok(j("dmpj_ed25519_keypair")(P(&s2), P(&p2)));
    const msg = "a message from an agent";
    try ok(j("dmpj_ed25519_sign")(P(&s2), P(msg), msg.len, P(&sig)));
    try ok(j("dmpj_ed25519_verify")(P(&p2), P(msg), msg.len, P(&sig)));
    try expectStatus(c.DMP_ERR_BAD_SIGNATURE, j("dmpj_ed25519_verify")(P(&p2), P(msg), msg.len - 1, P(&sig)));
    try expectStatus(c.DMP_ERR_BAD_SIGNATURE, j("dmpj_ed25519_verify")(P(&public), P(msg), msg.len, P(&sig)));
    sig[10] ^= 4;
    try expectStatus(c.DMP_ERR_BAD_SIGNATURE, j("dmpj_ed25519_verify")(P(&p2), P(msg), msg.len, P(&sig)));

    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_ed25519_keypair")(null, P(&p2)));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_ed25519_public")(null, P(&p2)));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_ed25519_sign")(P(&s2), P(msg), msg.len, null));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_ed25519_verify")(null, P(msg), msg.len, P(&sig)));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_ed25519_sign")(P(&s2), P(msg), -1, P(&sig)));
    // Messages beginning with "DMP" are the protocol's own (a bundle's signature): refused.
    const reserved = "DMP1 prekey bundle";
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_ed25519_sign")(P(&s2), P(reserved), reserved.len, P(&sig)));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_ed25519_verify")(P(&p2), P(msg), -1, P(&sig)));
}

test "raw: X25519 (RFC 7748 section 6.1), fresh pairs, a small-order key, NULL" {
    const a_sk = hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
    const a_pk = hex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
    const b_pk = hex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
    const shared = hex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
    var pk: [32]u8 = undefined;
    try ok(j("dmpj_x25519_public")(P(&a_sk), P(&pk)));
    try testing.expectEqualSlices(u8, &a_pk, &pk);
    var out: [32]u8 = undefined;
    try ok(j("dmpj_x25519")(P(&a_sk), P(&b_pk), P(&out)));
    try testing.expectEqualSlices(u8, &shared, &out);

    var s1: [32]u8 = undefined;
    var p1: [32]u8 = undefined;
    var s2: [32]u8 = undefined;
    var p2: [32]u8 = undefined;
    try ok(j("dmpj_x25519_keypair")(P(&s1), P(&p1)));
    try ok(j("dmpj_x25519_keypair")(P(&s2), P(&p2)));
    var k12: [32]u8 = undefined;
    var k21: [32]u8 = undefined;
    try ok(j("dmpj_x25519")(P(&s1), P(&p2), P(&k12)));
    try ok(j("dmpj_x25519")(P(&s2), P(&p1), P(&k21)));
    try testing.expectEqualSlices(u8, &k12, &k21);

    const zero: [32]u8 = @splat(0);
    try expectStatus(c.DMP_ERR_WEAK_KEY, j("dmpj_x25519")(P(&s1), P(&zero), P(&out)));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_x25519")(P(&s1), null, P(&out)));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_x25519_keypair")(P(&s1), null));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_x25519_public")(P(&s1), null));
}

// =============================================================================================
// Identity
// =============================================================================================

test "identity: generate, seed, key, fingerprints, signatures, bundles, serialization" {
    const alice = try newIdentity();
    defer j("dmpj_identity_free")(alice);
    const alice_id = try idOf(alice);

    // From a seed: the same agent id every time.
    const seed = try randomKey();
    var s1: ?*anyopaque = null;
    var s2: ?*anyopaque = null;
    try ok(j("dmpj_identity_from_seed")(P(&seed), P(&s1)));
    defer j("dmpj_identity_free")(s1);
    try ok(j("dmpj_identity_from_seed")(P(&seed), P(&s2)));
    defer j("dmpj_identity_free")(s2);
    try testing.expectEqualSlices(u8, &(try idOf(s1)), &(try idOf(s2)));
    try testing.expect(!std.mem.eql(u8, &alice_id, &(try idOf(s1))));

    // Fingerprint: 39 ASCII bytes, the same from the handle and from the id.
    var fp: [64]u8 = undefined;
    var fp2: [64]u8 = undefined;
    var n: i64 = 0;
    var n2: i64 = 0;
    try ok(j("dmpj_identity_fingerprint")(alice, P(&fp), fp.len, P(&n)));
    try testing.expectEqual(@as(i64, c.DMP_FINGERPRINT_LEN), n);
    try ok(j("dmpj_fingerprint")(P(&alice_id), P(&fp2), fp2.len, P(&n2)));
    try testing.expectEqualSlices(u8, fp[0..@intCast(n)], fp2[0..@intCast(n2)]);
    try testing.expectEqual(@as(u8, ' '), fp[4]);
    try expectStatus(c.DMP_ERR_BUFFER_TOO_SMALL, j("dmpj_identity_fingerprint")(alice, P(&fp), 38, P(&n)));
    try testing.expectEqual(@as(i64, 39), n);
    try expectStatus(c.DMP_ERR_BUFFER_TOO_SMALL, j("dmpj_fingerprint")(P(&alice_id), null, 0, P(&n)));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_identity_fingerprint")(null, P(&fp), fp.len, P(&n)));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_identity_fingerprint")(alice, P(&fp), -1, P(&n)));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_fingerprint")(P(&alice_id), P(&fp), -1, P(&n)));
    var not_a_point: [32]u8 = @splat(0);
    not_a_point[0] = 2; // y = 2 is on no point of the curve
    try expectStatus(c.DMP_ERR_BAD_ENVELOPE, j("dmpj_fingerprint")(P(&not_a_point), P(&fp), fp.len, P(&n)));
    const zero: [32]u8 = @splat(0); // the small-order point y = 0
    try expectStatus(c.DMP_ERR_WEAK_KEY, j("dmpj_fingerprint")(P(&zero), P(&fp), fp.len, P(&n)));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_fingerprint")(null, P(&fp), fp.len, P(&n)));

    // Signatures by the identity verify under its agent id.
    const msg = "I am Alice";
    var sig: [64]u8 = undefined;
    try ok(j("dmpj_identity_sign")(alice, P(msg), msg.len, P(&sig)));
    try ok(j("dmpj_ed25519_verify")(P(&alice_id), P(msg), msg.len, P(&sig)));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_identity_sign")(null, P(msg), msg.len, P(&sig)));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_identity_sign")(alice, P(msg), -1, P(&sig)));

    // Bundles: sizes, verification, a tampered one, flags.
    var bundle: [c.DMP_BUNDLE_MAX_LEN]u8 = undefined;
    try expectStatus(c.DMP_ERR_BUFFER_TOO_SMALL, j("dmpj_identity_bundle")(alice, 1, null, 0, P(&n)));
    try testing.expectEqual(@as(i64, c.DMP_BUNDLE_MAX_LEN), n);
    try ok(j("dmpj_identity_bundle")(alice, 0, P(&bundle), bundle.len, P(&n)));
    try testing.expectEqual(@as(i64, c.DMP_HYBRID_BUNDLE_LEN), n);
    try ok(j("dmpj_identity_bundle")(alice, 1, P(&bundle), bundle.len, P(&n)));
    try testing.expectEqual(@as(i64, c.DMP_BUNDLE_MAX_LEN), n);
    var vid: [32]u8 = undefined;
    try ok(j("dmpj_bundle_verify")(P(&bundle), n, P(&vid)));
    try testing.expectEqualSlices(u8, &alice_id, &vid);
    var bad = bundle;
    bad[100] ^= 1;
    try testing.expect(j("dmpj_bundle_verify")(P(&bad), n, P(&vid)) < 0);
    try testing.expect(j("dmpj_bundle_verify")(P(&bundle), n - 1, P(&vid)) < 0);
    try testing.expect(j("dmpj_bundle_verify")(null, 0, P(&vid)) < 0);
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_bundle_verify")(P(&bundle), -1, P(&vid)));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_identity_bundle")(alice, 2, P(&bundle), bundle.len, P(&n)));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_identity_bundle")(alice, 1, P(&bundle), -1, P(&n)));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_identity_bundle")(null, 1, P(&bundle), bundle.len, P(&n)));

    // Serialization under a storage key; the wrong key is refused.
    const key = try randomKey();
    var rec: [16384]u8 = undefined;
    try expectStatus(c.DMP_ERR_BUFFER_TOO_SMALL, j("dmpj_identity_serialize")(alice, P(&key), null, 0, P(&n)));
    try testing.expect(n > 0 and n <= rec.len);
    try ok(j("dmpj_identity_serialize")(alice, P(&key), P(&rec), rec.len, P(&n)));
    var restored: ?*anyopaque = null;
    try ok(j("dmpj_identity_deserialize")(P(&rec), n, P(&key), P(&restored)));
    defer j("dmpj_identity_free")(restored);
    try testing.expectEqualSlices(u8, &alice_id, &(try idOf(restored)));
    var wrong = key;
    wrong[31] ^= 0x80;
    var none: ?*anyopaque = P(&wrong); // overwritten with NULL on failure
    try expectStatus(c.DMP_ERR_WRONG_STORAGE_KEY, j("dmpj_identity_deserialize")(P(&rec), n, P(&wrong), P(&none)));
    try testing.expect(none == null);
    rec[20] ^= 1;
    try testing.expect(j("dmpj_identity_deserialize")(P(&rec), n, P(&key), P(&none)) < 0);
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_identity_deserialize")(P(&rec), -1, P(&key), P(&none)));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_identity_deserialize")(P(&rec), n, P(&key), null));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_identity_serialize")(null, P(&key), P(&rec), rec.len, P(&n)));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_identity_serialize")(alice, P(&key), P(&rec), -1, P(&n)));

    // NULL everywhere else.
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_identity_generate")(null));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_identity_from_seed")(null, P(&none)));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_identity_public_key")(null, P(&vid)));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_identity_public_key")(alice, null));
    j("dmpj_identity_free")(null);
}

// =============================================================================================
// Session: the first Libertaria app, as examples/first_app.jan does it
// =============================================================================================

test "first app: DORMANT -> INITIATING -> ACTIVE -> CLOSED with bridge buffers, as Janus does" {
    // Everything through dmpj_buf_* buffers and cells, as a Janus program has no byte arrays.
    const buf_new = j("dmpj_buf_new");
    const cell = buf_new(8) orelse return error.OutOfMemory; // handles, lengths, states
    defer j("dmpj_buf_free")(cell);

    // 1. Two identities with real keys.
    try ok(j("dmpj_identity_generate")(cell));
    const alice = j("dmpj_buf_ptr")(cell, 0);
    defer j("dmpj_identity_free")(alice);
    try ok(j("dmpj_identity_generate")(cell));
    const bob = j("dmpj_buf_ptr")(cell, 0);
    defer j("dmpj_identity_free")(bob);
    try testing.expect(alice != null and bob != null and alice != bob);

    // 2. Bob publishes a bundle (with a one-time prekey).
    const bundle = buf_new(c.DMP_BUNDLE_MAX_LEN);
    defer j("dmpj_buf_free")(bundle);
    try ok(j("dmpj_identity_bundle")(bob, 1, bundle, c.DMP_BUNDLE_MAX_LEN, cell));
    const bundle_len = j("dmpj_buf_i64")(cell, 0);
    try testing.expectEqual(@as(i64, c.DMP_BUNDLE_MAX_LEN), bundle_len);

    // 3. Alice starts a session from it: DORMANT.
    try ok(j("dmpj_session_initiate")(alice, bundle, bundle_len, cell));
    const a = j("dmpj_buf_ptr")(cell, 0);
    defer j("dmpj_session_free")(a);
    try ok(j("dmpj_session_state")(a, cell));
    try testing.expectEqual(@as(i32, c.DMP_SESSION_DORMANT), j("dmpj_buf_i32")(cell, 0));
    // Nothing to decrypt yet.
    const pt = buf_new(4096);
    defer j("dmpj_buf_free")(pt);
    const garbage = "not an envelope";
    try expectStatus(c.DMP_ERR_WRONG_STATE, j("dmpj_session_decrypt")(a, P(garbage), garbage.len, pt, 4096, cell));

    // 4. Alice sends at once, Bob may be offline: INITIATING.
    const hello = "hello Bob, this is Alice";
    const env = buf_new(4096);
    defer j("dmpj_buf_free")(env);
    try ok(j("dmpj_session_encrypt")(a, P(hello), j("dmpj_cstr_len")(P(hello)), env, 4096, cell));
    const first_len = j("dmpj_buf_i64")(cell, 0);
    try ok(j("dmpj_session_state")(a, cell));
    try testing.expectEqual(@as(i32, c.DMP_SESSION_INITIATING), j("dmpj_buf_i32")(cell, 0));

    // 5. Bob accepts the first message: ACTIVE, and reads it.
    const bcell = buf_new(8);
    defer j("dmpj_buf_free")(bcell);
    try ok(j("dmpj_session_accept")(bob, env, first_len, bcell, pt, 4096, cell));
    const b = j("dmpj_buf_ptr")(bcell, 0);
    defer j("dmpj_session_free")(b);
    try testing.expectEqual(@as(i64, hello.len), j("dmpj_buf_i64")(cell, 0));
    try testing.expectEqual(@as(i32, 1), j("dmpj_mem_eq")(pt, P(hello), hello.len));
    try ok(j("dmpj_session_state")(b, cell));
    try testing.expectEqual(@as(i32, c.DMP_SESSION_ACTIVE), j("dmpj_buf_i32")(cell, 0));

    // Both sides name the same session and each other.
    const ida = buf_new(c.DMP_SESSION_ID_LEN);
    defer j("dmpj_buf_free")(ida);
    const idb = buf_new(c.DMP_SESSION_ID_LEN);
    defer j("dmpj_buf_free")(idb);
    try ok(j("dmpj_session_id")(a, ida));
    try ok(j("dmpj_session_id")(b, idb));
    try testing.expectEqual(@as(i32, 1), j("dmpj_mem_eq")(ida, idb, c.DMP_SESSION_ID_LEN));
    const peer = buf_new(32);
    defer j("dmpj_buf_free")(peer);
    const bob_id = buf_new(32);
    defer j("dmpj_buf_free")(bob_id);
    try ok(j("dmpj_session_peer_id")(a, peer));
    try ok(j("dmpj_identity_public_key")(bob, bob_id));
    try testing.expectEqual(@as(i32, 1), j("dmpj_mem_eq")(peer, bob_id, 32));

    // 6. Bob replies; Alice decrypts: ACTIVE on both sides.
    const reply = "hi Alice, Bob here";
    try ok(j("dmpj_session_encrypt")(b, P(reply), reply.len, env, 4096, cell));
    const reply_len = j("dmpj_buf_i64")(cell, 0);
    try ok(j("dmpj_session_decrypt")(a, env, reply_len, pt, 4096, cell));
    try testing.expectEqual(@as(i64, reply.len), j("dmpj_buf_i64")(cell, 0));
    try testing.expectEqual(@as(i32, 1), j("dmpj_mem_eq")(pt, P(reply), reply.len));
    try ok(j("dmpj_session_state")(a, cell));
    try testing.expectEqual(@as(i32, c.DMP_SESSION_ACTIVE), j("dmpj_buf_i32")(cell, 0));

    // 7. The same envelope again is a replay: refused, nothing changes.
    try expectStatus(c.DMP_ERR_DUPLICATE, j("dmpj_session_decrypt")(a, env, reply_len, pt, 4096, cell));
    try ok(j("dmpj_session_state")(a, cell));
    try testing.expectEqual(@as(i32, c.DMP_SESSION_ACTIVE), j("dmpj_buf_i32")(cell, 0));

    // 8. Close: CLOSED; everything but state, ids and free is refused.
    try ok(j("dmpj_session_close")(a));
    try ok(j("dmpj_session_state")(a, cell));
    try testing.expectEqual(@as(i32, c.DMP_SESSION_CLOSED), j("dmpj_buf_i32")(cell, 0));
    try expectStatus(c.DMP_ERR_WRONG_STATE, j("dmpj_session_encrypt")(a, P(reply), reply.len, env, 4096, cell));
    try expectStatus(c.DMP_ERR_WRONG_STATE, j("dmpj_session_close")(a));
    try ok(j("dmpj_session_peer_id")(a, peer));
}

test "session: buffers, tampering, replay, reordering, serialization and NULL" {
    const alice = try newIdentity();
    defer j("dmpj_identity_free")(alice);
    const bob = try newIdentity();
    defer j("dmpj_identity_free")(bob);
    var bbuf: [c.DMP_BUNDLE_MAX_LEN]u8 = undefined;
    const bundle = try bundleOf(bob, &bbuf);

    var a: ?*anyopaque = null;
    var n: i64 = 0;
    // Refused bundles create nothing.
    var bad_bundle = bbuf;
    bad_bundle[50] ^= 1;
    try testing.expect(j("dmpj_session_initiate")(alice, P(&bad_bundle), len64(bundle), P(&a)) < 0);
    try testing.expect(a == null);
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_session_initiate")(alice, P(bundle), -1, P(&a)));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_session_initiate")(null, P(bundle), len64(bundle), P(&a)));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_session_initiate")(alice, P(bundle), len64(bundle), null));
    try ok(j("dmpj_session_initiate")(alice, P(bundle), len64(bundle), P(&a)));
    defer j("dmpj_session_free")(a);

    // Sizes: encrypted_len is exact; a too-small buffer reports it and changes nothing.
    const msg = "first message";
    var want: i64 = 0;
    try ok(j("dmpj_session_encrypted_len")(a, msg.len, P(&want)));
    var env: [4096]u8 = undefined;
    try expectStatus(c.DMP_ERR_BUFFER_TOO_SMALL, j("dmpj_session_encrypt")(a, P(msg), msg.len, P(&env), 10, P(&n)));
    try testing.expectEqual(want, n);
    try testing.expectEqual(@as(i32, c.DMP_SESSION_DORMANT), try sessionState(a));
    try ok(j("dmpj_session_encrypt")(a, P(msg), msg.len, P(&env), env.len, P(&n)));
    try testing.expectEqual(want, n);
    const first = env[0..@intCast(n)];
    try expectStatus(c.DMP_ERR_TOO_LARGE, j("dmpj_session_encrypted_len")(a, c.DMP_MAX_PLAINTEXT_LEN + 1, P(&want)));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_session_encrypted_len")(a, -1, P(&want)));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_session_encrypted_len")(null, 1, P(&want)));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_session_encrypted_len")(a, 1, null));

    // Accept: a too-small plaintext buffer consumes nothing; retry works. Tampered: refused.
    var b: ?*anyopaque = null;
    var pt: [4096]u8 = undefined;
    var tampered: [4096]u8 = undefined;
    @memcpy(tampered[0..first.len], first);
    tampered[first.len - 1] ^= 1;
    try testing.expect(j("dmpj_session_accept")(bob, P(&tampered), len64(first), P(&b), P(&pt), pt.len, P(&n)) < 0);
    try testing.expect(b == null);
    try expectStatus(c.DMP_ERR_BUFFER_TOO_SMALL, j("dmpj_session_accept")(bob, P(first), len64(first), P(&b), P(&pt), 2, P(&n)));
    try testing.expectEqual(@as(i64, msg.len), n);
    try testing.expect(b == null);
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_session_accept")(bob, P(first), -1, P(&b), P(&pt), pt.len, P(&n)));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_session_accept")(bob, P(first), len64(first), P(&b), P(&pt), -1, P(&n)));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_session_accept")(null, P(first), len64(first), P(&b), P(&pt), pt.len, P(&n)));
    try testing.expect(j("dmpj_session_accept")(bob, null, 0, P(&b), P(&pt), pt.len, P(&n)) < 0);
    try ok(j("dmpj_session_accept")(bob, P(first), len64(first), P(&b), P(&pt), pt.len, P(&n)));
    defer j("dmpj_session_free")(b);
    try testing.expectEqualStrings(msg, pt[0..@intCast(n)]);

    // Three messages from Bob, delivered out of order; each byte of one flipped is refused
    // and leaves the session as it was.
    var e1: [512]u8 = undefined;
    var e2: [512]u8 = undefined;
    var e3: [512]u8 = undefined;
    const m1 = try encrypt(b, "one", &e1);
    const m2 = try encrypt(b, "two", &e2);
    const m3 = try encrypt(b, "three", &e3);
    for (0..m2.len) |i| {
        var t: [512]u8 = undefined;
        @memcpy(t[0..m2.len], m2);
        t[i] ^= 0x20;
        try testing.expect(j("dmpj_session_decrypt")(a, P(&t), len64(m2), P(&pt), pt.len, P(&n)) < 0);
    }
    try expectStatus(c.DMP_ERR_BUFFER_TOO_SMALL, j("dmpj_session_decrypt")(a, P(m3), len64(m3), P(&pt), 1, P(&n)));
    try testing.expectEqual(@as(i64, 5), n);
    try testing.expectEqualStrings("three", try decrypt(a, m3, &pt));
    try testing.expectEqualStrings("one", try decrypt(a, m1, &pt));
    try testing.expectEqualStrings("two", try decrypt(a, m2, &pt));
    try expectStatus(c.DMP_ERR_DUPLICATE, j("dmpj_session_decrypt")(a, P(m2), len64(m2), P(&pt), pt.len, P(&n)));
    try testing.expect(j("dmpj_session_decrypt")(a, P(m2), len64(m2) - 1, P(&pt), pt.len, P(&n)) < 0);
    try testing.expect(j("dmpj_session_decrypt")(a, null, 0, P(&pt), pt.len, P(&n)) < 0);
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_session_decrypt")(a, P(m2), -1, P(&pt), pt.len, P(&n)));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_session_decrypt")(a, P(m2), len64(m2), P(&pt), -1, P(&n)));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_session_decrypt")(null, P(m2), len64(m2), P(&pt), pt.len, P(&n)));
    try testing.expectEqual(@as(i32, c.DMP_SESSION_ACTIVE), try sessionState(a));

    // An envelope of another session is refused.
    const carol = try newIdentity();
    defer j("dmpj_identity_free")(carol);
    const other = try sessionPair(carol, bob);
    defer j("dmpj_session_free")(other.a);
    defer j("dmpj_session_free")(other.b);
    var e4: [512]u8 = undefined;
    const foreign = try encrypt(other.b, "for carol", &e4);
    try testing.expect(j("dmpj_session_decrypt")(a, P(foreign), len64(foreign), P(&pt), pt.len, P(&n)) < 0);

    // Serialization: the restored session carries on; the wrong key is refused.
    const key = try randomKey();
    var rec: [65536]u8 = undefined;
    try expectStatus(c.DMP_ERR_BUFFER_TOO_SMALL, j("dmpj_session_serialize")(a, P(&key), null, 0, P(&n)));
    try ok(j("dmpj_session_serialize")(a, P(&key), P(&rec), rec.len, P(&n)));
    var a2: ?*anyopaque = null;
    try ok(j("dmpj_session_deserialize")(P(&rec), n, P(&key), P(&a2)));
    defer j("dmpj_session_free")(a2);
    const m5 = try encrypt(b, "after restore", &e1);
    try testing.expectEqualStrings("after restore", try decrypt(a2, m5, &pt));
    var wrong = key;
    wrong[0] ^= 1;
    var none: ?*anyopaque = null;
    try expectStatus(c.DMP_ERR_WRONG_STORAGE_KEY, j("dmpj_session_deserialize")(P(&rec), n, P(&wrong), P(&none)));
    try testing.expect(none == null);
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_session_deserialize")(P(&rec), -1, P(&key), P(&none)));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_session_deserialize")(P(&rec), n, null, P(&none)));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_session_serialize")(a, P(&key), P(&rec), -1, P(&n)));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_session_serialize")(null, P(&key), P(&rec), rec.len, P(&n)));

    // NULL handles and out-parameters.
    var st: i32 = 0;
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_session_state")(null, P(&st)));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_session_state")(a, null));
    var id8: [c.DMP_SESSION_ID_LEN]u8 = undefined;
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_session_id")(null, P(&id8)));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_session_peer_id")(a, null));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_session_close")(null));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_session_encrypt")(null, P(msg), msg.len, P(&env), env.len, P(&n)));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_session_encrypt")(a, P(msg), -1, P(&env), env.len, P(&n)));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_session_encrypt")(a, P(msg), msg.len, P(&env), -1, P(&n)));
    j("dmpj_session_free")(null);
}

// =============================================================================================
// Group
// =============================================================================================

test "group: distributions, encrypt once, decrypt, removal, serialization, errors" {
    const alice = try newIdentity();
    defer j("dmpj_identity_free")(alice);
    const bob = try newIdentity();
    defer j("dmpj_identity_free")(bob);
    const carol = try newIdentity();
    defer j("dmpj_identity_free")(carol);
    const alice_id = try idOf(alice);
    const bob_id = try idOf(bob);
    const carol_id = try idOf(carol);
    const gid = try randomKey();

    var ga: ?*anyopaque = null;
    var gb: ?*anyopaque = null;
    try ok(j("dmpj_group_new")(alice, P(&gid), P(&ga)));
    defer j("dmpj_group_free")(ga);
    try ok(j("dmpj_group_new")(bob, P(&gid), P(&gb)));
    defer j("dmpj_group_free")(gb);
    var got_gid: [32]u8 = undefined;
    try ok(j("dmpj_group_id")(ga, P(&got_gid)));
    try testing.expectEqualSlices(u8, &gid, &got_gid);
    try ok(j("dmpj_group_add_member")(ga, P(&bob_id)));
    try ok(j("dmpj_group_add_member")(gb, P(&alice_id)));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_group_add_member")(ga, P(&bob_id)));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_group_add_member")(ga, P(&alice_id)));
    var count: i64 = -1;
    try ok(j("dmpj_group_member_count")(ga, P(&count)));
    try testing.expectEqual(@as(i64, 1), count);

    // Alice's distribution to Bob (over their session in real use).
    var dist: [c.DMP_DISTRIBUTION_LEN]u8 = undefined;
    var n: i64 = 0;
    try expectStatus(c.DMP_ERR_BUFFER_TOO_SMALL, j("dmpj_group_distribution")(ga, P(&dist), 10, P(&n)));
    try testing.expectEqual(@as(i64, c.DMP_DISTRIBUTION_LEN), n);
    try ok(j("dmpj_group_distribution")(ga, P(&dist), dist.len, P(&n)));
    try expectStatus(c.DMP_ERR_UNKNOWN_SENDER, j("dmpj_group_process_distribution")(gb, P(&carol_id), P(&dist), n));
    var bad_dist = dist;
    bad_dist[0] ^= 0xff;
    try testing.expect(j("dmpj_group_process_distribution")(gb, P(&alice_id), P(&bad_dist), n) < 0);
    try testing.expect(j("dmpj_group_process_distribution")(gb, P(&alice_id), P(&dist), n - 1) < 0);
    try ok(j("dmpj_group_process_distribution")(gb, P(&alice_id), P(&dist), n));
    try expectStatus(c.DMP_ERR_DUPLICATE, j("dmpj_group_process_distribution")(gb, P(&alice_id), P(&dist), n));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_group_process_distribution")(gb, P(&alice_id), P(&dist), -1));

    // One encryption for the group; Bob decrypts and learns it is from Alice.
    const text = "to the whole group";
    var msg: [1024]u8 = undefined;
    try ok(j("dmpj_group_encrypt")(ga, P(text), text.len, P(&msg), msg.len, P(&n)));
    const m1 = msg[0..@intCast(n)];
    var sender: [32]u8 = undefined;
    var pt: [1024]u8 = undefined;
    var pn: i64 = 0;
    try expectStatus(c.DMP_ERR_BUFFER_TOO_SMALL, j("dmpj_group_decrypt")(gb, P(m1), len64(m1), P(&sender), P(&pt), 3, P(&pn)));
    try testing.expectEqual(@as(i64, text.len), pn);
    try ok(j("dmpj_group_decrypt")(gb, P(m1), len64(m1), P(&sender), P(&pt), pt.len, P(&pn)));
    try testing.expectEqualStrings(text, pt[0..@intCast(pn)]);
    try testing.expectEqualSlices(u8, &alice_id, &sender);
    try expectStatus(c.DMP_ERR_DUPLICATE, j("dmpj_group_decrypt")(gb, P(m1), len64(m1), P(&sender), P(&pt), pt.len, P(&pn)));

    // Tampered: the signature (last 64 bytes) and the body; truncated; garbage.
    const m2 = blk: {
        try ok(j("dmpj_group_encrypt")(ga, P("second"), 6, P(&msg), msg.len, P(&n)));
        break :blk msg[0..@intCast(n)];
    };
    var t: [1024]u8 = undefined;
    @memcpy(t[0..m2.len], m2);
    t[m2.len - 1] ^= 1;
    try expectStatus(c.DMP_ERR_BAD_SIGNATURE, j("dmpj_group_decrypt")(gb, P(&t), len64(m2), P(&sender), P(&pt), pt.len, P(&pn)));
    try testing.expect(j("dmpj_group_decrypt")(gb, P(m2), len64(m2) - 1, P(&sender), P(&pt), pt.len, P(&pn)) < 0);
    try testing.expect(j("dmpj_group_decrypt")(gb, P("garbage"), 7, P(&sender), P(&pt), pt.len, P(&pn)) < 0);
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_group_decrypt")(gb, P(m2), -1, P(&sender), P(&pt), pt.len, P(&pn)));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_group_decrypt")(gb, P(m2), len64(m2), P(&sender), P(&pt), -1, P(&pn)));
    // Untouched by the refusals:
    try ok(j("dmpj_group_decrypt")(gb, P(m2), len64(m2), P(&sender), P(&pt), pt.len, P(&pn)));
    try testing.expectEqualStrings("second", pt[0..@intCast(pn)]);

    // Bob's view survives serialization.
    const key = try randomKey();
    var rec: [65536]u8 = undefined;
    try ok(j("dmpj_group_serialize")(gb, P(&key), P(&rec), rec.len, P(&n)));
    var gb2: ?*anyopaque = null;
    try ok(j("dmpj_group_deserialize")(P(&rec), n, P(&key), P(&gb2)));
    defer j("dmpj_group_free")(gb2);
    try ok(j("dmpj_group_encrypt")(ga, P("third"), 5, P(&msg), msg.len, P(&n)));
    try ok(j("dmpj_group_decrypt")(gb2, P(&msg), n, P(&sender), P(&pt), pt.len, P(&pn)));
    try testing.expectEqualStrings("third", pt[0..@intCast(pn)]);
    var wrong = key;
    wrong[5] ^= 1;
    var none: ?*anyopaque = null;
    try expectStatus(c.DMP_ERR_WRONG_STORAGE_KEY, j("dmpj_group_deserialize")(P(&rec), n, P(&wrong), P(&none)));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_group_deserialize")(P(&rec), -1, P(&key), P(&none)));
    try expectStatus(c.DMP_ERR_BUFFER_TOO_SMALL, j("dmpj_group_serialize")(gb, P(&key), null, 0, P(&n)));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_group_serialize")(gb, P(&key), P(&rec), -1, P(&n)));

    // Alice removes Bob: her key rotates, Bob cannot read what follows.
    try ok(j("dmpj_group_remove_member")(ga, P(&bob_id)));
    try expectStatus(c.DMP_ERR_UNKNOWN_SENDER, j("dmpj_group_remove_member")(ga, P(&bob_id)));
    try ok(j("dmpj_group_member_count")(ga, P(&count)));
    try testing.expectEqual(@as(i64, 0), count);
    try ok(j("dmpj_group_encrypt")(ga, P("after removal"), 13, P(&msg), msg.len, P(&n)));
    try expectStatus(c.DMP_ERR_UNKNOWN_KEY_ID, j("dmpj_group_decrypt")(gb, P(&msg), n, P(&sender), P(&pt), pt.len, P(&pn)));

    // NULL and negative arguments.
    var g0: ?*anyopaque = null;
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_group_new")(alice, null, P(&g0)));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_group_new")(null, P(&gid), P(&g0)));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_group_id")(null, P(&got_gid)));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_group_add_member")(ga, null));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_group_remove_member")(null, P(&bob_id)));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_group_member_count")(ga, null));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_group_distribution")(null, P(&dist), dist.len, P(&n)));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_group_distribution")(ga, P(&dist), -1, P(&n)));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_group_encrypt")(null, P(text), text.len, P(&msg), msg.len, P(&n)));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_group_encrypt")(ga, P(text), -1, P(&msg), msg.len, P(&n)));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_group_encrypt")(ga, P(text), text.len, P(&msg), -1, P(&n)));
    try expectStatus(c.DMP_ERR_BUFFER_TOO_SMALL, j("dmpj_group_encrypt")(ga, P(text), text.len, P(&msg), 5, P(&n)));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_group_process_distribution")(null, P(&alice_id), P(&dist), dist.len));
    j("dmpj_group_free")(null);
}

// =============================================================================================
// Agent and events
// =============================================================================================

fn openMemoryAgent(flags: i32) !?*anyopaque {
    const key = try randomKey();
    var h: ?*anyopaque = null;
    try ok(j("dmpj_agent_open")(null, 0, P(&key), flags, P(&h)));
    try testing.expect(h != null);
    return h;
}

fn agentId(agent: ?*anyopaque) ![32]u8 {
    var id: [32]u8 = undefined;
    try ok(j("dmpj_agent_id")(agent, P(&id)));
    return id;
}

/// `from` learns `to`'s bundle; returns `to`'s id.
fn introduce(from: ?*anyopaque, to: ?*anyopaque) ![32]u8 {
    var bundle: [c.DMP_BUNDLE_MAX_LEN]u8 = undefined;
    var n: i64 = 0;
    try ok(j("dmpj_agent_bundle")(to, 1, P(&bundle), bundle.len, P(&n)));
    var peer: [32]u8 = undefined;
    try ok(j("dmpj_agent_add_bundle")(from, P(&bundle), n, P(&peer)));
    try testing.expectEqualSlices(u8, &(try agentId(to)), &peer);
    return peer;
}

fn receive(agent: ?*anyopaque, env: []const u8) !?*anyopaque {
    var ev: ?*anyopaque = null;
    try ok(j("dmpj_agent_receive")(agent, P(env), len64(env), P(&ev)));
    try testing.expect(ev != null);
    return ev;
}

fn eventKind(ev: ?*anyopaque) !i32 {
    var k: i32 = 0;
    try ok(j("dmpj_event_kind")(ev, P(&k)));
    return k;
}

fn eventText(ev: ?*anyopaque, buf: []u8) ![]u8 {
    var n: i64 = 0;
    try ok(j("dmpj_event_plaintext")(ev, P(buf), len64(buf), P(&n)));
    return buf[0..@intCast(n)];
}

test "agent: two agents talk; events, session state, peers, connect, maintain, errors" {
    const alice = try openMemoryAgent(0);
    defer j("dmpj_agent_free")(alice);
    const bob = try openMemoryAgent(0);
    defer j("dmpj_agent_free")(bob);
    const alice_id = try agentId(alice);
    const bob_id = try introduce(alice, bob);

    var fp: [64]u8 = undefined;
    var n: i64 = 0;
    try ok(j("dmpj_agent_fingerprint")(bob, P(&fp), fp.len, P(&n)));
    try testing.expectEqual(@as(i64, c.DMP_FINGERPRINT_LEN), n);
    var fp2: [64]u8 = undefined;
    var n2: i64 = 0;
    try ok(j("dmpj_fingerprint")(P(&bob_id), P(&fp2), fp2.len, P(&n2)));
    try testing.expectEqualSlices(u8, fp[0..@intCast(n)], fp2[0..@intCast(n2)]);

    var st: i32 = -1;
    try expectStatus(c.DMP_ERR_NO_SESSION, j("dmpj_agent_session_state")(alice, P(&bob_id), P(&st)));
    // A too-small buffer creates no session.
    var env: [8192]u8 = undefined;
    try expectStatus(c.DMP_ERR_BUFFER_TOO_SMALL, j("dmpj_agent_send")(alice, P(&bob_id), P("hi bob"), 6, P(&env), 16, P(&n)));
    try testing.expect(n > 16);
    try expectStatus(c.DMP_ERR_NO_SESSION, j("dmpj_agent_session_state")(alice, P(&bob_id), P(&st)));
    try ok(j("dmpj_agent_send")(alice, P(&bob_id), P("hi bob"), 6, P(&env), env.len, P(&n)));
    const first = env[0..@intCast(n)];
    try ok(j("dmpj_agent_session_state")(alice, P(&bob_id), P(&st)));
    try testing.expectEqual(@as(i32, c.DMP_SESSION_INITIATING), st);

    // Bob's event: a message from Alice that created a session.
    const ev = try receive(bob, first);
    defer j("dmpj_event_free")(ev);
    try testing.expectEqual(@as(i32, c.DMP_EVENT_MESSAGE), try eventKind(ev));
    var peer: [32]u8 = undefined;
    try ok(j("dmpj_event_peer")(ev, P(&peer)));
    try testing.expectEqualSlices(u8, &alice_id, &peer);
    var text: [256]u8 = undefined;
    try testing.expectEqualStrings("hi bob", try eventText(ev, &text));
    try expectStatus(c.DMP_ERR_BUFFER_TOO_SMALL, j("dmpj_event_plaintext")(ev, P(&text), 2, P(&n)));
    try testing.expectEqual(@as(i64, 6), n);
    var seq: i64 = -1;
    var new_session: i32 = -1;
    try ok(j("dmpj_event_seq")(ev, P(&seq), P(&new_session)));
    try testing.expectEqual(@as(i32, 1), new_session);
    var gid: [32]u8 = undefined;
    try expectStatus(c.DMP_ERR_WRONG_STATE, j("dmpj_event_group_id")(ev, P(&gid)));
    try ok(j("dmpj_agent_session_state")(bob, P(&alice_id), P(&st)));
    try testing.expectEqual(@as(i32, c.DMP_SESSION_ACTIVE), st);

    // The reply makes Alice ACTIVE; replays and garbage are refused.
    try ok(j("dmpj_agent_send")(bob, P(&alice_id), P("hi alice"), 8, P(&env), env.len, P(&n)));
    const reply = env[0..@intCast(n)];
    const ev2 = try receive(alice, reply);
    defer j("dmpj_event_free")(ev2);
    try testing.expectEqualStrings("hi alice", try eventText(ev2, &text));
    try ok(j("dmpj_event_seq")(ev2, P(&seq), P(&new_session)));
    try testing.expectEqual(@as(i32, 0), new_session);
    try ok(j("dmpj_agent_session_state")(alice, P(&bob_id), P(&st)));
    try testing.expectEqual(@as(i32, c.DMP_SESSION_ACTIVE), st);
    var none: ?*anyopaque = P(&st);
    try expectStatus(c.DMP_ERR_DUPLICATE, j("dmpj_agent_receive")(alice, P(reply), len64(reply), P(&none)));
    try testing.expect(none == null);
    try testing.expect(j("dmpj_agent_receive")(bob, P("garbage"), 7, P(&none)) < 0);
    try testing.expect(j("dmpj_agent_receive")(bob, null, 0, P(&none)) < 0);
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_agent_receive")(bob, P(reply), -1, P(&none)));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_agent_receive")(bob, P(reply), len64(reply), null));

    // Peers, in id order.
    var ids: [64]u8 = undefined;
    try ok(j("dmpj_agent_peers")(alice, P(&ids), ids.len, P(&n)));
    try testing.expectEqual(@as(i64, 32), n);
    try testing.expectEqualSlices(u8, &bob_id, ids[0..32]);
    try expectStatus(c.DMP_ERR_BUFFER_TOO_SMALL, j("dmpj_agent_peers")(alice, null, 0, P(&n)));
    try testing.expectEqual(@as(i64, 32), n);
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_agent_peers")(alice, P(&ids), -1, P(&n)));

    // Connect: a session without a message.
    const carol = try openMemoryAgent(0);
    defer j("dmpj_agent_free")(carol);
    const carol_id = try introduce(alice, carol);
    try expectStatus(c.DMP_ERR_BUFFER_TOO_SMALL, j("dmpj_agent_connect")(alice, P(&carol_id), P(&env), 1, P(&n)));
    try ok(j("dmpj_agent_connect")(alice, P(&carol_id), P(&env), env.len, P(&n)));
    const ev3 = try receive(carol, env[0..@intCast(n)]);
    defer j("dmpj_event_free")(ev3);
    try testing.expectEqual(@as(i32, c.DMP_EVENT_SESSION_ESTABLISHED), try eventKind(ev3));
    try testing.expectEqualStrings("", try eventText(ev3, &text));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_agent_connect")(alice, P(&carol_id), P(&env), -1, P(&n)));

    // Without a bundle there is nothing to send on.
    const dave = try openMemoryAgent(0);
    defer j("dmpj_agent_free")(dave);
    const dave_id = try agentId(dave);
    try expectStatus(c.DMP_ERR_NO_SESSION, j("dmpj_agent_send")(alice, P(&dave_id), P("x"), 1, P(&env), env.len, P(&n)));
    // Our own bundle is refused.
    var own: [c.DMP_BUNDLE_MAX_LEN]u8 = undefined;
    try ok(j("dmpj_agent_bundle")(alice, 0, P(&own), own.len, P(&n)));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_agent_add_bundle")(alice, P(&own), n, P(&peer)));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_agent_add_bundle")(alice, P(&own), -1, P(&peer)));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_agent_bundle")(alice, 3, P(&own), own.len, P(&n)));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_agent_bundle")(alice, 0, P(&own), -1, P(&n)));

    // Upkeep, then still talking.
    try ok(j("dmpj_agent_maintain")(alice, 1_800_000_000));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_agent_maintain")(alice, -1));
    try expectMessage("dmpj_agent_maintain: now_unix is negative");
    try ok(j("dmpj_agent_send")(alice, P(&bob_id), P("after maintain"), 14, P(&env), env.len, P(&n)));
    const ev4 = try receive(bob, env[0..@intCast(n)]);
    j("dmpj_event_free")(ev4);

    // NULL handles and arguments.
    var nul: ?*anyopaque = null;
    const key = try randomKey();
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_agent_open")(null, 0, null, 0, P(&nul)));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_agent_open")(null, 0, P(&key), 0, null));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_agent_open")(null, 0, P(&key), 64, P(&nul)));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_agent_open")(null, -1, P(&key), 0, P(&nul)));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_agent_id")(null, P(&peer)));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_agent_fingerprint")(null, P(&fp), fp.len, P(&n)));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_agent_fingerprint")(alice, P(&fp), -1, P(&n)));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_agent_send")(alice, null, P("x"), 1, P(&env), env.len, P(&n)));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_agent_send")(alice, P(&bob_id), P("x"), -1, P(&env), env.len, P(&n)));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_agent_send")(alice, P(&bob_id), P("x"), 1, P(&env), -1, P(&n)));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_agent_session_state")(alice, P(&bob_id), null));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_agent_maintain")(null, 0));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_event_kind")(null, P(&st)));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_event_peer")(ev, null));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_event_seq")(ev, null, P(&new_session)));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_event_plaintext")(ev, P(&text), -1, P(&n)));
    j("dmpj_agent_free")(null);
    j("dmpj_event_free")(null);
}

test "agent: groups through the outbox; members; removal" {
    const a = try openMemoryAgent(0);
    defer j("dmpj_agent_free")(a);
    const b = try openMemoryAgent(0);
    defer j("dmpj_agent_free")(b);
    const a_id = try agentId(a);
    const b_id = try introduce(a, b);
    var env: [8192]u8 = undefined;
    var n: i64 = 0;
    // A session first: the sender key travels inside it.
    try ok(j("dmpj_agent_send")(a, P(&b_id), P("hello"), 5, P(&env), env.len, P(&n)));
    j("dmpj_event_free")(try receive(b, env[0..@intCast(n)]));

    var gid: [32]u8 = undefined;
    try ok(j("dmpj_agent_group_create")(a, P(&gid)));
    var count: i64 = -1;
    try ok(j("dmpj_agent_outbox_count")(a, P(&count)));
    try testing.expectEqual(@as(i64, 0), count);
    var to: [32]u8 = undefined;
    var seq: i64 = -1;
    try expectStatus(c.DMP_ERR_WRONG_STATE, j("dmpj_agent_outbox_next")(a, P(&to), P(&env), env.len, P(&n), P(&seq)));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_agent_outbox_done")(a, 0)); // no number given yet

    try ok(j("dmpj_agent_group_add")(a, P(&gid), P(&b_id)));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_agent_group_add")(a, P(&gid), P(&b_id)));
    var unknown = gid;
    unknown[0] ^= 1;
    try expectStatus(c.DMP_ERR_WRONG_SESSION, j("dmpj_agent_group_add")(a, P(&unknown), P(&b_id)));
    try ok(j("dmpj_agent_outbox_count")(a, P(&count)));
    try testing.expectEqual(@as(i64, 1), count);

    // Deliver the outbox: the envelope for b, then done.
    try expectStatus(c.DMP_ERR_BUFFER_TOO_SMALL, j("dmpj_agent_outbox_next")(a, P(&to), P(&env), 8, P(&n), P(&seq)));
    try testing.expectEqual(@as(i64, -1), seq); // no number written by a failed call
    try ok(j("dmpj_agent_outbox_next")(a, P(&to), P(&env), env.len, P(&n), P(&seq)));
    try testing.expect(seq >= 0);
    try testing.expectEqualSlices(u8, &b_id, &to);
    const ev = try receive(b, env[0..@intCast(n)]);
    try testing.expectEqual(@as(i32, c.DMP_EVENT_DISTRIBUTION_CONSUMED), try eventKind(ev));
    var egid: [32]u8 = undefined;
    try ok(j("dmpj_event_group_id")(ev, P(&egid)));
    try testing.expectEqualSlices(u8, &gid, &egid);
    var new_group: i32 = -1;
    try ok(j("dmpj_event_new_group")(ev, P(&new_group)));
    try testing.expectEqual(@as(i32, 1), new_group); // b did not hold the group: an invitation
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_event_new_group")(ev, null));
    j("dmpj_event_free")(ev);
    try ok(j("dmpj_agent_outbox_done")(a, seq));
    try ok(j("dmpj_agent_outbox_count")(a, P(&count)));
    try testing.expectEqual(@as(i64, 0), count);
    try ok(j("dmpj_agent_outbox_done")(a, seq)); // already removed: fine
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_agent_outbox_done")(a, seq + 1)); // never given
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_agent_outbox_done")(a, -1)); // 2^64 - 1: never given

    var members: [64]u8 = undefined;
    try ok(j("dmpj_agent_group_members")(a, P(&gid), P(&members), members.len, P(&n)));
    try testing.expectEqual(@as(i64, 32), n);
    try testing.expectEqualSlices(u8, &b_id, members[0..32]);
    try expectStatus(c.DMP_ERR_BUFFER_TOO_SMALL, j("dmpj_agent_group_members")(a, P(&gid), null, 0, P(&n)));
    try expectStatus(c.DMP_ERR_WRONG_SESSION, j("dmpj_agent_group_members")(a, P(&unknown), P(&members), members.len, P(&n)));

    // One group message, read by b as from a in the group.
    try expectStatus(c.DMP_ERR_BUFFER_TOO_SMALL, j("dmpj_agent_group_send")(a, P(&gid), P("to the group"), 12, P(&env), 10, P(&n)));
    try ok(j("dmpj_agent_group_send")(a, P(&gid), P("to the group"), 12, P(&env), env.len, P(&n)));
    const gev = try receive(b, env[0..@intCast(n)]);
    defer j("dmpj_event_free")(gev);
    try testing.expectEqual(@as(i32, c.DMP_EVENT_GROUP_MESSAGE), try eventKind(gev));
    var from: [32]u8 = undefined;
    try ok(j("dmpj_event_peer")(gev, P(&from)));
    try testing.expectEqualSlices(u8, &a_id, &from);
    try ok(j("dmpj_event_group_id")(gev, P(&egid)));
    try testing.expectEqualSlices(u8, &gid, &egid);
    var text: [64]u8 = undefined;
    try testing.expectEqualStrings("to the group", try eventText(gev, &text));
    try expectStatus(c.DMP_ERR_WRONG_SESSION, j("dmpj_agent_group_send")(a, P(&unknown), P("x"), 1, P(&env), env.len, P(&n)));

    // b leaves the group: gone there, and a's messages are for no group b holds.
    try ok(j("dmpj_agent_group_leave")(b, P(&gid)));
    try expectStatus(c.DMP_ERR_WRONG_SESSION, j("dmpj_agent_group_leave")(b, P(&gid)));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_agent_group_leave")(b, null));
    try expectStatus(c.DMP_ERR_WRONG_SESSION, j("dmpj_agent_group_members")(b, P(&gid), P(&members), members.len, P(&n)));

    // Removal: no member left; b is no longer one.
    try ok(j("dmpj_agent_group_remove")(a, P(&gid), P(&b_id)));
    try expectStatus(c.DMP_ERR_UNKNOWN_SENDER, j("dmpj_agent_group_remove")(a, P(&gid), P(&b_id)));
    try ok(j("dmpj_agent_group_members")(a, P(&gid), P(&members), members.len, P(&n)));
    try testing.expectEqual(@as(i64, 0), n);

    // NULL and negative arguments.
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_agent_group_create")(a, null));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_agent_group_add")(a, null, P(&b_id)));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_agent_group_remove")(null, P(&gid), P(&b_id)));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_agent_group_send")(a, P(&gid), P("x"), -1, P(&env), env.len, P(&n)));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_agent_group_send")(a, P(&gid), P("x"), 1, P(&env), -1, P(&n)));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_agent_group_members")(a, P(&gid), P(&members), -1, P(&n)));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_agent_outbox_count")(a, null));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_agent_outbox_next")(null, P(&to), P(&env), env.len, P(&n), P(&seq)));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_agent_outbox_next")(a, P(&to), P(&env), env.len, P(&n), null));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_agent_outbox_next")(a, P(&to), P(&env), -1, P(&n), P(&seq)));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_agent_outbox_done")(null, 0));
}

test "agent: outbox_done(seq) removes only the entry it names" {
    const a = try openMemoryAgent(0);
    defer j("dmpj_agent_free")(a);
    const b = try openMemoryAgent(0);
    defer j("dmpj_agent_free")(b);
    const cc = try openMemoryAgent(0);
    defer j("dmpj_agent_free")(cc);
    const b_id = try introduce(a, b);
    const c_id = try introduce(a, cc);
    var gid: [32]u8 = undefined;
    try ok(j("dmpj_agent_group_create")(a, P(&gid)));
    try ok(j("dmpj_agent_group_add")(a, P(&gid), P(&b_id)));
    try ok(j("dmpj_agent_group_add")(a, P(&gid), P(&c_id)));
    var env: [8192]u8 = undefined;
    var to: [32]u8 = undefined;
    var n: i64 = 0;
    var first: i64 = -1;
    try ok(j("dmpj_agent_outbox_next")(a, P(&to), P(&env), env.len, P(&n), P(&first)));
    try testing.expectEqualSlices(u8, &b_id, &to);
    // Another thread sent the second entry (numbers are consecutive) and marks it done first:
    // the first, not sent yet, stays.
    try ok(j("dmpj_agent_outbox_done")(a, first + 1));
    var count: i64 = -1;
    try ok(j("dmpj_agent_outbox_count")(a, P(&count)));
    try testing.expectEqual(@as(i64, 1), count);
    var again: i64 = -1;
    try ok(j("dmpj_agent_outbox_next")(a, P(&to), P(&env), env.len, P(&n), P(&again)));
    try testing.expectEqual(first, again);
    try testing.expectEqualSlices(u8, &b_id, &to);
    j("dmpj_event_free")(try receive(b, env[0..@intCast(n)]));
    try ok(j("dmpj_agent_outbox_done")(a, first));
    try ok(j("dmpj_agent_outbox_count")(a, P(&count)));
    try testing.expectEqual(@as(i64, 0), count);
}

test "agent: sign, strangers and accept_peer, close_session, forget_peer, unanswered peers" {
    const a = try openMemoryAgent(0);
    defer j("dmpj_agent_free")(a);
    const b = try openMemoryAgent(0);
    defer j("dmpj_agent_free")(b);
    const a_id = try agentId(a);
    var env: [8192]u8 = undefined;
    var n: i64 = 0;

    // Signatures: plain Ed25519 under the agent id; "DMP..." is refused, nothing written.
    var sig: [64]u8 = undefined;
    try ok(j("dmpj_agent_sign")(a, P("I agree"), 7, P(&sig)));
    try ok(j("dmpj_ed25519_verify")(P(&a_id), P("I agree"), 7, P(&sig)));
    try expectStatus(c.DMP_ERR_BAD_SIGNATURE, j("dmpj_ed25519_verify")(P(&a_id), P("I agreE"), 7, P(&sig)));
    @memset(&sig, 0xA5);
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_agent_sign")(a, P("DMP1 bundle"), 11, P(&sig)));
    try testing.expect(std.mem.allEqual(u8, &sig, 0xA5));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_agent_sign")(a, P("x"), -1, P(&sig)));
    try expectMessage("msg_len is negative");
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_agent_sign")(a, P("x"), 1, null));

    // A bundle without a one-time prekey (so that it can start a second session).
    var bundle: [c.DMP_BUNDLE_MAX_LEN]u8 = undefined;
    try ok(j("dmpj_agent_bundle")(b, 0, P(&bundle), bundle.len, P(&n)));
    var b_id: [32]u8 = undefined;
    try ok(j("dmpj_agent_add_bundle")(a, P(&bundle), n, P(&b_id)));
    var accepted: i32 = -1;
    try ok(j("dmpj_agent_is_accepted")(a, P(&b_id), P(&accepted)));
    try testing.expectEqual(@as(i32, 1), accepted); // adding a bundle accepts
    try ok(j("dmpj_agent_send")(a, P(&b_id), P("hi"), 2, P(&env), env.len, P(&n)));
    j("dmpj_event_free")(try receive(b, env[0..@intCast(n)]));
    try ok(j("dmpj_agent_is_accepted")(b, P(&a_id), P(&accepted)));
    try testing.expectEqual(@as(i32, 0), accepted); // a stranger
    try ok(j("dmpj_agent_accept_peer")(b, P(&a_id)));
    try ok(j("dmpj_agent_is_accepted")(b, P(&a_id), P(&accepted)));
    try testing.expectEqual(@as(i32, 1), accepted);
    const stranger = try openMemoryAgent(0);
    defer j("dmpj_agent_free")(stranger);
    const nobody = try agentId(stranger); // b knows nothing of it
    try expectStatus(c.DMP_ERR_NO_SESSION, j("dmpj_agent_accept_peer")(b, P(&nobody)));
    accepted = 7;
    try expectStatus(c.DMP_ERR_NO_SESSION, j("dmpj_agent_is_accepted")(b, P(&nobody), P(&accepted)));
    try testing.expectEqual(@as(i32, 7), accepted);
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_agent_is_accepted")(b, P(&a_id), null));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_agent_accept_peer")(b, null));

    // Unanswered for 15 days: b; then b answers.
    const later: i64 = 4_000_000_000; // far more than 14 days after the session started
    var ids: [64]u8 = undefined;
    try ok(j("dmpj_agent_unanswered_peers")(a, later, P(&ids), ids.len, P(&n)));
    try testing.expectEqual(@as(i64, 32), n);
    try testing.expectEqualSlices(u8, &b_id, ids[0..32]);
    try expectStatus(c.DMP_ERR_BUFFER_TOO_SMALL, j("dmpj_agent_unanswered_peers")(a, later, null, 0, P(&n)));
    try testing.expectEqual(@as(i64, 32), n);
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_agent_unanswered_peers")(a, -1, P(&ids), ids.len, P(&n)));
    try expectMessage("now_unix is negative");
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_agent_unanswered_peers")(a, later, P(&ids), -1, P(&n)));
    try ok(j("dmpj_agent_send")(b, P(&a_id), P("here"), 4, P(&env), env.len, P(&n)));
    j("dmpj_event_free")(try receive(a, env[0..@intCast(n)]));
    try ok(j("dmpj_agent_unanswered_peers")(a, later, P(&ids), ids.len, P(&n)));
    try testing.expectEqual(@as(i64, 0), n);

    // close_session: the next send starts a new session from the stored bundle.
    try ok(j("dmpj_agent_close_session")(a, P(&b_id)));
    try expectStatus(c.DMP_ERR_NO_SESSION, j("dmpj_agent_close_session")(a, P(&b_id)));
    try ok(j("dmpj_agent_send")(a, P(&b_id), P("new"), 3, P(&env), env.len, P(&n)));
    const ev = try receive(b, env[0..@intCast(n)]);
    var seq: i64 = 0;
    var new_session: i32 = -1;
    try ok(j("dmpj_event_seq")(ev, P(&seq), P(&new_session)));
    try testing.expectEqual(@as(i32, 1), new_session);
    j("dmpj_event_free")(ev);
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_agent_close_session")(null, P(&b_id)));

    // forget_peer: the bundle is gone too.
    try ok(j("dmpj_agent_forget_peer")(a, P(&b_id)));
    try expectStatus(c.DMP_ERR_NO_SESSION, j("dmpj_agent_send")(a, P(&b_id), P("x"), 1, P(&env), env.len, P(&n)));
    try expectStatus(c.DMP_ERR_NO_SESSION, j("dmpj_agent_forget_peer")(a, P(&b_id)));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_agent_forget_peer")(a, null));
}

test "agent: retained events and acknowledgement" {
    const a = try openMemoryAgent(0);
    defer j("dmpj_agent_free")(a);
    const b = try openMemoryAgent(c.DMP_AGENT_RETAIN_EVENTS);
    defer j("dmpj_agent_free")(b);
    const b_id = try introduce(a, b);
    var env: [8192]u8 = undefined;
    var n: i64 = 0;
    try ok(j("dmpj_agent_send")(a, P(&b_id), P("keep me"), 7, P(&env), env.len, P(&n)));
    j("dmpj_event_free")(try receive(b, env[0..@intCast(n)]));

    var count: i64 = -1;
    try ok(j("dmpj_agent_pending_count")(b, P(&count)));
    try testing.expectEqual(@as(i64, 1), count);
    var ev: ?*anyopaque = null;
    try ok(j("dmpj_agent_pending_event")(b, 0, P(&ev)));
    defer j("dmpj_event_free")(ev);
    var text: [64]u8 = undefined;
    try testing.expectEqualStrings("keep me", try eventText(ev, &text));
    var seq: i64 = 0;
    var new_session: i32 = 0;
    try ok(j("dmpj_event_seq")(ev, P(&seq), P(&new_session)));
    var none: ?*anyopaque = null;
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_agent_pending_event")(b, 1, P(&none)));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_agent_pending_event")(b, -1, P(&none)));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_agent_ack")(b, seq +% 1000));
    try ok(j("dmpj_agent_ack")(b, seq));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_agent_ack")(b, seq));
    try ok(j("dmpj_agent_pending_count")(b, P(&count)));
    try testing.expectEqual(@as(i64, 0), count);
    // Without RETAIN_EVENTS nothing is kept.
    try ok(j("dmpj_agent_pending_count")(a, P(&count)));
    try testing.expectEqual(@as(i64, 0), count);
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_agent_pending_count")(null, P(&count)));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_agent_ack")(null, seq));
}

/// A store path under /tmp, removed with SQLite's side files by `cleanup`.
const TempPath = struct {
    buf: [96]u8 = undefined,
    len: usize = 0,

    fn init() !TempPath {
        var t: TempPath = .{};
        const r = try randomKey();
        const s = try std.mem.print(&t.buf, "/tmp/dmpj-test-{x}.db", .{std.mem.readInt(u64, r[0..8], .little)});
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

test "agent: a store on disk: reopen, wrong key, locked; identity from a seed" {
    const tmp = try TempPath.init();
    defer tmp.cleanup();
    const path = tmp.path();
    const key = try randomKey();
    var h: ?*anyopaque = null;
    try ok(j("dmpj_agent_open")(P(path), len64(path), P(&key), 0, P(&h)));
    const id1 = try agentId(h);
    var other: ?*anyopaque = null;
    try expectStatus(c.DMP_ERR_STORE_LOCKED, j("dmpj_agent_open")(P(path), len64(path), P(&key), 0, P(&other)));
    j("dmpj_agent_free")(h);

    try ok(j("dmpj_agent_open")(P(path), len64(path), P(&key), 0, P(&h)));
    try testing.expectEqualSlices(u8, &id1, &(try agentId(h)));
    j("dmpj_agent_free")(h);
    var wrong = key;
    wrong[3] ^= 1;
    try expectStatus(c.DMP_ERR_WRONG_STORAGE_KEY, j("dmpj_agent_open")(P(path), len64(path), P(&wrong), 0, P(&h)));
    try testing.expect(h == null);
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_agent_open")(null, len64(path), P(&key), 0, P(&h)));

    // From a seed: the same id in memory twice; an existing store must hold that identity.
    const seed = try randomKey();
    var s1: ?*anyopaque = null;
    var s2: ?*anyopaque = null;
    try ok(j("dmpj_agent_open_with_seed")(null, 0, P(&key), P(&seed), 0, P(&s1)));
    defer j("dmpj_agent_free")(s1);
    try ok(j("dmpj_agent_open_with_seed")(null, 0, P(&key), P(&seed), 0, P(&s2)));
    defer j("dmpj_agent_free")(s2);
    try testing.expectEqualSlices(u8, &(try agentId(s1)), &(try agentId(s2)));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_agent_open_with_seed")(P(path), len64(path), P(&key), P(&seed), 0, P(&h)));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_agent_open_with_seed")(null, 0, P(&key), null, 0, P(&h)));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_agent_open_with_seed")(null, -1, P(&key), P(&seed), 0, P(&h)));
}

// =============================================================================================
// The patterns of dmp.jan: a constructor gives a handle or NULL, and dmpj_last_status says why
// =============================================================================================

test "dmp.jan patterns: handle or NULL plus dmpj_last_status; state or a negative status" {
    const cell = j("dmpj_buf_new")(8) orelse return error.OutOfMemory;
    defer j("dmpj_buf_free")(cell);
    const alice = try newIdentity();
    defer j("dmpj_identity_free")(alice);

    // identity_generate(): the handle from the cell.
    try ok(j("dmpj_identity_generate")(cell));
    const bob = j("dmpj_buf_ptr")(cell, 0);
    defer j("dmpj_identity_free")(bob);
    try testing.expect(bob != null);

    // session_initiate() with garbage: the library refuses, the cell holds NULL (it held bob).
    const rc = j("dmpj_session_initiate")(alice, P("garbage"), 7, cell);
    try testing.expect(rc < 0);
    try testing.expect(j("dmpj_buf_ptr")(cell, 0) == null);
    try testing.expectEqual(rc, j("dmpj_last_status")());

    // A refusal by the bridge itself (a negative length) clears the cell too.
    try ok(j("dmpj_identity_generate")(cell));
    const carol = j("dmpj_buf_ptr")(cell, 0);
    defer j("dmpj_identity_free")(carol);
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_session_initiate")(alice, P("garbage"), -7, cell));
    try testing.expect(j("dmpj_buf_ptr")(cell, 0) == null);
    try testing.expectEqual(@as(i32, c.DMP_ERR_INVALID_ARGUMENT), j("dmpj_last_status")());
    var dummy: u8 = 0;
    var h: ?*anyopaque = P(&dummy);
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_agent_pending_event")(null, -1, P(&h)));
    try testing.expect(h == null);

    // session_state(): the state, or a negative status for a NULL session.
    var bbuf: [c.DMP_BUNDLE_MAX_LEN]u8 = undefined;
    const bundle = try bundleOf(bob, &bbuf);
    try ok(j("dmpj_session_initiate")(alice, P(bundle), len64(bundle), cell));
    const s = j("dmpj_buf_ptr")(cell, 0);
    defer j("dmpj_session_free")(s);
    try ok(j("dmpj_session_state")(s, cell));
    try testing.expectEqual(@as(i32, c.DMP_SESSION_DORMANT), j("dmpj_buf_i32")(cell, 0));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_session_state")(null, cell));
}

// =============================================================================================
// Buffers and memory helpers
// =============================================================================================

test "buffers: zeroed, length-checked, cells for i32, i64 and handles; foreign pointers" {
    const b = j("dmpj_buf_new")(16) orelse return error.OutOfMemory;
    try testing.expectEqual(@as(i64, 16), j("dmpj_buf_len")(b));
    for (0..16) |i| try testing.expectEqual(@as(i32, 0), j("dmpj_buf_get")(b, @intCast(i)));
    try ok(j("dmpj_buf_set")(b, 0, 0x78));
    try ok(j("dmpj_buf_set")(b, 15, 255));
    try testing.expectEqual(@as(i32, 0x78), j("dmpj_buf_get")(b, 0));
    try testing.expectEqual(@as(i32, 255), j("dmpj_buf_get")(b, 15));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_buf_set")(b, 16, 1));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_buf_set")(b, 0, 256));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_buf_set")(b, 0, -1));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_buf_get")(b, 16));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_buf_get")(b, -1));
    try expectMessage("dmpj_buf_get: offset -1 is negative");

    // Cells: what the library writes through them reads back.
    try ok(j("dmpj_buf_set")(b, 0, 0));
    const cell_i32: *align(1) i32 = @ptrCast(b);
    cell_i32.* = -7;
    try testing.expectEqual(@as(i32, -7), j("dmpj_buf_i32")(b, 0));
    const cell_i64: *align(1) i64 = @ptrCast(j("dmpj_ptr_add")(b, 3));
    cell_i64.* = -1234567890123;
    try testing.expectEqual(@as(i64, -1234567890123), j("dmpj_buf_i64")(b, 3)); // unaligned
    try ok(j("dmpj_identity_generate")(j("dmpj_ptr_add")(b, 8))); // a handle at offset 8
    const id = j("dmpj_buf_ptr")(b, 8);
    try testing.expect(id != null);
    _ = try idOf(id);
    j("dmpj_identity_free")(id);
    try testing.expectEqual(@as(i32, 0), j("dmpj_buf_i32")(b, 13)); // past the end: 0
    try expectMessage("dmpj_buf_i32: offset 13 + 4 is past the buffer's 16 bytes");
    try testing.expectEqual(@as(i64, 0), j("dmpj_buf_i64")(b, 9));
    try testing.expect(j("dmpj_buf_ptr")(b, 9) == null);
    try testing.expectEqual(@as(i64, 0), j("dmpj_buf_i64")(b, -8));
    j("dmpj_buf_free")(b);

    // Zero length, negative, too large.
    const empty = j("dmpj_buf_new")(0) orelse return error.OutOfMemory;
    try testing.expectEqual(@as(i64, 0), j("dmpj_buf_len")(empty));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_buf_get")(empty, 0));
    j("dmpj_buf_free")(empty);
    try testing.expect(j("dmpj_buf_new")(-1) == null);
    try expectMessage("dmpj_buf_new: len is negative");
    try testing.expect(j("dmpj_buf_new")(std.math.maxInt(i64)) == null);
    try expectMessage("DMP_ERR_TOO_LARGE");

    // NULL and pointers that are not buffers.
    try testing.expectEqual(@as(i64, c.DMP_ERR_NULL_POINTER), j("dmpj_buf_len")(null));
    try testing.expectEqual(@as(i32, c.DMP_ERR_NULL_POINTER), j("dmpj_buf_get")(null, 0));
    try testing.expectEqual(@as(i32, 0), j("dmpj_buf_i32")(null, 0));
    var plain: [64]u8 align(16) = @splat(0xAB);
    try testing.expectEqual(@as(i64, c.DMP_ERR_INVALID_ARGUMENT), j("dmpj_buf_len")(P(plain[32..])));
    try expectMessage("not a live buffer");
    try testing.expectEqual(@as(i64, c.DMP_ERR_INVALID_ARGUMENT), j("dmpj_buf_len")(P(plain[33..])));
    j("dmpj_buf_free")(P(plain[32..])); // left alone
    try testing.expectEqual(@as(u8, 0xAB), plain[32]);
    j("dmpj_buf_free")(null);
}

test "memory helpers: copy, constant-time compare, pointer offsets, C string length, println" {
    var a: [8]u8 = .{ 1, 2, 3, 4, 5, 6, 7, 8 };
    var b: [8]u8 = @splat(0);
    try ok(j("dmpj_mem_copy")(P(&b), P(&a), 8));
    try testing.expectEqualSlices(u8, &a, &b);
    try ok(j("dmpj_mem_copy")(j("dmpj_ptr_add")(P(&a), 2), P(&a), 4)); // overlapping
    try testing.expectEqualSlices(u8, &.{ 1, 2, 1, 2, 3, 4, 7, 8 }, &a);
    try ok(j("dmpj_mem_copy")(null, null, 0));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_mem_copy")(null, P(&a), 1));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_mem_copy")(P(&b), null, 1));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_mem_copy")(P(&b), P(&a), -1));

    try testing.expectEqual(@as(i32, 1), j("dmpj_mem_eq")(P("abc"), P("abc"), 3));
    try testing.expectEqual(@as(i32, 0), j("dmpj_mem_eq")(P("abc"), P("abd"), 3));
    try testing.expectEqual(@as(i32, 1), j("dmpj_mem_eq")(null, null, 0));
    try testing.expectEqual(@as(i32, c.DMP_ERR_NULL_POINTER), j("dmpj_mem_eq")(null, P("abc"), 3));
    try testing.expectEqual(@as(i32, c.DMP_ERR_NULL_POINTER), j("dmpj_mem_eq")(P("abc"), null, 3));
    try testing.expectEqual(@as(i32, c.DMP_ERR_INVALID_ARGUMENT), j("dmpj_mem_eq")(P("abc"), P("abc"), -3));

    const base = P(&a);
    try testing.expectEqual(@intFromPtr(base) + 5, @intFromPtr(j("dmpj_ptr_add")(base, 5)));
    try testing.expectEqual(@intFromPtr(base), @intFromPtr(j("dmpj_ptr_add")(j("dmpj_ptr_add")(base, 7), -7)));
    try testing.expect(j("dmpj_ptr_add")(null, 5) == null);
    try testing.expect(j("dmpj_ptr_add")(base, std.math.minInt(i64)) == null);
    try testing.expect(j("dmpj_ptr_add")(@ptrFromInt(std.math.maxInt(usize) - 1), 5) == null);

    try testing.expectEqual(@as(i64, 5), j("dmpj_cstr_len")(P("hello")));
    try testing.expectEqual(@as(i64, 0), j("dmpj_cstr_len")(P("")));
    try testing.expectEqual(@as(i64, c.DMP_ERR_NULL_POINTER), j("dmpj_cstr_len")(null));

    try ok(j("dmpj_println")(P("janus-bridge: dmpj_println works"), 32));
    try ok(j("dmpj_println")(null, 0));
    try expectStatus(c.DMP_ERR_NULL_POINTER, j("dmpj_println")(null, 3));
    try expectStatus(c.DMP_ERR_INVALID_ARGUMENT, j("dmpj_println")(P("x"), -1));
}

// =============================================================================================
// Threads; the static build's log; coverage
// =============================================================================================

fn worker(index: usize, failures: *std.atomic.Value(usize)) void {
    workerBody(index) catch {
        _ = failures.fetchAdd(1, .monotonic);
    };
}

fn workerBody(index: usize) !void {
    const key = try randomKey();
    var sealed: [64 + c.DMP_AEAD_OVERHEAD]u8 = undefined;
    var opened: [64]u8 = undefined;
    var msg: [64]u8 = @splat(@intCast(index));
    for (0..50) |round| {
        msg[0] = @intCast(round);
        var n: i64 = 0;
        try ok(j("dmpj_aead_seal")(P(&key), null, 0, P(&msg), msg.len, P(&sealed), sealed.len, P(&n)));
        try ok(j("dmpj_aead_open")(P(&key), null, 0, P(&sealed), n, P(&opened), opened.len, P(&n)));
        if (!std.mem.eql(u8, &msg, &opened)) return error.Mismatch;
        // A bridge failure per thread: each thread sees its own message.
        const bad: i64 = -@as(i64, @intCast(index + 1));
        if (j("dmpj_random_bytes")(P(&opened), bad) != c.DMP_ERR_INVALID_ARGUMENT) return error.Status;
        var want: [64]u8 = undefined;
        const w = try std.mem.print(&want, "len is negative ({d})", .{bad});
        var buf: [512]u8 = undefined;
        if (std.mem.indexOf(u8, lastError(&buf), w) == null) return error.WrongThreadMessage;
        if (j("dmpj_last_status")() != c.DMP_ERR_INVALID_ARGUMENT) return error.WrongThreadStatus;
    }
}

test "threads: eight threads use the bridge at once; last errors are per thread" {
    var failures = std.atomic.Value(usize).init(0);
    var threads: [8]std.Thread = undefined;
    for (&threads, 0..) |*t, i| t.* = try std.Thread.spawn(.{}, worker, .{ i, &failures });
    for (threads) |t| t.join();
    try testing.expectEqual(@as(usize, 0), failures.load(.monotonic));
}

test "static build: its natural logarithm (static_libm.zig) agrees with libm" {
    const xs = [_]f64{ 1, 2, 0.5, 10, 1e-300, 5e-324, 1e300, std.math.floatMax(f64), 0.999999, 1.000001, 3.14159, 123456.789 };
    for (xs) |x| {
        const want = @log(x);
        const got = static_libm.ln(x);
        const tol = @max(@abs(want) * 4 * std.math.floatEps(f64), 4 * std.math.floatEps(f64));
        if (@abs(got - want) > tol) {
            std.debug.print("ln({e}) = {e}, libm says {e}\n", .{ x, got, want });
            return error.TestUnexpectedResult;
        }
    }
    try testing.expect(std.math.isNan(static_libm.ln(-1)));
    try testing.expect(std.math.isNan(static_libm.ln(std.math.nan(f64))));
    try testing.expectEqual(-std.math.inf(f64), static_libm.ln(0));
    try testing.expectEqual(std.math.inf(f64), static_libm.ln(std.math.inf(f64)));
}

test "coverage: every exported bridge function was called (keep this test last)" {
    var missing: usize = 0;
    for (j_names, called) |name, was| {
        if (!was) {
            std.debug.print("never called: {s}\n", .{name});
            missing += 1;
        }
    }
    try testing.expectEqual(@as(usize, 0), missing);
}
