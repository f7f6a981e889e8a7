//! The library against Zig's own standard-library cryptography: the same bytes both ways.

const std = @import("std");
const dmp = @import("dmp");
const common = @import("common.zig");
const testing = std.testing;

const XChaCha = std.crypto.aead.chacha_poly.XChaCha20Poly1305;
const sizes_to_try = [_]usize{ 0, 1, 15, 16, 63, 64, 65, 1000, 4096, 65_537 };

test "interop: Zig's XChaCha20Poly1305 opens dmp_aead_seal output (nonce first, tag last)" {
    const key = try common.randomKey();
    const ad = "associated data";
    const pt_buf = try testing.allocator.alloc(u8, 70_000);
    defer testing.allocator.free(pt_buf);
    try dmp.randomBytes(pt_buf);
    const sealed_buf = try testing.allocator.alloc(u8, 70_000 + dmp.aead_overhead);
    defer testing.allocator.free(sealed_buf);
    const opened = try testing.allocator.alloc(u8, 70_000);
    defer testing.allocator.free(opened);

    for (sizes_to_try) |n| {
        const pt = pt_buf[0..n];
        const sealed = try dmp.aead.seal(&key, ad, pt, sealed_buf);
        try testing.expectEqual(n + dmp.aead_overhead, sealed.len);
        const nonce = sealed[0..XChaCha.nonce_length].*;
        const tag = sealed[sealed.len - XChaCha.tag_length ..][0..XChaCha.tag_length].*;
        const ct = sealed[XChaCha.nonce_length .. sealed.len - XChaCha.tag_length];
        try XChaCha.decrypt(opened[0..n], ct, tag, ad, nonce, key);
        try testing.expectEqualSlices(u8, pt, opened[0..n]);

        // And Zig refuses a tampered one too.
        if (n > 0) {
            sealed_buf[XChaCha.nonce_length] ^= 1;
            try testing.expectError(error.AuthenticationFailed, XChaCha.decrypt(opened[0..n], ct, tag, ad, nonce, key));
        }
    }
}

test "interop: dmp_aead_open opens Zig-sealed output" {
    const key = try common.randomKey();
    const ad = "ad";
    const pt_buf = try testing.allocator.alloc(u8, 70_000);
    defer testing.allocator.free(pt_buf);
    try dmp.randomBytes(pt_buf);
    const sealed = try testing.allocator.alloc(u8, 70_000 + dmp.aead_overhead);
    defer testing.allocator.free(sealed);
    const opened = try testing.allocator.alloc(u8, 70_000);
    defer testing.allocator.free(opened);

    for (sizes_to_try) |n| {
        var nonce: [XChaCha.nonce_length]u8 = undefined;
        try dmp.randomBytes(&nonce);
        const total = n + dmp.aead_overhead;
        @memcpy(sealed[0..XChaCha.nonce_length], &nonce);
        var tag: [XChaCha.tag_length]u8 = undefined;
        XChaCha.encrypt(sealed[XChaCha.nonce_length..][0..n], &tag, pt_buf[0..n], ad, nonce, key);
        @memcpy(sealed[total - XChaCha.tag_length .. total], &tag);

        const got = try dmp.aead.open(&key, ad, sealed[0..total], opened);
        try testing.expectEqualSlices(u8, pt_buf[0..n], got);
        try testing.expectError(error.AuthFailed, dmp.aead.open(&key, "other ad", sealed[0..total], opened));
    }
}

test "interop: X25519 agrees with std.crypto.dh.X25519" {
    const X = std.crypto.dh.X25519;
    for (0..8) |_| {
        const ours = try dmp.x25519.keyPair();
        try testing.expectEqualSlices(u8, &ours.public, &X.recoverPublicKey(ours.secret));
        var their_secret: [32]u8 = undefined;
        try dmp.randomBytes(&their_secret);
        const their_public = X.recoverPublicKey(their_secret);
        const shared_dmp = try dmp.x25519.dh(&ours.secret, &their_public);
        const shared_zig = try X.scalarmult(their_secret, ours.public);
        try testing.expectEqualSlices(u8, &shared_zig, &shared_dmp);
    }
}

test "interop: Ed25519 signatures are the same as std.crypto.sign.Ed25519's, and cross-verify" {
    const E = std.crypto.sign.Ed25519;
    for (0..8) |i| {
        const kp = try dmp.ed25519.keyPair();
        const zkp = try E.KeyPair.generateDeterministic(kp.seed);
        try testing.expectEqualSlices(u8, &kp.public, &zkp.public_key.toBytes());
        var msg: [100]u8 = undefined;
        try dmp.randomBytes(msg[0 .. i * 10]);
        const m = msg[0 .. i * 10];
        const sig = try dmp.ed25519.sign(&kp.seed, m);
        const zsig = try zkp.sign(m, null);
        try testing.expectEqualSlices(u8, &zsig.toBytes(), &sig);
        try E.Signature.fromBytes(sig).verifyStrict(m, zkp.public_key);
        const zbytes = zsig.toBytes();
        try dmp.ed25519.verify(&kp.public, m, &zbytes);
    }
}

test "interop: HKDF-SHA256 agrees with std.crypto.kdf.hkdf.HkdfSha256" {
    const H = std.crypto.kdf.hkdf.HkdfSha256;
    var ikm: [40]u8 = undefined;
    var salt: [20]u8 = undefined;
    var info: [30]u8 = undefined;
    try dmp.randomBytes(&ikm);
    try dmp.randomBytes(&salt);
    try dmp.randomBytes(&info);
    for ([_]usize{ 1, 16, 32, 33, 64, 100, 255 * 32 }) |n| {
        var ours: [255 * 32]u8 = undefined;
        var theirs: [255 * 32]u8 = undefined;
        try dmp.hkdfSha256(&salt, &ikm, &info, ours[0..n]);
        H.expand(theirs[0..n], &info, H.extract(&salt, &ikm));
        try testing.expectEqualSlices(u8, theirs[0..n], ours[0..n]);
    }
}

test "interop: a keyed tag from hkdfSha256 is HMAC-SHA256(HMAC-SHA256(key, data), label || 1)" {
    const Hmac = std.crypto.auth.hmac.sha2.HmacSha256;
    const key = try common.randomKey();
    const data = "a record that stays in clear";
    const label = "dmp example tag v1";
    var tag: [32]u8 = undefined;
    try dmp.hkdfSha256(&key, data, label, &tag);

    var prk: [32]u8 = undefined;
    Hmac.create(&prk, data, &key);
    var want: [32]u8 = undefined;
    var h = Hmac.init(&prk);
    h.update(label);
    h.update(&[_]u8{1});
    h.final(&want);
    try testing.expect(std.crypto.timing_safe.eql([32]u8, want, tag));

    // Another key or other data: another tag.
    var other: [32]u8 = undefined;
    try dmp.hkdfSha256(&key, data ++ "!", label, &other);
    try testing.expect(!std.crypto.timing_safe.eql([32]u8, other, tag));
}
