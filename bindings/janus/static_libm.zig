//! The one libm function libdmp.a needs, for the optional static build.
//!
//! `janus build` links with a plain `cc` and no `-lm`, and the SQLite that libdmp embeds
//! references `log` (FTS5's bm25 ranking, which DMP never calls). The static object therefore
//! carries its own natural logarithm, made local to the object by build_static.sh so that it
//! can never replace the program's. Only + - * / on doubles: no call that could reach libm.

const std = @import("std");

/// ln(x) for every double: NaN for NaN and x < 0, -inf for +-0, +inf for +inf. Accurate to
/// about an ulp: x = 2^k * m with m in [sqrt(1/2), sqrt(2)), ln(m) = 2 atanh(s) with
/// s = (m - 1) / (m + 1), |s| < 0.1716, summed until the terms vanish.
pub fn ln(x: f64) f64 {
    if (std.math.isNan(x)) return x;
    if (x < 0) return std.math.nan(f64);
    if (x == 0) return -std.math.inf(f64);
    if (std.math.isInf(x)) return x;
    var bits: u64 = @bitCast(x);
    var k: i64 = 0;
    if (bits >> 52 == 0) { // subnormal: scale into the normal range first
        bits = @bitCast(x * 0x1p54);
        k = -54;
    }
    k += @as(i64, @intCast(bits >> 52)) - 1023;
    var m: f64 = @bitCast((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    if (m > std.math.sqrt2) {
        m /= 2;
        k += 1;
    }
    const s = (m - 1) / (m + 1);
    const s2 = s * s;
    var term = s;
    var sum = s;
    var n: f64 = 1;
    var i: usize = 0;
    while (i < 30) : (i += 1) {
        term *= s2;
        n += 2;
        const next = sum + term / n;
        if (next == sum) break;
        sum = next;
    }
    const kf: f64 = @floatFromInt(k);
    // ln2 split in two so that k * ln2 stays exact to the last bits.
    const ln2_hi = 6.93147180369123816490e-01;
    const ln2_lo = 1.90821492927058770002e-10;
    return (kf * ln2_hi) + (2 * sum + kf * ln2_lo);
}
