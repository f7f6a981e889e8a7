//! dmp_bridge.zig: the bridge between Janus and libdmp, the C library of DMP.
//!
//! Janus calls Zig through `use zig "dmp_bridge.zig"`. It reads the `pub fn` / `export fn`
//! signatures of this file and maps i32/u32 -> i32, i64/u64/usize/isize -> i64, bool -> i1,
//! any pointer -> ptr, and anything else silently to i32. So every function exported here
//! takes and returns only i32, i64 and pointers (checked by test_bridge.zig):
//!
//!  - statuses are i32: DMP_OK (0), a negative DMP_ERR_* code of include/dmp.h, or
//!    DMPJ_ERR_LIBRARY_UNAVAILABLE (-1000) when libdmp cannot be loaded;
//!  - byte inputs are (ptr, i64 len); ptr may be NULL when len is 0; a negative length is
//!    DMP_ERR_INVALID_ARGUMENT;
//!  - byte outputs are (ptr out, i64 cap, ptr out_len): out_len points to an i64 that receives
//!    the size written, or the size needed with DMP_ERR_BUFFER_TOO_SMALL (nothing changed);
//!  - handles are opaque pointers, created through a pointer-to-pointer out-parameter and
//!    released by the matching `*_free` (NULL is fine);
//!  - scalar outputs (states, kinds, counts, ids) go through a pointer to an i32 or i64;
//!  - out-parameter pointers need no alignment (the bridge writes them byte-wise).
//!
//! Janus has no byte arrays of its own, so the bridge also gives it zeroed, length-checked
//! buffers (`dmpj_buf_*`) to use as outputs and out-parameter cells, and a few memory helpers.
//!
//! How the bridge reaches libdmp: `janus build` compiles this file with
//! `zig build-obj dmp_bridge.zig -O ReleaseSafe -fno-stack-check -lc` and links with a plain
//! `cc main.o ... dmp_bridge.o -o app`, without -l or -L. So the bridge loads `libdmp.so` at
//! first use with std.DynLib (dlopen): from $DMP_LIBRARY if set (a full path, used alone), else
//! "libdmp.so" through the dynamic loader's search (LD_LIBRARY_PATH, ld.so.cache, /usr/lib...),
//! else "libdmp.so" next to the executable; `dmpj_init` names the file explicitly. The table of
//! library functions is dmp_api.zig. An optional static build (dmp_bridge_static.zig and
//! build_static.sh) fills the same table at link time from libdmp.a instead.
//!
//! There is no `pub fn` in this file: every helper is private, so Janus sees only the exports.

const std = @import("std");
// Written for Zig 0.17.1 and kept compiling with 0.16 (what a Janus toolchain may have on PATH):
// the two APIs below moved between them.
const bufPrint = if (@hasDecl(std.mem, "print")) std.mem.print else std.fmt.bufPrint;
const native_endian = @import("builtin").cpu.arch.endian();
const dmp_api = @import("dmp_api.zig");
const Api = dmp_api.Api;

/// A safety check failing inside the bridge (a bug: every input is checked first) prints one
/// line to stderr and aborts. Kept minimal so that the object needs only common libc symbols.
pub const panic = std.debug.FullPanic(bridgePanic);

fn bridgePanic(msg: []const u8, ra: ?usize) noreturn {
    _ = ra;
    const prefix = "dmp_bridge: panic: ";
    _ = std.c.write(2, prefix, prefix.len);
    _ = std.c.write(2, msg.ptr, msg.len);
    _ = std.c.write(2, "\n", 1);
    std.c.abort();
}

// ---------------------------------------------------------------------------------------------
// Status codes (the library's that the bridge itself returns, and the bridge's own)
// ---------------------------------------------------------------------------------------------

const DMP_OK: i32 = 0;
const DMP_ERR_INTERNAL: i32 = -1;
const DMP_ERR_INVALID_ARGUMENT: i32 = -2;
const DMP_ERR_NULL_POINTER: i32 = -3;
const DMP_ERR_BUFFER_TOO_SMALL: i32 = -4;
const DMP_ERR_TOO_LARGE: i32 = -18;
/// The bridge could not load libdmp (not found, a symbol missing, or another ABI version).
/// `dmpj_last_error_message` says which and where it looked.
const DMPJ_ERR_LIBRARY_UNAVAILABLE: i32 = -1000;

// ---------------------------------------------------------------------------------------------
// Reaching the library
// ---------------------------------------------------------------------------------------------

const root = @import("root");
/// True when the root file (dmp_bridge_static.zig) asks for the static build.
const link_static = @hasDecl(root, "dmp_bridge_link_static") and root.dmp_bridge_link_static;

/// The names of the library functions in the table (`field_names` in Zig 0.17, `fields` in 0.16).
const api_names: []const [:0]const u8 = blk: {
    const info = @typeInfo(Api).@"struct";
    if (@hasField(@TypeOf(info), "field_names")) break :blk info.field_names;
    var names: [info.fields.len][:0]const u8 = undefined;
    for (info.fields, 0..) |field, i| names[i] = field.name;
    const final = names;
    break :blk &final;
};

/// The static build: the table is filled at link time (symbols of libdmp.a).
const static_api: Api = if (link_static) blk: {
    var t: Api = undefined;
    for (api_names) |name| {
        @field(t, name) = @extern(@FieldType(Api, name), .{ .name = name });
    }
    break :blk t;
} else undefined;

/// The dynamic build: filled once from libdmp.so, then read without a lock.
var dyn_api: Api = undefined;
var dyn_ready = std.atomic.Value(bool).init(false);
var dyn_mutex: std.c.pthread_mutex_t = .{};

/// The table of library functions, loading the library on first use. Null (with the status
/// DMPJ_ERR_LIBRARY_UNAVAILABLE and a message for dmpj_last_error_message) if it cannot load.
fn lib() ?*const Api {
    if (comptime link_static) return &static_api;
    if (dyn_ready.load(.acquire)) return &dyn_api;
    if (load(null) == DMP_OK) return &dyn_api;
    pending_status = DMPJ_ERR_LIBRARY_UNAVAILABLE;
    return null;
}

/// The table if the library is already loaded, without trying to load it.
fn libIfLoaded() ?*const Api {
    if (comptime link_static) return &static_api;
    if (dyn_ready.load(.acquire)) return &dyn_api;
    return null;
}

/// Loads libdmp.so (once; later calls return DMP_OK at once). `explicit`: a path to use alone.
fn load(explicit: ?[]const u8) i32 {
    _ = std.c.pthread_mutex_lock(&dyn_mutex);
    defer _ = std.c.pthread_mutex_unlock(&dyn_mutex);
    if (dyn_ready.load(.monotonic)) return DMP_OK;

    var tried: Tried = .{};
    if (explicit) |path| {
        if (tryOpen(path, &tried)) return DMP_OK;
    } else if (nonEmptyEnv("DMP_LIBRARY")) |env| {
        // Set: the caller chose this file; no silent fallback to another copy.
        if (tryOpen(env, &tried)) return DMP_OK;
    } else {
        if (tryOpen("libdmp.so", &tried)) return DMP_OK;
        var exe_buf: [4096]u8 = undefined;
        const n = std.c.readlink("/proc/self/exe", &exe_buf, exe_buf.len);
        if (n > 0 and @as(usize, @intCast(n)) < exe_buf.len) {
            const exe = exe_buf[0..@intCast(n)];
            if (std.mem.lastIndexOfScalar(u8, exe, '/')) |slash| {
                var path_buf: [4096 + 16]u8 = undefined;
                if (bufPrint(&path_buf, "{s}/libdmp.so", .{exe[0..slash]})) |path| {
                    if (tryOpen(path, &tried)) return DMP_OK;
                } else |_| {}
            }
        }
    }
    return fail(DMPJ_ERR_LIBRARY_UNAVAILABLE, "dmpj: the DMP library could not be loaded (DMPJ_ERR_LIBRARY_UNAVAILABLE): {s}; set DMP_LIBRARY to the full path of libdmp.so, or call dmpj_init", .{tried.text()});
}

/// An environment variable's value; null if unset or empty (empty counts as unset).
fn nonEmptyEnv(comptime name: [:0]const u8) ?[]const u8 {
    const v = std.mem.span(std.c.getenv(name) orelse return null);
    return if (v.len == 0) null else v;
}

/// What `load` tried, for the error message.
const Tried = struct {
    buf: [768]u8 = undefined,
    len: usize = 0,

    fn add(self: *Tried, comptime fmt: []const u8, args: anytype) void {
        const sep: []const u8 = if (self.len == 0) "" else "; ";
        const s = bufPrint(self.buf[self.len..], "{s}" ++ fmt, .{sep} ++ args) catch return;
        self.len += s.len;
    }

    fn text(self: *const Tried) []const u8 {
        return self.buf[0..self.len];
    }
};

/// Opens `path`, looks up every function of the table and checks the ABI version. Called
/// with `dyn_mutex` held.
fn tryOpen(path: []const u8, tried: *Tried) bool {
    var z: [4096]u8 = undefined;
    if (path.len == 0 or path.len >= z.len) {
        tried.add("'{s}': bad path length {d}", .{ path[0..@min(path.len, 64)], path.len });
        return false;
    }
    @memcpy(z[0..path.len], path);
    z[path.len] = 0;
    const path_z: [:0]const u8 = z[0..path.len :0];
    var dl = std.DynLib.openZ(path_z.ptr) catch {
        const why: []const u8 = if (std.c.dlerror()) |e| std.mem.span(e) else "not found";
        tried.add("'{s}': {s}", .{ path, why });
        return false;
    };
    var table: Api = undefined;
    inline for (api_names) |name| {
        @field(table, name) = dl.lookup(@FieldType(Api, name), name) orelse {
            tried.add("'{s}': no symbol {s} (an older libdmp?)", .{ path, name });
            dl.close();
            return false;
        };
    }
    const abi = table.dmp_abi_version();
    if (abi != dmp_api.abi_version) {
        tried.add("'{s}': ABI version {d}, the bridge needs {d}", .{ path, abi, dmp_api.abi_version });
        dl.close();
        return false;
    }
    dyn_api = table;
    dyn_ready.store(true, .release); // never closed: handles may live until exit
    return true;
}

// ---------------------------------------------------------------------------------------------
// Errors: the bridge's own failures, per thread
// ---------------------------------------------------------------------------------------------

threadlocal var err_buf: [1024]u8 = undefined;
threadlocal var err_len: usize = 0;
/// True when the last failure on this thread was detected by the bridge (its message is in
/// err_buf); false when it came from the library (dmp_last_error_message has it).
threadlocal var err_from_bridge: bool = false;
/// The status of the last bridge failure, for `orelse return failed()`.
threadlocal var pending_status: i32 = DMP_OK;
/// The status of the last failure on this thread, the bridge's or the library's
/// (dmpj_last_status).
threadlocal var last_failure: i32 = DMP_OK;

/// Records a bridge failure and returns its status.
fn fail(status: i32, comptime fmt: []const u8, args: anytype) i32 {
    const msg = bufPrint(&err_buf, fmt, args) catch blk: {
        const cut = "... (message truncated)";
        @memcpy(err_buf[err_buf.len - cut.len ..], cut);
        break :blk err_buf[0..];
    };
    err_len = msg.len;
    err_from_bridge = true;
    pending_status = status;
    last_failure = status;
    return status;
}

/// The status of the failure a helper just recorded (after `orelse`).
fn failed() i32 {
    return pending_status;
}

/// Passes a library status through, noting that the library holds the detail of a failure.
fn libStatus(status: i32) i32 {
    if (status != DMP_OK) {
        err_from_bridge = false;
        last_failure = status;
    }
    return status;
}

// ---------------------------------------------------------------------------------------------
// Argument conversion
// ---------------------------------------------------------------------------------------------

/// An i64 length or capacity as a usize; null (status recorded) if negative or too large.
fn size(comptime func: []const u8, comptime arg: []const u8, v: i64) ?usize {
    if (v < 0) {
        _ = fail(DMP_ERR_INVALID_ARGUMENT, func ++ ": " ++ arg ++ " is negative ({d}) (DMP_ERR_INVALID_ARGUMENT)", .{v});
        return null;
    }
    return std.math.cast(usize, v) orelse {
        _ = fail(DMP_ERR_TOO_LARGE, func ++ ": " ++ arg ++ " is too large ({d}) (DMP_ERR_TOO_LARGE)", .{v});
        return null;
    };
}

/// An i64 as a u32 (counts, limits); null (status recorded) outside 0..4294967295.
fn int32u(comptime func: []const u8, comptime arg: []const u8, v: i64) ?u32 {
    return std.math.cast(u32, v) orelse {
        _ = fail(DMP_ERR_INVALID_ARGUMENT, func ++ ": " ++ arg ++ " is out of range 0..4294967295 ({d}) (DMP_ERR_INVALID_ARGUMENT)", .{v});
        return null;
    };
}

/// The library's size_t out-parameter for an i64 out-parameter of the caller.
fn lenPtr(out_len: ?*align(1) i64, n: *usize) ?*usize {
    return if (out_len != null) n else null;
}

/// Writes a size the library reported (on success, or the size needed with
/// DMP_ERR_BUFFER_TOO_SMALL); other failures leave the caller's value alone.
fn putLen(out_len: ?*align(1) i64, n: usize, status: i32) void {
    if (status != DMP_OK and status != DMP_ERR_BUFFER_TOO_SMALL) return;
    if (out_len) |p| p.* = std.math.cast(i64, n) orelse std.math.maxInt(i64);
}

/// Copies a library-owned string into a caller buffer (the convention of byte outputs, plus a
/// NUL after the text when there is room). Records no error: these functions report errors.
fn copyText(s: []const u8, out: ?[*]u8, cap: i64, out_len: ?*align(1) i64) i32 {
    const p = out_len orelse return DMP_ERR_NULL_POINTER;
    if (cap < 0) return DMP_ERR_INVALID_ARGUMENT;
    p.* = @intCast(s.len);
    const c: usize = std.math.cast(usize, cap) orelse std.math.maxInt(usize);
    if (c < s.len) return DMP_ERR_BUFFER_TOO_SMALL;
    if (c == 0) return DMP_OK;
    const o = out orelse return DMP_ERR_NULL_POINTER;
    @memcpy(o[0..s.len], s);
    if (c > s.len) o[s.len] = 0;
    return DMP_OK;
}

// =============================================================================================
// Library loading, status and version
// =============================================================================================

/// Loads libdmp now, from `path` (`path_len` bytes, not NUL-terminated) or, with `path_len`
/// 0, from the default places ($DMP_LIBRARY, the loader's search, the executable's folder).
/// Optional: every other function loads the library at first use. Once loaded, later calls
/// return DMP_OK and change nothing (the first library loaded stays). Errors:
/// DMPJ_ERR_LIBRARY_UNAVAILABLE, DMP_ERR_INVALID_ARGUMENT, DMP_ERR_NULL_POINTER.
export fn dmpj_init(path: ?[*]const u8, path_len: i64) callconv(.c) i32 {
    const n = size("dmpj_init", "path_len", path_len) orelse return failed();
    if (n > 0 and path == null) return fail(DMP_ERR_NULL_POINTER, "dmpj_init: path is NULL (DMP_ERR_NULL_POINTER)", .{});
    if (comptime link_static) return DMP_OK;
    if (dyn_ready.load(.acquire)) return DMP_OK;
    return load(if (n == 0) null else path.?[0..n]);
}

/// The ABI version of the loaded library (1 for this bridge), or a negative status.
export fn dmpj_abi_version() callconv(.c) i32 {
    const a = lib() orelse return failed();
    return std.math.cast(i32, a.dmp_abi_version()) orelse DMP_ERR_INTERNAL;
}

/// Copies the library version (e.g. "0.1.0") into `out`. Errors: DMP_ERR_NULL_POINTER,
/// DMP_ERR_INVALID_ARGUMENT, DMP_ERR_BUFFER_TOO_SMALL (`*out_len` = size needed),
/// DMPJ_ERR_LIBRARY_UNAVAILABLE.
export fn dmpj_version(out: ?[*]u8, out_cap: i64, out_len: ?*align(1) i64) callconv(.c) i32 {
    const a = lib() orelse return failed();
    return copyText(std.mem.span(a.dmp_version()), out, out_cap, out_len);
}

/// Copies the description of a status code into `out` (any code, including 0, unknown codes
/// and DMPJ_ERR_LIBRARY_UNAVAILABLE, which needs no library). Errors as dmpj_version.
export fn dmpj_strerror(status: i32, out: ?[*]u8, out_cap: i64, out_len: ?*align(1) i64) callconv(.c) i32 {
    if (status == DMPJ_ERR_LIBRARY_UNAVAILABLE) {
        return copyText("the DMP library (libdmp.so) could not be loaded by the Janus bridge", out, out_cap, out_len);
    }
    const a = lib() orelse return failed();
    return copyText(std.mem.span(a.dmp_strerror(status)), out, out_cap, out_len);
}

/// Copies the detail of the last failure on the calling thread ("" if none yet): the bridge's
/// own (a negative length, a library that did not load, ...) or the library's. This call and
/// the other text copies (dmpj_version, dmpj_strerror) do not count as failures, so a
/// too-small buffer can be retried. Errors as dmpj_version, without the library ones.
export fn dmpj_last_error_message(out: ?[*]u8, out_cap: i64, out_len: ?*align(1) i64) callconv(.c) i32 {
    if (err_from_bridge) return copyText(err_buf[0..err_len], out, out_cap, out_len);
    const a = libIfLoaded() orelse return copyText("", out, out_cap, out_len);
    return copyText(std.mem.span(a.dmp_last_error_message()), out, out_cap, out_len);
}

/// The status of the last failure on the calling thread (0 if none yet), whichever function
/// it was: what a Janus wrapper that returns a handle or a value (dmp.jan) reports through.
/// Like dmpj_last_error_message, a later success does not reset it.
export fn dmpj_last_status() callconv(.c) i32 {
    return last_failure;
}

// =============================================================================================
// Sizes (from the library; a negative status if it cannot load)
// =============================================================================================

fn libSize(comptime name: []const u8) i64 {
    const a = lib() orelse return failed();
    return @intCast(@field(a, name)());
}

/// Bytes of a symmetric key (storage key, AEAD key): 32.
export fn dmpj_key_len() callconv(.c) i64 {
    return libSize("dmp_key_len");
}
/// Bytes of a public key and of an agent id: 32.
export fn dmpj_public_key_len() callconv(.c) i64 {
    return libSize("dmp_public_key_len");
}
/// Bytes of an Ed25519 signature: 64.
export fn dmpj_signature_len() callconv(.c) i64 {
    return libSize("dmp_signature_len");
}
/// Bytes of a fingerprint text (ASCII, no NUL): 39.
export fn dmpj_fingerprint_len() callconv(.c) i64 {
    return libSize("dmp_fingerprint_len");
}
/// Bytes of a session id: 8.
export fn dmpj_session_id_len() callconv(.c) i64 {
    return libSize("dmp_session_id_len");
}
/// Bytes of a group id: 32.
export fn dmpj_group_id_len() callconv(.c) i64 {
    return libSize("dmp_group_id_len");
}
/// Bytes dmpj_aead_seal adds to a plaintext: 40.
export fn dmpj_aead_overhead() callconv(.c) i64 {
    return libSize("dmp_aead_overhead");
}
/// Bytes of the largest prekey bundle: 1368.
export fn dmpj_bundle_max_len() callconv(.c) i64 {
    return libSize("dmp_bundle_max_len");
}
/// Bytes of a sender-key distribution: 138.
export fn dmpj_distribution_len() callconv(.c) i64 {
    return libSize("dmp_distribution_len");
}
/// Largest plaintext of a session message: 1048576.
export fn dmpj_max_plaintext_len() callconv(.c) i64 {
    return libSize("dmp_max_plaintext_len");
}
/// Largest envelope a session accepts: 1179648 (a safe size for any output buffer).
export fn dmpj_max_envelope_len() callconv(.c) i64 {
    return libSize("dmp_max_envelope_len");
}

// =============================================================================================
// Raw primitives
// =============================================================================================

/// XChaCha20-Poly1305 with a fresh random nonce: writes nonce || ciphertext || tag
/// (`pt_len` + 40 bytes). Errors: DMP_ERR_NULL_POINTER, DMP_ERR_INVALID_ARGUMENT,
/// DMP_ERR_BUFFER_TOO_SMALL, DMP_ERR_TOO_LARGE, DMP_ERR_RANDOM_FAILURE.
export fn dmpj_aead_seal(key32: ?[*]const u8, ad: ?[*]const u8, ad_len: i64, pt: ?[*]const u8, pt_len: i64, out: ?[*]u8, out_cap: i64, out_len: ?*align(1) i64) callconv(.c) i32 {
    const f = "dmpj_aead_seal";
    const a = lib() orelse return failed();
    const adl = size(f, "ad_len", ad_len) orelse return failed();
    const ptl = size(f, "pt_len", pt_len) orelse return failed();
    const cap = size(f, "out_cap", out_cap) orelse return failed();
    var n: usize = 0;
    const st = a.dmp_aead_seal(key32, ad, adl, pt, ptl, out, cap, lenPtr(out_len, &n));
    putLen(out_len, n, st);
    return libStatus(st);
}

/// Opens nonce || ciphertext || tag: writes `in_len` - 40 bytes. Errors: DMP_ERR_AUTH_FAILED
/// (tampered, truncated, wrong key or ad), DMP_ERR_NULL_POINTER, DMP_ERR_INVALID_ARGUMENT,
/// DMP_ERR_BUFFER_TOO_SMALL.
export fn dmpj_aead_open(key32: ?[*]const u8, ad: ?[*]const u8, ad_len: i64, in: ?[*]const u8, in_len: i64, out: ?[*]u8, out_cap: i64, out_len: ?*align(1) i64) callconv(.c) i32 {
    const f = "dmpj_aead_open";
    const a = lib() orelse return failed();
    const adl = size(f, "ad_len", ad_len) orelse return failed();
    const inl = size(f, "in_len", in_len) orelse return failed();
    const cap = size(f, "out_cap", out_cap) orelse return failed();
    var n: usize = 0;
    const st = a.dmp_aead_open(key32, ad, adl, in, inl, out, cap, lenPtr(out_len, &n));
    putLen(out_len, n, st);
    return libStatus(st);
}

/// Fills `out` with `len` bytes from the operating system's CSPRNG.
export fn dmpj_random_bytes(out: ?[*]u8, len: i64) callconv(.c) i32 {
    const a = lib() orelse return failed();
    const n = size("dmpj_random_bytes", "len", len) orelse return failed();
    return libStatus(a.dmp_random_bytes(out, n));
}

/// HKDF-SHA256: writes exactly `out_len` bytes (at most 8160) of `ikm` with `salt` and `info`.
export fn dmpj_hkdf_sha256(salt: ?[*]const u8, salt_len: i64, ikm: ?[*]const u8, ikm_len: i64, info: ?[*]const u8, info_len: i64, out: ?[*]u8, out_len: i64) callconv(.c) i32 {
    const f = "dmpj_hkdf_sha256";
    const a = lib() orelse return failed();
    const sl = size(f, "salt_len", salt_len) orelse return failed();
    const il = size(f, "ikm_len", ikm_len) orelse return failed();
    const nl = size(f, "info_len", info_len) orelse return failed();
    const ol = size(f, "out_len", out_len) orelse return failed();
    return libStatus(a.dmp_hkdf_sha256(salt, sl, ikm, il, info, nl, out, ol));
}

/// A fresh Ed25519 key pair: 32-byte seed (secret) and 32-byte public key.
export fn dmpj_ed25519_keypair(seed32_out: ?[*]u8, public32_out: ?[*]u8) callconv(.c) i32 {
    const a = lib() orelse return failed();
    return libStatus(a.dmp_ed25519_keypair(seed32_out, public32_out));
}

/// The Ed25519 public key of a 32-byte seed.
export fn dmpj_ed25519_public(seed32: ?[*]const u8, public32_out: ?[*]u8) callconv(.c) i32 {
    const a = lib() orelse return failed();
    return libStatus(a.dmp_ed25519_public(seed32, public32_out));
}

/// Signs `msg` with the key of `seed32`: writes a 64-byte signature.
export fn dmpj_ed25519_sign(seed32: ?[*]const u8, msg: ?[*]const u8, msg_len: i64, sig64_out: ?[*]u8) callconv(.c) i32 {
    const a = lib() orelse return failed();
    const n = size("dmpj_ed25519_sign", "msg_len", msg_len) orelse return failed();
    return libStatus(a.dmp_ed25519_sign(seed32, msg, n, sig64_out));
}

/// Strict Ed25519 verification: DMP_OK or DMP_ERR_BAD_SIGNATURE.
export fn dmpj_ed25519_verify(public32: ?[*]const u8, msg: ?[*]const u8, msg_len: i64, sig64: ?[*]const u8) callconv(.c) i32 {
    const a = lib() orelse return failed();
    const n = size("dmpj_ed25519_verify", "msg_len", msg_len) orelse return failed();
    return libStatus(a.dmp_ed25519_verify(public32, msg, n, sig64));
}

/// A fresh X25519 key pair (32 + 32 bytes).
export fn dmpj_x25519_keypair(secret32_out: ?[*]u8, public32_out: ?[*]u8) callconv(.c) i32 {
    const a = lib() orelse return failed();
    return libStatus(a.dmp_x25519_keypair(secret32_out, public32_out));
}

/// The X25519 public key of a 32-byte secret.
export fn dmpj_x25519_public(secret32: ?[*]const u8, public32_out: ?[*]u8) callconv(.c) i32 {
    const a = lib() orelse return failed();
    return libStatus(a.dmp_x25519_public(secret32, public32_out));
}

/// X25519(secret, public) into 32 bytes; a small-order public key is DMP_ERR_WEAK_KEY.
export fn dmpj_x25519(secret32: ?[*]const u8, public32: ?[*]const u8, shared32_out: ?[*]u8) callconv(.c) i32 {
    const a = lib() orelse return failed();
    return libStatus(a.dmp_x25519(secret32, public32, shared32_out));
}

// =============================================================================================
// Identity
// =============================================================================================

/// A fresh hybrid (X25519 + ML-KEM-768) identity; `*out` receives the handle (NULL on failure).
export fn dmpj_identity_generate(out: ?*align(1) ?*anyopaque) callconv(.c) i32 {
    if (out) |p| p.* = null; // NULL on every failure, the bridge's too
    const a = lib() orelse return failed();
    var h: ?*anyopaque = null;
    const st = a.dmp_identity_generate(if (out != null) &h else null);
    if (out) |p| p.* = h;
    return libStatus(st);
}

/// The identity of a 32-byte seed (same seed, same agent id and first prekeys).
export fn dmpj_identity_from_seed(seed32: ?[*]const u8, out: ?*align(1) ?*anyopaque) callconv(.c) i32 {
    if (out) |p| p.* = null; // NULL on every failure, the bridge's too
    const a = lib() orelse return failed();
    var h: ?*anyopaque = null;
    const st = a.dmp_identity_from_seed(seed32, if (out != null) &h else null);
    if (out) |p| p.* = h;
    return libStatus(st);
}

/// Releases an identity (its secrets are zeroized). NULL is ignored.
export fn dmpj_identity_free(identity: ?*anyopaque) callconv(.c) void {
    if (identity == null) return;
    const a = lib() orelse return;
    a.dmp_identity_free(identity);
}

/// Writes the agent id (32 bytes: the Ed25519 public key).
export fn dmpj_identity_public_key(identity: ?*const anyopaque, public32_out: ?[*]u8) callconv(.c) i32 {
    const a = lib() orelse return failed();
    return libStatus(a.dmp_identity_public_key(identity, public32_out));
}

/// Writes the identity's fingerprint (39 ASCII bytes, not NUL-terminated).
export fn dmpj_identity_fingerprint(identity: ?*const anyopaque, out: ?[*]u8, out_cap: i64, out_len: ?*align(1) i64) callconv(.c) i32 {
    const a = lib() orelse return failed();
    const cap = size("dmpj_identity_fingerprint", "out_cap", out_cap) orelse return failed();
    var n: usize = 0;
    const st = a.dmp_identity_fingerprint(identity, out, cap, lenPtr(out_len, &n));
    putLen(out_len, n, st);
    return libStatus(st);
}

/// Writes the fingerprint of any 32-byte agent id (DMP_ERR_BAD_ENVELOPE if not a valid key).
export fn dmpj_fingerprint(agent_id32: ?[*]const u8, out: ?[*]u8, out_cap: i64, out_len: ?*align(1) i64) callconv(.c) i32 {
    const a = lib() orelse return failed();
    const cap = size("dmpj_fingerprint", "out_cap", out_cap) orelse return failed();
    var n: usize = 0;
    const st = a.dmp_fingerprint(agent_id32, out, cap, lenPtr(out_len, &n));
    putLen(out_len, n, st);
    return libStatus(st);
}

/// Signs `msg` with the identity key (verifies under the agent id with dmpj_ed25519_verify).
export fn dmpj_identity_sign(identity: ?*const anyopaque, msg: ?[*]const u8, msg_len: i64, sig64_out: ?[*]u8) callconv(.c) i32 {
    const a = lib() orelse return failed();
    const n = size("dmpj_identity_sign", "msg_len", msg_len) orelse return failed();
    return libStatus(a.dmp_identity_sign(identity, msg, n, sig64_out));
}

/// Writes a prekey bundle to publish (hybrid: 1332 bytes, 1368 with a one-time prekey);
/// `with_one_time_prekey` is 0 or 1. A too-small buffer hands out no prekey.
export fn dmpj_identity_bundle(identity: ?*anyopaque, with_one_time_prekey: i32, out: ?[*]u8, out_cap: i64, out_len: ?*align(1) i64) callconv(.c) i32 {
    const a = lib() orelse return failed();
    const cap = size("dmpj_identity_bundle", "out_cap", out_cap) orelse return failed();
    var n: usize = 0;
    const st = a.dmp_identity_bundle(identity, with_one_time_prekey, out, cap, lenPtr(out_len, &n));
    putLen(out_len, n, st);
    return libStatus(st);
}

/// Verifies a prekey bundle (signatures, keys, no downgrade) and writes its agent id.
export fn dmpj_bundle_verify(bundle: ?[*]const u8, bundle_len: i64, agent_id32_out: ?[*]u8) callconv(.c) i32 {
    const a = lib() orelse return failed();
    const n = size("dmpj_bundle_verify", "bundle_len", bundle_len) orelse return failed();
    return libStatus(a.dmp_bundle_verify(bundle, n, agent_id32_out));
}

/// Serializes the identity encrypted with a 32-byte storage key.
export fn dmpj_identity_serialize(identity: ?*const anyopaque, storage_key32: ?[*]const u8, out: ?[*]u8, out_cap: i64, out_len: ?*align(1) i64) callconv(.c) i32 {
    const a = lib() orelse return failed();
    const cap = size("dmpj_identity_serialize", "out_cap", out_cap) orelse return failed();
    var n: usize = 0;
    const st = a.dmp_identity_serialize(identity, storage_key32, out, cap, lenPtr(out_len, &n));
    putLen(out_len, n, st);
    return libStatus(st);
}

/// Restores an identity from dmpj_identity_serialize output (DMP_ERR_WRONG_STORAGE_KEY, ...).
export fn dmpj_identity_deserialize(record: ?[*]const u8, record_len: i64, storage_key32: ?[*]const u8, out: ?*align(1) ?*anyopaque) callconv(.c) i32 {
    if (out) |p| p.* = null; // NULL on every failure, the bridge's too
    const a = lib() orelse return failed();
    const n = size("dmpj_identity_deserialize", "record_len", record_len) orelse return failed();
    var h: ?*anyopaque = null;
    const st = a.dmp_identity_deserialize(record, n, storage_key32, if (out != null) &h else null);
    if (out) |p| p.* = h;
    return libStatus(st);
}

// =============================================================================================
// Session
// =============================================================================================

/// Starts a session (DORMANT) from a peer's bundle, verified first; post-quantum required.
export fn dmpj_session_initiate(identity: ?*const anyopaque, bundle: ?[*]const u8, bundle_len: i64, out: ?*align(1) ?*anyopaque) callconv(.c) i32 {
    if (out) |p| p.* = null; // NULL on every failure, the bridge's too
    const a = lib() orelse return failed();
    const n = size("dmpj_session_initiate", "bundle_len", bundle_len) orelse return failed();
    var h: ?*anyopaque = null;
    const st = a.dmp_session_initiate(identity, bundle, n, if (out != null) &h else null);
    if (out) |p| p.* = h;
    return libStatus(st);
}

/// Creates the responder's session (ACTIVE) from a peer's first message and writes its
/// plaintext. A too-small `pt_cap` creates and consumes nothing (`*pt_len` = size needed).
export fn dmpj_session_accept(identity: ?*anyopaque, envelope: ?[*]const u8, envelope_len: i64, session_out: ?*align(1) ?*anyopaque, pt_out: ?[*]u8, pt_cap: i64, pt_len: ?*align(1) i64) callconv(.c) i32 {
    if (session_out) |p| p.* = null; // NULL on every failure, the bridge's too
    const f = "dmpj_session_accept";
    const a = lib() orelse return failed();
    const el = size(f, "envelope_len", envelope_len) orelse return failed();
    const cap = size(f, "pt_cap", pt_cap) orelse return failed();
    var h: ?*anyopaque = null;
    var n: usize = 0;
    const st = a.dmp_session_accept(identity, envelope, el, if (session_out != null) &h else null, pt_out, cap, lenPtr(pt_len, &n));
    if (session_out) |p| p.* = h;
    putLen(pt_len, n, st);
    return libStatus(st);
}

/// Writes the exact envelope size dmpj_session_encrypt produces for `pt_len` bytes now.
export fn dmpj_session_encrypted_len(session: ?*const anyopaque, pt_len: i64, len_out: ?*align(1) i64) callconv(.c) i32 {
    const a = lib() orelse return failed();
    const n = size("dmpj_session_encrypted_len", "pt_len", pt_len) orelse return failed();
    var v: usize = 0;
    const st = a.dmp_session_encrypted_len(session, n, lenPtr(len_out, &v));
    putLen(len_out, v, st);
    return libStatus(st);
}

/// Encrypts `pt` into an envelope for the peer (DORMANT becomes INITIATING).
export fn dmpj_session_encrypt(session: ?*anyopaque, pt: ?[*]const u8, pt_len: i64, out: ?[*]u8, out_cap: i64, out_len: ?*align(1) i64) callconv(.c) i32 {
    const f = "dmpj_session_encrypt";
    const a = lib() orelse return failed();
    const ptl = size(f, "pt_len", pt_len) orelse return failed();
    const cap = size(f, "out_cap", out_cap) orelse return failed();
    var n: usize = 0;
    const st = a.dmp_session_encrypt(session, pt, ptl, out, cap, lenPtr(out_len, &n));
    putLen(out_len, n, st);
    return libStatus(st);
}

/// Decrypts an envelope from the peer (INITIATING becomes ACTIVE). A refused envelope
/// (tampered, replayed, ...) changes nothing.
export fn dmpj_session_decrypt(session: ?*anyopaque, envelope: ?[*]const u8, envelope_len: i64, out: ?[*]u8, out_cap: i64, out_len: ?*align(1) i64) callconv(.c) i32 {
    const f = "dmpj_session_decrypt";
    const a = lib() orelse return failed();
    const el = size(f, "envelope_len", envelope_len) orelse return failed();
    const cap = size(f, "out_cap", out_cap) orelse return failed();
    var n: usize = 0;
    const st = a.dmp_session_decrypt(session, envelope, el, out, cap, lenPtr(out_len, &n));
    putLen(out_len, n, st);
    return libStatus(st);
}

/// Writes the lifecycle state: 0 DORMANT, 1 INITIATING, 2 ACTIVE, 3 CLOSED.
export fn dmpj_session_state(session: ?*const anyopaque, state_out: ?*align(1) i32) callconv(.c) i32 {
    const a = lib() orelse return failed();
    var v: i32 = 0;
    const st = a.dmp_session_state(session, if (state_out != null) &v else null);
    if (st == DMP_OK) state_out.?.* = v;
    return libStatus(st);
}

/// Writes the peer's 32-byte agent id.
export fn dmpj_session_peer_id(session: ?*const anyopaque, peer32_out: ?[*]u8) callconv(.c) i32 {
    const a = lib() orelse return failed();
    return libStatus(a.dmp_session_peer_id(session, peer32_out));
}

/// Writes the 8-byte session id (the same on both sides).
export fn dmpj_session_id(session: ?*const anyopaque, id8_out: ?[*]u8) callconv(.c) i32 {
    const a = lib() orelse return failed();
    return libStatus(a.dmp_session_id(session, id8_out));
}

/// Closes the session: keys erased, every later call but state/peer_id/id/free refused.
export fn dmpj_session_close(session: ?*anyopaque) callconv(.c) i32 {
    const a = lib() orelse return failed();
    return libStatus(a.dmp_session_close(session));
}

/// Serializes the session encrypted with a 32-byte storage key.
export fn dmpj_session_serialize(session: ?*const anyopaque, storage_key32: ?[*]const u8, out: ?[*]u8, out_cap: i64, out_len: ?*align(1) i64) callconv(.c) i32 {
    const a = lib() orelse return failed();
    const cap = size("dmpj_session_serialize", "out_cap", out_cap) orelse return failed();
    var n: usize = 0;
    const st = a.dmp_session_serialize(session, storage_key32, out, cap, lenPtr(out_len, &n));
    putLen(out_len, n, st);
    return libStatus(st);
}

/// Restores a session from dmpj_session_serialize output.
export fn dmpj_session_deserialize(record: ?[*]const u8, record_len: i64, storage_key32: ?[*]const u8, out: ?*align(1) ?*anyopaque) callconv(.c) i32 {
    if (out) |p| p.* = null; // NULL on every failure, the bridge's too
    const a = lib() orelse return failed();
    const n = size("dmpj_session_deserialize", "record_len", record_len) orelse return failed();
    var h: ?*anyopaque = null;
    const st = a.dmp_session_deserialize(record, n, storage_key32, if (out != null) &h else null);
    if (out) |p| p.* = h;
    return libStatus(st);
}

/// Releases a session (keys zeroized). NULL is ignored.
export fn dmpj_session_free(session: ?*anyopaque) callconv(.c) void {
    if (session == null) return;
    const a = lib() orelse return;
    a.dmp_session_free(session);
}

// =============================================================================================
// Group (Sender Keys)
// =============================================================================================

/// Creates our view of the group `group_id32` (any 32 bytes the members agree on).
export fn dmpj_group_new(identity: ?*const anyopaque, group_id32: ?[*]const u8, out: ?*align(1) ?*anyopaque) callconv(.c) i32 {
    if (out) |p| p.* = null; // NULL on every failure, the bridge's too
    const a = lib() orelse return failed();
    var h: ?*anyopaque = null;
    const st = a.dmp_group_new(identity, group_id32, if (out != null) &h else null);
    if (out) |p| p.* = h;
    return libStatus(st);
}

/// Releases a group (keys zeroized). NULL is ignored.
export fn dmpj_group_free(group: ?*anyopaque) callconv(.c) void {
    if (group == null) return;
    const a = lib() orelse return;
    a.dmp_group_free(group);
}

/// Writes the 32-byte group id.
export fn dmpj_group_id(group: ?*const anyopaque, group_id32_out: ?[*]u8) callconv(.c) i32 {
    const a = lib() orelse return failed();
    return libStatus(a.dmp_group_id(group, group_id32_out));
}

/// Adds a member (32-byte agent id); then send it our dmpj_group_distribution pairwise.
export fn dmpj_group_add_member(group: ?*anyopaque, member32: ?[*]const u8) callconv(.c) i32 {
    const a = lib() orelse return failed();
    return libStatus(a.dmp_group_add_member(group, member32));
}

/// Removes a member: our sender key rotates; send the new distribution to the others.
export fn dmpj_group_remove_member(group: ?*anyopaque, member32: ?[*]const u8) callconv(.c) i32 {
    const a = lib() orelse return failed();
    return libStatus(a.dmp_group_remove_member(group, member32));
}

/// Writes how many other members the group has.
export fn dmpj_group_member_count(group: ?*const anyopaque, count_out: ?*align(1) i64) callconv(.c) i32 {
    const a = lib() orelse return failed();
    var v: u32 = 0;
    const st = a.dmp_group_member_count(group, if (count_out != null) &v else null);
    if (st == DMP_OK) count_out.?.* = v;
    return libStatus(st);
}

/// Writes our sender-key distribution (138 bytes; secret: send it only inside a session).
export fn dmpj_group_distribution(group: ?*const anyopaque, out: ?[*]u8, out_cap: i64, out_len: ?*align(1) i64) callconv(.c) i32 {
    const a = lib() orelse return failed();
    const cap = size("dmpj_group_distribution", "out_cap", out_cap) orelse return failed();
    var n: usize = 0;
    const st = a.dmp_group_distribution(group, out, cap, lenPtr(out_len, &n));
    putLen(out_len, n, st);
    return libStatus(st);
}

/// Takes in the distribution `sender32` sent us over our pairwise session with it.
export fn dmpj_group_process_distribution(group: ?*anyopaque, sender32: ?[*]const u8, distribution: ?[*]const u8, distribution_len: i64) callconv(.c) i32 {
    const a = lib() orelse return failed();
    const n = size("dmpj_group_process_distribution", "distribution_len", distribution_len) orelse return failed();
    return libStatus(a.dmp_group_process_distribution(group, sender32, distribution, n));
}

/// Encrypts `pt` once for the whole group and signs it.
export fn dmpj_group_encrypt(group: ?*anyopaque, pt: ?[*]const u8, pt_len: i64, out: ?[*]u8, out_cap: i64, out_len: ?*align(1) i64) callconv(.c) i32 {
    const f = "dmpj_group_encrypt";
    const a = lib() orelse return failed();
    const ptl = size(f, "pt_len", pt_len) orelse return failed();
    const cap = size(f, "out_cap", out_cap) orelse return failed();
    var n: usize = 0;
    const st = a.dmp_group_encrypt(group, pt, ptl, out, cap, lenPtr(out_len, &n));
    putLen(out_len, n, st);
    return libStatus(st);
}

/// Decrypts a group message: writes the sender's agent id (32 bytes) and the plaintext.
export fn dmpj_group_decrypt(group: ?*anyopaque, in: ?[*]const u8, in_len: i64, sender32_out: ?[*]u8, out: ?[*]u8, out_cap: i64, out_len: ?*align(1) i64) callconv(.c) i32 {
    const f = "dmpj_group_decrypt";
    const a = lib() orelse return failed();
    const inl = size(f, "in_len", in_len) orelse return failed();
    const cap = size(f, "out_cap", out_cap) orelse return failed();
    var n: usize = 0;
    const st = a.dmp_group_decrypt(group, in, inl, sender32_out, out, cap, lenPtr(out_len, &n));
    putLen(out_len, n, st);
    return libStatus(st);
}

/// Serializes the group (members, sender keys) encrypted with a 32-byte storage key.
export fn dmpj_group_serialize(group: ?*const anyopaque, storage_key32: ?[*]const u8, out: ?[*]u8, out_cap: i64, out_len: ?*align(1) i64) callconv(.c) i32 {
    const a = lib() orelse return failed();
    const cap = size("dmpj_group_serialize", "out_cap", out_cap) orelse return failed();
    var n: usize = 0;
    const st = a.dmp_group_serialize(group, storage_key32, out, cap, lenPtr(out_len, &n));
    putLen(out_len, n, st);
    return libStatus(st);
}

/// Restores a group from dmpj_group_serialize output.
export fn dmpj_group_deserialize(record: ?[*]const u8, record_len: i64, storage_key32: ?[*]const u8, out: ?*align(1) ?*anyopaque) callconv(.c) i32 {
    if (out) |p| p.* = null; // NULL on every failure, the bridge's too
    const a = lib() orelse return failed();
    const n = size("dmpj_group_deserialize", "record_len", record_len) orelse return failed();
    var h: ?*anyopaque = null;
    const st = a.dmp_group_deserialize(record, n, storage_key32, if (out != null) &h else null);
    if (out) |p| p.* = h;
    return libStatus(st);
}

// =============================================================================================
// Agent: an identity with its sessions and groups, persisted in an encrypted store
// =============================================================================================

/// Opens the agent stored at `path` (`path_len` bytes, not NUL-terminated; created if new),
/// or an in-memory agent when `path_len` is 0. `flags` combines 1 RETAIN_EVENTS,
/// 2 REFUSE_GROUP_INVITES, 4 ALLOW_CLASSICAL. The store stays locked until dmpj_agent_free.
export fn dmpj_agent_open(path: ?[*]const u8, path_len: i64, storage_key32: ?[*]const u8, flags: i32, out: ?*align(1) ?*anyopaque) callconv(.c) i32 {
    if (out) |p| p.* = null; // NULL on every failure, the bridge's too
    const a = lib() orelse return failed();
    const n = size("dmpj_agent_open", "path_len", path_len) orelse return failed();
    var h: ?*anyopaque = null;
    const st = a.dmp_agent_open(path, n, storage_key32, flags, if (out != null) &h else null);
    if (out) |p| p.* = h;
    return libStatus(st);
}

/// As dmpj_agent_open, with the identity of a 32-byte seed for a new store.
export fn dmpj_agent_open_with_seed(path: ?[*]const u8, path_len: i64, storage_key32: ?[*]const u8, seed32: ?[*]const u8, flags: i32, out: ?*align(1) ?*anyopaque) callconv(.c) i32 {
    if (out) |p| p.* = null; // NULL on every failure, the bridge's too
    const a = lib() orelse return failed();
    const n = size("dmpj_agent_open_with_seed", "path_len", path_len) orelse return failed();
    var h: ?*anyopaque = null;
    const st = a.dmp_agent_open_with_seed(path, n, storage_key32, seed32, flags, if (out != null) &h else null);
    if (out) |p| p.* = h;
    return libStatus(st);
}

/// Closes the agent (releasing its store) and zeroizes its secrets. NULL is ignored.
export fn dmpj_agent_free(agent: ?*anyopaque) callconv(.c) void {
    if (agent == null) return;
    const a = lib() orelse return;
    a.dmp_agent_free(agent);
}

/// Writes the agent id (32 bytes).
export fn dmpj_agent_id(agent: ?*const anyopaque, id32_out: ?[*]u8) callconv(.c) i32 {
    const a = lib() orelse return failed();
    return libStatus(a.dmp_agent_id(agent, id32_out));
}

/// Writes the agent's fingerprint (39 ASCII bytes).
export fn dmpj_agent_fingerprint(agent: ?*const anyopaque, out: ?[*]u8, out_cap: i64, out_len: ?*align(1) i64) callconv(.c) i32 {
    const a = lib() orelse return failed();
    const cap = size("dmpj_agent_fingerprint", "out_cap", out_cap) orelse return failed();
    var n: usize = 0;
    const st = a.dmp_agent_fingerprint(agent, out, cap, lenPtr(out_len, &n));
    putLen(out_len, n, st);
    return libStatus(st);
}

/// Writes the agent's bundle to publish (`with_one_time_prekey` 0 or 1).
export fn dmpj_agent_bundle(agent: ?*anyopaque, with_one_time_prekey: i32, out: ?[*]u8, out_cap: i64, out_len: ?*align(1) i64) callconv(.c) i32 {
    const a = lib() orelse return failed();
    const cap = size("dmpj_agent_bundle", "out_cap", out_cap) orelse return failed();
    var n: usize = 0;
    const st = a.dmp_agent_bundle(agent, with_one_time_prekey, out, cap, lenPtr(out_len, &n));
    putLen(out_len, n, st);
    return libStatus(st);
}

/// Verifies and remembers a peer's bundle; writes the peer's id (32 bytes).
export fn dmpj_agent_add_bundle(agent: ?*anyopaque, bundle: ?[*]const u8, bundle_len: i64, peer32_out: ?[*]u8) callconv(.c) i32 {
    const a = lib() orelse return failed();
    const n = size("dmpj_agent_add_bundle", "bundle_len", bundle_len) orelse return failed();
    return libStatus(a.dmp_agent_add_bundle(agent, bundle, n, peer32_out));
}

/// Encrypts `pt` for the peer, starting a session from its bundle if needed; the new state is
/// saved before the envelope is written.
export fn dmpj_agent_send(agent: ?*anyopaque, peer32: ?[*]const u8, pt: ?[*]const u8, pt_len: i64, out: ?[*]u8, out_cap: i64, out_len: ?*align(1) i64) callconv(.c) i32 {
    const f = "dmpj_agent_send";
    const a = lib() orelse return failed();
    const ptl = size(f, "pt_len", pt_len) orelse return failed();
    const cap = size(f, "out_cap", out_cap) orelse return failed();
    var n: usize = 0;
    const st = a.dmp_agent_send(agent, peer32, pt, ptl, out, cap, lenPtr(out_len, &n));
    putLen(out_len, n, st);
    return libStatus(st);
}

/// Sets up a session with the peer without a message; writes the envelope.
export fn dmpj_agent_connect(agent: ?*anyopaque, peer32: ?[*]const u8, out: ?[*]u8, out_cap: i64, out_len: ?*align(1) i64) callconv(.c) i32 {
    const a = lib() orelse return failed();
    const cap = size("dmpj_agent_connect", "out_cap", out_cap) orelse return failed();
    var n: usize = 0;
    const st = a.dmp_agent_connect(agent, peer32, out, cap, lenPtr(out_len, &n));
    putLen(out_len, n, st);
    return libStatus(st);
}

/// Decrypts any envelope for the agent and creates an event (`*event_out`; read it with
/// dmpj_event_*, release it with dmpj_event_free). On any error nothing changes.
export fn dmpj_agent_receive(agent: ?*anyopaque, envelope: ?[*]const u8, envelope_len: i64, event_out: ?*align(1) ?*anyopaque) callconv(.c) i32 {
    if (event_out) |p| p.* = null; // NULL on every failure, the bridge's too
    const a = lib() orelse return failed();
    const n = size("dmpj_agent_receive", "envelope_len", envelope_len) orelse return failed();
    var h: ?*anyopaque = null;
    const st = a.dmp_agent_receive(agent, envelope, n, if (event_out != null) &h else null);
    if (event_out) |p| p.* = h;
    return libStatus(st);
}

/// Writes how many retained, unacknowledged events there are (RETAIN_EVENTS agents).
export fn dmpj_agent_pending_count(agent: ?*const anyopaque, count_out: ?*align(1) i64) callconv(.c) i32 {
    const a = lib() orelse return failed();
    var v: usize = 0;
    const st = a.dmp_agent_pending_count(agent, lenPtr(count_out, &v));
    if (st == DMP_OK) putLen(count_out, v, st);
    return libStatus(st);
}

/// Creates an event for the `index`-th retained event (0 = oldest).
export fn dmpj_agent_pending_event(agent: ?*const anyopaque, index: i64, event_out: ?*align(1) ?*anyopaque) callconv(.c) i32 {
    if (event_out) |p| p.* = null; // NULL on every failure, the bridge's too
    const a = lib() orelse return failed();
    const i = size("dmpj_agent_pending_event", "index", index) orelse return failed();
    var h: ?*anyopaque = null;
    const st = a.dmp_agent_pending_event(agent, i, if (event_out != null) &h else null);
    if (event_out) |p| p.* = h;
    return libStatus(st);
}

/// Acknowledges a retained event by its sequence number (from dmpj_event_seq).
export fn dmpj_agent_ack(agent: ?*anyopaque, seq: i64) callconv(.c) i32 {
    const a = lib() orelse return failed();
    return libStatus(a.dmp_agent_ack(agent, @bitCast(seq)));
}

/// Writes the ids (32 bytes each, in id order) of the peers the agent has a session with.
export fn dmpj_agent_peers(agent: ?*const anyopaque, out: ?[*]u8, out_cap: i64, out_len: ?*align(1) i64) callconv(.c) i32 {
    const a = lib() orelse return failed();
    const cap = size("dmpj_agent_peers", "out_cap", out_cap) orelse return failed();
    var n: usize = 0;
    const st = a.dmp_agent_peers(agent, out, cap, lenPtr(out_len, &n));
    putLen(out_len, n, st);
    return libStatus(st);
}

/// Writes the state (0..3) of the primary session with the peer (DMP_ERR_NO_SESSION if none).
export fn dmpj_agent_session_state(agent: ?*const anyopaque, peer32: ?[*]const u8, state_out: ?*align(1) i32) callconv(.c) i32 {
    const a = lib() orelse return failed();
    var v: i32 = 0;
    const st = a.dmp_agent_session_state(agent, peer32, if (state_out != null) &v else null);
    if (st == DMP_OK) state_out.?.* = v;
    return libStatus(st);
}

/// Periodic upkeep at `now_unix` (seconds since 1970, not negative): rotates the signed prekey
/// when due, replenishes one-time prekeys, drops old sessions.
export fn dmpj_agent_maintain(agent: ?*anyopaque, now_unix: i64) callconv(.c) i32 {
    const a = lib() orelse return failed();
    if (now_unix < 0) return fail(DMP_ERR_INVALID_ARGUMENT, "dmpj_agent_maintain: now_unix is negative ({d}) (DMP_ERR_INVALID_ARGUMENT)", .{now_unix});
    return libStatus(a.dmp_agent_maintain(agent, @intCast(now_unix)));
}

/// Creates a group with a fresh random id (written to `group_id32_out`).
export fn dmpj_agent_group_create(agent: ?*anyopaque, group_id32_out: ?[*]u8) callconv(.c) i32 {
    const a = lib() orelse return failed();
    return libStatus(a.dmp_agent_group_create(agent, group_id32_out));
}

/// Adds the peer to the group and queues our sender key for it in the outbox.
export fn dmpj_agent_group_add(agent: ?*anyopaque, group_id32: ?[*]const u8, peer32: ?[*]const u8) callconv(.c) i32 {
    const a = lib() orelse return failed();
    return libStatus(a.dmp_agent_group_add(agent, group_id32, peer32));
}

/// Removes the peer: our sender key rotates and is queued for every remaining member.
export fn dmpj_agent_group_remove(agent: ?*anyopaque, group_id32: ?[*]const u8, peer32: ?[*]const u8) callconv(.c) i32 {
    const a = lib() orelse return failed();
    return libStatus(a.dmp_agent_group_remove(agent, group_id32, peer32));
}

/// Forgets the group and every key in it; nothing is sent. The answer to an unwanted
/// invitation (dmpj_event_new_group = 1).
export fn dmpj_agent_group_leave(agent: ?*anyopaque, group_id32: ?[*]const u8) callconv(.c) i32 {
    const a = lib() orelse return failed();
    return libStatus(a.dmp_agent_group_leave(agent, group_id32));
}

/// Encrypts `pt` once for the group; send the envelope to every member.
export fn dmpj_agent_group_send(agent: ?*anyopaque, group_id32: ?[*]const u8, pt: ?[*]const u8, pt_len: i64, out: ?[*]u8, out_cap: i64, out_len: ?*align(1) i64) callconv(.c) i32 {
    const f = "dmpj_agent_group_send";
    const a = lib() orelse return failed();
    const ptl = size(f, "pt_len", pt_len) orelse return failed();
    const cap = size(f, "out_cap", out_cap) orelse return failed();
    var n: usize = 0;
    const st = a.dmp_agent_group_send(agent, group_id32, pt, ptl, out, cap, lenPtr(out_len, &n));
    putLen(out_len, n, st);
    return libStatus(st);
}

/// Writes the other members of the group (32 bytes each, in id order).
export fn dmpj_agent_group_members(agent: ?*const anyopaque, group_id32: ?[*]const u8, out: ?[*]u8, out_cap: i64, out_len: ?*align(1) i64) callconv(.c) i32 {
    const a = lib() orelse return failed();
    const cap = size("dmpj_agent_group_members", "out_cap", out_cap) orelse return failed();
    var n: usize = 0;
    const st = a.dmp_agent_group_members(agent, group_id32, out, cap, lenPtr(out_len, &n));
    putLen(out_len, n, st);
    return libStatus(st);
}

/// Writes how many envelopes wait in the outbox.
export fn dmpj_agent_outbox_count(agent: ?*const anyopaque, count_out: ?*align(1) i64) callconv(.c) i32 {
    const a = lib() orelse return failed();
    var v: usize = 0;
    const st = a.dmp_agent_outbox_count(agent, lenPtr(count_out, &v));
    if (st == DMP_OK) putLen(count_out, v, st);
    return libStatus(st);
}

/// Writes the oldest outbox envelope, its recipient (32 bytes) and its number (`*seq_out`, an
/// opaque 64-bit value) without removing it: send it, then call dmpj_agent_outbox_done with
/// that number. DMP_ERR_WRONG_STATE if the outbox is empty.
export fn dmpj_agent_outbox_next(agent: ?*const anyopaque, peer32_out: ?[*]u8, out: ?[*]u8, out_cap: i64, out_len: ?*align(1) i64, seq_out: ?*align(1) i64) callconv(.c) i32 {
    const a = lib() orelse return failed();
    const cap = size("dmpj_agent_outbox_next", "out_cap", out_cap) orelse return failed();
    var n: usize = 0;
    var s: u64 = 0;
    const st = a.dmp_agent_outbox_next(agent, peer32_out, out, cap, lenPtr(out_len, &n), if (seq_out != null) &s else null);
    putLen(out_len, n, st);
    if (st == DMP_OK) seq_out.?.* = @bitCast(s);
    return libStatus(st);
}

/// Removes outbox entry `seq` (from dmpj_agent_outbox_next: it was sent), and only that one.
/// An entry already removed is fine; DMP_ERR_INVALID_ARGUMENT for a number never given.
export fn dmpj_agent_outbox_done(agent: ?*anyopaque, seq: i64) callconv(.c) i32 {
    const a = lib() orelse return failed();
    return libStatus(a.dmp_agent_outbox_done(agent, @bitCast(seq)));
}

/// Signs an application message as the agent: writes a 64-byte Ed25519 signature that
/// verifies under the agent id (dmpj_ed25519_verify). A message beginning with "DMP" is
/// reserved for the protocol: DMP_ERR_INVALID_ARGUMENT, nothing written.
export fn dmpj_agent_sign(agent: ?*const anyopaque, msg: ?[*]const u8, msg_len: i64, sig64_out: ?[*]u8) callconv(.c) i32 {
    const a = lib() orelse return failed();
    const n = size("dmpj_agent_sign", "msg_len", msg_len) orelse return failed();
    return libStatus(a.dmp_agent_sign(agent, msg, n, sig64_out));
}

/// Accepts a peer that started a session with us (a stranger: at most 1,000 are kept, idle
/// ones dropped). Sending to it or adding its bundle accepts it too. DMP_ERR_NO_SESSION if the
/// agent knows nothing of the peer.
export fn dmpj_agent_accept_peer(agent: ?*anyopaque, peer32: ?[*]const u8) callconv(.c) i32 {
    const a = lib() orelse return failed();
    return libStatus(a.dmp_agent_accept_peer(agent, peer32));
}

/// Writes 1 if the peer is accepted, 0 if it is a stranger. DMP_ERR_NO_SESSION if the agent
/// knows nothing of the peer.
export fn dmpj_agent_is_accepted(agent: ?*const anyopaque, peer32: ?[*]const u8, accepted_out: ?*align(1) i32) callconv(.c) i32 {
    const a = lib() orelse return failed();
    var v: i32 = 0;
    const st = a.dmp_agent_is_accepted(agent, peer32, if (accepted_out != null) &v else null);
    if (st == DMP_OK) accepted_out.?.* = v;
    return libStatus(st);
}

/// Closes every session with the peer (keys erased); its bundle stays, so the next send starts
/// a new session (add a current bundle first if the stored one had a one-time prekey).
/// DMP_ERR_NO_SESSION if there is no session with the peer.
export fn dmpj_agent_close_session(agent: ?*anyopaque, peer32: ?[*]const u8) callconv(.c) i32 {
    const a = lib() orelse return failed();
    return libStatus(a.dmp_agent_close_session(agent, peer32));
}

/// Forgets the peer: its sessions (keys erased), its bundle and its acceptance; sending to it
/// is DMP_ERR_NO_SESSION until its bundle is added again. DMP_ERR_NO_SESSION if the agent
/// knows nothing of the peer.
export fn dmpj_agent_forget_peer(agent: ?*anyopaque, peer32: ?[*]const u8) callconv(.c) i32 {
    const a = lib() orelse return failed();
    return libStatus(a.dmp_agent_forget_peer(agent, peer32));
}

/// Writes the ids (32 bytes each, in id order) of the peers whose session we started has had
/// no reply for 14 days at `now_unix` (seconds since 1970, not negative): add a current bundle
/// of each, then dmpj_agent_close_session.
export fn dmpj_agent_unanswered_peers(agent: ?*const anyopaque, now_unix: i64, out: ?[*]u8, out_cap: i64, out_len: ?*align(1) i64) callconv(.c) i32 {
    const f = "dmpj_agent_unanswered_peers";
    const a = lib() orelse return failed();
    if (now_unix < 0) return fail(DMP_ERR_INVALID_ARGUMENT, "dmpj_agent_unanswered_peers: now_unix is negative ({d}) (DMP_ERR_INVALID_ARGUMENT)", .{now_unix});
    const cap = size(f, "out_cap", out_cap) orelse return failed();
    var n: usize = 0;
    const st = a.dmp_agent_unanswered_peers(agent, @intCast(now_unix), out, cap, lenPtr(out_len, &n));
    putLen(out_len, n, st);
    return libStatus(st);
}

// =============================================================================================
// Events (from dmpj_agent_receive and dmpj_agent_pending_event)
// =============================================================================================

/// Writes the event's kind: 1 MESSAGE, 2 GROUP_MESSAGE, 3 DISTRIBUTION_CONSUMED,
/// 4 SESSION_ESTABLISHED.
export fn dmpj_event_kind(event: ?*const anyopaque, kind_out: ?*align(1) i32) callconv(.c) i32 {
    const a = lib() orelse return failed();
    var v: i32 = 0;
    const st = a.dmp_event_kind(event, if (kind_out != null) &v else null);
    if (st == DMP_OK) kind_out.?.* = v;
    return libStatus(st);
}

/// Writes the id (32 bytes) of the agent the event came from (authenticated).
export fn dmpj_event_peer(event: ?*const anyopaque, peer32_out: ?[*]u8) callconv(.c) i32 {
    const a = lib() orelse return failed();
    return libStatus(a.dmp_event_peer(event, peer32_out));
}

/// Writes the group id of a group event (DMP_ERR_WRONG_STATE for another kind).
export fn dmpj_event_group_id(event: ?*const anyopaque, group_id32_out: ?[*]u8) callconv(.c) i32 {
    const a = lib() orelse return failed();
    return libStatus(a.dmp_event_group_id(event, group_id32_out));
}

/// Writes the event's plaintext (empty unless a message).
export fn dmpj_event_plaintext(event: ?*const anyopaque, out: ?[*]u8, out_cap: i64, out_len: ?*align(1) i64) callconv(.c) i32 {
    const a = lib() orelse return failed();
    const cap = size("dmpj_event_plaintext", "out_cap", out_cap) orelse return failed();
    var n: usize = 0;
    const st = a.dmp_event_plaintext(event, out, cap, lenPtr(out_len, &n));
    putLen(out_len, n, st);
    return libStatus(st);
}

/// Writes the event's sequence number (for dmpj_agent_ack; an opaque 64-bit value) and
/// whether it created a new session (0 or 1).
export fn dmpj_event_seq(event: ?*const anyopaque, seq_out: ?*align(1) i64, new_session_out: ?*align(1) i32) callconv(.c) i32 {
    const a = lib() orelse return failed();
    var s: u64 = 0;
    var ns: i32 = 0;
    const st = a.dmp_event_seq(event, if (seq_out != null) &s else null, if (new_session_out != null) &ns else null);
    if (st == DMP_OK) {
        seq_out.?.* = @bitCast(s);
        new_session_out.?.* = ns;
    }
    return libStatus(st);
}

/// Writes whether the event created a new group (0 or 1): an invitation, from the event's
/// peer, into a group the agent did not hold. Check the inviter, else dmpj_agent_group_leave.
export fn dmpj_event_new_group(event: ?*const anyopaque, new_group_out: ?*align(1) i32) callconv(.c) i32 {
    const a = lib() orelse return failed();
    var v: i32 = 0;
    const st = a.dmp_event_new_group(event, if (new_group_out != null) &v else null);
    if (st == DMP_OK) new_group_out.?.* = v;
    return libStatus(st);
}

/// Releases an event (its plaintext is zeroized). NULL is ignored.
export fn dmpj_event_free(event: ?*anyopaque) callconv(.c) void {
    if (event == null) return;
    const a = lib() orelse return;
    a.dmp_event_free(event);
}

// =============================================================================================
// Memory for Janus: zeroed buffers with a checked length, and byte helpers
// =============================================================================================

/// Every buffer starts with this header, just before the bytes the caller sees.
const BufHeader = extern struct {
    magic: u64,
    len: u64,
};
const buf_magic: u64 = 0x21667562_6a706d64; // "dmpjbuf!" in little-endian bytes
const buf_header_len = @sizeOf(BufHeader);

/// The header of a buffer from dmpj_buf_new, or null (status recorded) for NULL or a pointer
/// that is not one (best effort: the magic value in front of it).
fn bufHeader(comptime func: []const u8, buf: ?*const anyopaque) ?*BufHeader {
    const p = buf orelse {
        _ = fail(DMP_ERR_NULL_POINTER, func ++ ": buf is NULL (DMP_ERR_NULL_POINTER)", .{});
        return null;
    };
    const addr = @intFromPtr(p);
    if (addr < buf_header_len or addr % @alignOf(BufHeader) != 0) {
        _ = fail(DMP_ERR_INVALID_ARGUMENT, func ++ ": not a buffer from dmpj_buf_new (DMP_ERR_INVALID_ARGUMENT)", .{});
        return null;
    }
    const h: *BufHeader = @ptrFromInt(addr - buf_header_len);
    if (h.magic != buf_magic) {
        _ = fail(DMP_ERR_INVALID_ARGUMENT, func ++ ": not a live buffer from dmpj_buf_new (DMP_ERR_INVALID_ARGUMENT)", .{});
        return null;
    }
    return h;
}

/// The bytes of a checked buffer, [off, off + n) within its length; null (status recorded)
/// otherwise.
fn bufRange(comptime func: []const u8, buf: ?*const anyopaque, off: i64, n: usize) ?[*]u8 {
    const h = bufHeader(func, buf) orelse return null;
    const o = std.math.cast(u64, off) orelse {
        _ = fail(DMP_ERR_INVALID_ARGUMENT, func ++ ": offset {d} is negative (DMP_ERR_INVALID_ARGUMENT)", .{off});
        return null;
    };
    if (o > h.len or h.len - o < n) {
        _ = fail(DMP_ERR_INVALID_ARGUMENT, func ++ ": offset {d} + {d} is past the buffer's {d} bytes (DMP_ERR_INVALID_ARGUMENT)", .{ off, n, h.len });
        return null;
    }
    const base: [*]u8 = @ptrFromInt(@intFromPtr(buf.?));
    return base + @as(usize, @intCast(o));
}

/// A new zeroed buffer of `len` bytes (0 allowed), for outputs, out-parameter cells (8 bytes
/// hold an i32, an i64 or a handle) and secrets. Free it with dmpj_buf_free. NULL on failure
/// (negative or too large `len`, out of memory; see dmpj_last_error_message).
export fn dmpj_buf_new(len: i64) callconv(.c) ?*anyopaque {
    const n = size("dmpj_buf_new", "len", len) orelse return null;
    if (n > (1 << 40)) {
        _ = fail(DMP_ERR_TOO_LARGE, "dmpj_buf_new: len {d} is above 1 TiB (DMP_ERR_TOO_LARGE)", .{len});
        return null;
    }
    const raw = std.c.calloc(1, buf_header_len + n) orelse {
        _ = fail(DMP_ERR_TOO_LARGE, "dmpj_buf_new: out of memory for {d} bytes (DMP_ERR_TOO_LARGE)", .{len});
        return null;
    };
    const h: *BufHeader = @ptrCast(@alignCast(raw));
    h.* = .{ .magic = buf_magic, .len = n };
    return @ptrFromInt(@intFromPtr(raw) + buf_header_len);
}

/// Zeroes and frees a buffer from dmpj_buf_new. NULL is ignored; a pointer that is not a live
/// buffer is left alone (and noted for dmpj_last_error_message).
export fn dmpj_buf_free(buf: ?*anyopaque) callconv(.c) void {
    if (buf == null) return;
    const h = bufHeader("dmpj_buf_free", buf) orelse return;
    const bytes: [*]volatile u8 = @ptrCast(buf.?);
    std.crypto.secureZero(u8, bytes[0..@intCast(h.len)]);
    @as(*volatile u64, &h.magic).* = 0;
    std.c.free(h);
}

/// The length of a buffer from dmpj_buf_new, or a negative status.
export fn dmpj_buf_len(buf: ?*const anyopaque) callconv(.c) i64 {
    const h = bufHeader("dmpj_buf_len", buf) orelse return failed();
    return @intCast(h.len);
}

/// The byte at `index` (0..255), or a negative status (NULL, not a buffer, out of range).
export fn dmpj_buf_get(buf: ?*const anyopaque, index: i64) callconv(.c) i32 {
    const p = bufRange("dmpj_buf_get", buf, index, 1) orelse return failed();
    return p[0];
}

/// Sets the byte at `index` to `value` (0..255).
export fn dmpj_buf_set(buf: ?*anyopaque, index: i64, value: i32) callconv(.c) i32 {
    const b = std.math.cast(u8, value) orelse return fail(DMP_ERR_INVALID_ARGUMENT, "dmpj_buf_set: value {d} is not a byte (DMP_ERR_INVALID_ARGUMENT)", .{value});
    const p = bufRange("dmpj_buf_set", buf, index, 1) orelse return failed();
    p[0] = b;
    return DMP_OK;
}

/// The i32 at byte `offset` (native byte order): reads a state or kind an out-parameter
/// cell received. 0 if out of range (see dmpj_last_error_message).
export fn dmpj_buf_i32(buf: ?*const anyopaque, offset: i64) callconv(.c) i32 {
    const p = bufRange("dmpj_buf_i32", buf, offset, 4) orelse return 0;
    return std.mem.readInt(i32, p[0..4], native_endian);
}

/// The i64 at byte `offset` (native byte order): reads a length or count a cell received.
/// 0 if out of range.
export fn dmpj_buf_i64(buf: ?*const anyopaque, offset: i64) callconv(.c) i64 {
    const p = bufRange("dmpj_buf_i64", buf, offset, 8) orelse return 0;
    return std.mem.readInt(i64, p[0..8], native_endian);
}

/// The pointer at byte `offset`: reads a handle a cell received. NULL if out of range.
export fn dmpj_buf_ptr(buf: ?*const anyopaque, offset: i64) callconv(.c) ?*anyopaque {
    const p = bufRange("dmpj_buf_ptr", buf, offset, @sizeOf(usize)) orelse return null;
    const v = std.mem.readInt(usize, p[0..@sizeOf(usize)], native_endian);
    return @ptrFromInt(v);
}

/// Copies `len` bytes from `src` to `dst` (the ranges may overlap). Any memory: use it to
/// copy a Janus string into a buffer, or a part of one buffer into another.
export fn dmpj_mem_copy(dst: ?*anyopaque, src: ?*const anyopaque, len: i64) callconv(.c) i32 {
    const n = size("dmpj_mem_copy", "len", len) orelse return failed();
    if (n == 0) return DMP_OK;
    const d = dst orelse return fail(DMP_ERR_NULL_POINTER, "dmpj_mem_copy: dst is NULL (DMP_ERR_NULL_POINTER)", .{});
    const s = src orelse return fail(DMP_ERR_NULL_POINTER, "dmpj_mem_copy: src is NULL (DMP_ERR_NULL_POINTER)", .{});
    const dp: [*]u8 = @ptrCast(d);
    const sp: [*]const u8 = @ptrCast(s);
    @memmove(dp[0..n], sp[0..n]);
    return DMP_OK;
}

/// Compares `len` bytes in constant time: 1 equal, 0 different, or a negative status.
export fn dmpj_mem_eq(a: ?*const anyopaque, b: ?*const anyopaque, len: i64) callconv(.c) i32 {
    const n = size("dmpj_mem_eq", "len", len) orelse return failed();
    if (n == 0) return 1;
    const ap: [*]const u8 = @ptrCast(a orelse return fail(DMP_ERR_NULL_POINTER, "dmpj_mem_eq: a is NULL (DMP_ERR_NULL_POINTER)", .{}));
    const bp: [*]const u8 = @ptrCast(b orelse return fail(DMP_ERR_NULL_POINTER, "dmpj_mem_eq: b is NULL (DMP_ERR_NULL_POINTER)", .{}));
    var diff: u8 = 0;
    for (ap[0..n], bp[0..n]) |x, y| diff |= x ^ y;
    return @intFromBool(@as(*const volatile u8, &diff).* == 0);
}

/// `p` + `offset` bytes (Janus has no pointer arithmetic): the address of a part of a buffer.
/// NULL if `p` is NULL or the result would wrap around.
export fn dmpj_ptr_add(p: ?*anyopaque, offset: i64) callconv(.c) ?*anyopaque {
    const base = @intFromPtr(p orelse return null);
    const r = if (offset >= 0)
        std.math.add(usize, base, @intCast(offset)) catch return null
    else
        std.math.sub(usize, base, std.math.cast(usize, @abs(offset)) orelse return null) catch return null;
    return @ptrFromInt(r);
}

/// The length of a NUL-terminated string (a Janus string literal), or DMP_ERR_NULL_POINTER.
export fn dmpj_cstr_len(s: ?[*:0]const u8) callconv(.c) i64 {
    const z = s orelse return fail(DMP_ERR_NULL_POINTER, "dmpj_cstr_len: s is NULL (DMP_ERR_NULL_POINTER)", .{});
    return @intCast(std.mem.len(z));
}

extern "c" var stdout: *std.c.FILE;

/// Writes `len` bytes and a newline to standard output (the C stream Janus's print uses, so
/// the order of lines is kept): prints a message or a fingerprint held in a buffer.
export fn dmpj_println(p: ?*const anyopaque, len: i64) callconv(.c) i32 {
    const n = size("dmpj_println", "len", len) orelse return failed();
    if (n > 0) {
        const bytes: [*]const u8 = @ptrCast(p orelse return fail(DMP_ERR_NULL_POINTER, "dmpj_println: p is NULL (DMP_ERR_NULL_POINTER)", .{}));
        _ = std.c.fwrite(bytes, 1, n, stdout);
    }
    _ = std.c.fwrite("\n", 1, 1, stdout);
    return DMP_OK;
}
