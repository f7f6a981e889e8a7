//! XChaCha20-Poly1305 seal+open from Zig: dmp_aead_seal/dmp_aead_open (libdmp.a, RustCrypto
//! inside) vs std.crypto.aead.chacha_poly.XChaCha20Poly1305, at 64 B, 1 KiB, 16 KiB and 1 MiB.
//!
//! Standalone (not part of build.zig); zig/bench/run.sh builds it with -O ReleaseFast, linking
//! ../target/release/libdmp.a with libc and libunwind, and runs it.
//!
//! Same work on both sides per call: a fresh 24-byte nonce from the OS (getrandom(2): DMP draws
//! its nonce inside the library the same way), seal, open, 2 bytes of associated data.
//! Each case: `runs` timed runs of enough calls for ~0.2 s each, the median per-call time.

const std = @import("std");
const XChaCha = std.crypto.aead.chacha_poly.XChaCha20Poly1305;

extern "c" fn dmp_aead_seal(key32: ?[*]const u8, ad: ?[*]const u8, ad_len: usize, pt: ?[*]const u8, pt_len: usize, out: ?[*]u8, out_cap: usize, out_len: ?*usize) i32;
extern "c" fn dmp_aead_open(key32: ?[*]const u8, ad: ?[*]const u8, ad_len: usize, in_: ?[*]const u8, in_len: usize, out: ?[*]u8, out_cap: usize, out_len: ?*usize) i32;

const Timespec = extern struct { sec: i64, nsec: i64 };
extern "c" fn clock_gettime(clock: c_int, ts: *Timespec) c_int;
extern "c" fn getrandom(buf: [*]u8, len: usize, flags: c_uint) isize;

const CLOCK_MONOTONIC: c_int = 1;
const overhead = 24 + 16;
const key: [32]u8 = @splat(7);
const ad = "ad";
const runs = 7;

fn now() u64 {
    var ts: Timespec = undefined;
    _ = clock_gettime(CLOCK_MONOTONIC, &ts);
    return @as(u64, @intCast(ts.sec)) * std.time.ns_per_s + @as(u64, @intCast(ts.nsec));
}

const Bufs = struct { pt: []u8, sealed: []u8, opened: []u8 };

fn dmpRound(b: Bufs) void {
    var n: usize = 0;
    if (dmp_aead_seal(&key, ad, ad.len, b.pt.ptr, b.pt.len, b.sealed.ptr, b.sealed.len, &n) != 0) @panic("seal");
    if (dmp_aead_open(&key, ad, ad.len, b.sealed.ptr, n, b.opened.ptr, b.opened.len, &n) != 0) @panic("open");
    std.mem.doNotOptimizeAway(b.opened[0]);
}

fn zigRound(b: Bufs) void {
    var nonce: [24]u8 = undefined;
    if (getrandom(&nonce, nonce.len, 0) != nonce.len) @panic("getrandom");
    const m = b.pt.len;
    var tag: [16]u8 = undefined;
    XChaCha.encrypt(b.sealed[24 .. 24 + m], &tag, b.pt, ad, nonce, key);
    XChaCha.decrypt(b.opened[0..m], b.sealed[24 .. 24 + m], tag, ad, nonce, key) catch @panic("open");
    std.mem.doNotOptimizeAway(b.opened[0]);
}

/// Median per-call nanoseconds of `f` over `runs` runs of ~0.2 s.
fn measure(comptime f: fn (Bufs) void, b: Bufs) f64 {
    var calls: u64 = 1;
    while (true) : (calls *= 2) { // calibrate
        const t0 = now();
        for (0..calls) |_| f(b);
        if (now() - t0 >= 50 * std.time.ns_per_ms) break;
    }
    calls *= 4;
    var per_call: [runs]f64 = undefined;
    for (&per_call) |*p| {
        const t0 = now();
        for (0..calls) |_| f(b);
        p.* = @as(f64, @floatFromInt(now() - t0)) / @as(f64, @floatFromInt(calls));
    }
    std.mem.sort(f64, &per_call, {}, std.sort.asc(f64));
    return per_call[runs / 2];
}

pub fn main() void {
    const gpa = std.heap.c_allocator;
    const sizes = [_]usize{ 64, 1024, 16 * 1024, 1 << 20 };
    std.debug.print("zig std.crypto XChaCha20Poly1305 vs dmp_aead_seal/open (libdmp.a); medians of {d} runs\n", .{runs});
    std.debug.print("{s:>8}  {s:>10}  {s:>10}  {s:>13}\n", .{ "size", "dmp us", "zig us", "ratio dmp/zig" });
    for (sizes) |size| {
        const b = Bufs{
            .pt = gpa.alloc(u8, size) catch @panic("oom"),
            .sealed = gpa.alloc(u8, size + overhead) catch @panic("oom"),
            .opened = gpa.alloc(u8, size) catch @panic("oom"),
        };
        defer {
            gpa.free(b.pt);
            gpa.free(b.sealed);
            gpa.free(b.opened);
        }
        @memset(b.pt, 0x42);
        // Interoperability first: Zig opens what DMP sealed.
        var n: usize = 0;
        if (dmp_aead_seal(&key, ad, ad.len, b.pt.ptr, size, b.sealed.ptr, b.sealed.len, &n) != 0) @panic("seal");
        XChaCha.decrypt(b.opened, b.sealed[24 .. 24 + size], b.sealed[24 + size ..][0..16].*, ad, b.sealed[0..24].*, key) catch @panic("interop");
        if (!std.mem.eql(u8, b.opened, b.pt)) @panic("interop mismatch");

        const d = measure(dmpRound, b) / 1000.0;
        const z = measure(zigRound, b) / 1000.0;
        var label_buf: [16]u8 = undefined;
        const label = if (size >= 1 << 20)
            std.fmt.bufPrint(&label_buf, "{d} MiB", .{size >> 20}) catch unreachable
        else if (size >= 1024)
            std.fmt.bufPrint(&label_buf, "{d} KiB", .{size >> 10}) catch unreachable
        else
            std.fmt.bufPrint(&label_buf, "{d} B", .{size}) catch unreachable;
        std.debug.print("{s:>8}  {d:>10.2}  {d:>10.2}  {d:>13.2}\n", .{ label, d, z, d / z });
    }
}
