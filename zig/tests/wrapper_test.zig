//! Unit tests of the wrapper, family by family, success and error paths.

const std = @import("std");
const dmp = @import("dmp");
const common = @import("common.zig");
const c = dmp.c;
const testing = std.testing;

const expect = testing.expect;
const expectEqual = testing.expectEqual;
const expectError = testing.expectError;
const expectEqualSlices = testing.expectEqualSlices;
const expectEqualStrings = testing.expectEqualStrings;

fn contains(haystack: []const u8, needle: []const u8) bool {
    return std.mem.find(u8, haystack, needle) != null;
}

// ---- status ----------------------------------------------------------------------------------

test "status: strerror and last error message" {
    try expect(dmp.strerror(c.DMP_OK).len > 0);
    try expect(dmp.strerror(c.DMP_ERR_AUTH_FAILED).len > 0);
    try expect(dmp.strerror(-12345).len > 0); // unknown codes too
    var out: [8]u8 = undefined;
    try expectError(error.BufferTooSmall, dmp.aead.seal(&(try common.randomKey()), "", "0123456789", &out));
    const detail = dmp.lastErrorMessage();
    try expect(contains(detail, "dmp_aead_seal"));
    try expect(contains(detail, "DMP_ERR_BUFFER_TOO_SMALL"));
}

// ---- raw: AEAD -------------------------------------------------------------------------------

test "aead: seal and open round trip, empty plaintext and empty ad" {
    const key = try common.randomKey();
    var sealed_buf: [256]u8 = undefined;
    var pt_buf: [256]u8 = undefined;
    const sealed = try dmp.aead.seal(&key, "ad", "attack at dawn", &sealed_buf);
    try expectEqual(dmp.aead.sealedLen(14), sealed.len);
    try expectEqualStrings("attack at dawn", try dmp.aead.open(&key, "ad", sealed, &pt_buf));

    const empty = try dmp.aead.seal(&key, "", "", &sealed_buf);
    try expectEqual(@as(usize, dmp.aead_overhead), empty.len);
    try expectEqual(@as(usize, 0), (try dmp.aead.open(&key, "", empty, &pt_buf)).len);

    // A fresh nonce each time: two seals of the same input differ.
    var other_buf: [256]u8 = undefined;
    const again = try dmp.aead.seal(&key, "ad", "attack at dawn", &other_buf);
    try expect(!std.mem.eql(u8, sealed, again));
}

test "aead: tampered, truncated, wrong key, wrong ad are AuthFailed; out is zeroed" {
    const key = try common.randomKey();
    var sealed_buf: [128]u8 = undefined;
    const sealed = try dmp.aead.seal(&key, "ad", "secret message", &sealed_buf);
    var pt_buf: [128]u8 = undefined;

    // Every single-bit flip, in nonce, ciphertext and tag, is refused.
    for (0..sealed.len) |i| {
        var copy: [128]u8 = undefined;
        @memcpy(copy[0..sealed.len], sealed);
        copy[i] ^= 0x01;
        @memset(&pt_buf, 0xAA);
        try expectError(error.AuthFailed, dmp.aead.open(&key, "ad", copy[0..sealed.len], &pt_buf));
        for (pt_buf[0 .. sealed.len - dmp.aead_overhead]) |b| try expectEqual(@as(u8, 0), b);
    }
    // Truncated: below the overhead, and one byte short.
    try expectError(error.AuthFailed, dmp.aead.open(&key, "ad", sealed[0..10], &pt_buf));
    try expectError(error.AuthFailed, dmp.aead.open(&key, "ad", sealed[0 .. sealed.len - 1], &pt_buf));
    // Empty input (NULL with length 0 at the ABI).
    try expectError(error.AuthFailed, dmp.aead.open(&key, "ad", "", &pt_buf));
    // Wrong key, wrong ad.
    const other = try common.randomKey();
    try expectError(error.AuthFailed, dmp.aead.open(&other, "ad", sealed, &pt_buf));
    try expectError(error.AuthFailed, dmp.aead.open(&key, "AD", sealed, &pt_buf));
    try expectError(error.AuthFailed, dmp.aead.open(&key, "", sealed, &pt_buf));
}

test "aead: too-small buffers report BufferTooSmall with the size needed" {
    const key = try common.randomKey();
    var small: [20]u8 = undefined;
    try expectError(error.BufferTooSmall, dmp.aead.seal(&key, "", "twelve bytes", &small));
    try expectError(error.BufferTooSmall, dmp.aead.seal(&key, "", "x", &.{}));

    // The raw size query: NULL out, capacity 0.
    var needed: usize = 0;
    try expectEqual(@as(i32, c.DMP_ERR_BUFFER_TOO_SMALL), c.dmp_aead_seal(&key, null, 0, "twelve bytes", 12, null, 0, &needed));
    try expectEqual(@as(usize, 12 + dmp.aead_overhead), needed);

    var sealed_buf: [64]u8 = undefined;
    const sealed = try dmp.aead.seal(&key, "", "twelve bytes", &sealed_buf);
    var pt_small: [11]u8 = undefined;
    try expectError(error.BufferTooSmall, dmp.aead.open(&key, "", sealed, &pt_small));
    try expectEqual(@as(i32, c.DMP_ERR_BUFFER_TOO_SMALL), c.dmp_aead_open(&key, null, 0, sealed.ptr, sealed.len, null, 0, &needed));
    try expectEqual(@as(usize, 12), needed);
}

test "aead: NULL pointers at the raw ABI are NullPointer" {
    const key = try common.randomKey();
    var out: [64]u8 = undefined;
    var n: usize = 0;
    try expectError(error.NullPointer, dmp.check(c.dmp_aead_seal(null, null, 0, null, 0, &out, out.len, &n)));
    try expectError(error.NullPointer, dmp.check(c.dmp_aead_seal(&key, null, 3, null, 0, &out, out.len, &n)));
    try expectError(error.NullPointer, dmp.check(c.dmp_aead_seal(&key, null, 0, null, 5, &out, out.len, &n)));
    try expectError(error.NullPointer, dmp.check(c.dmp_aead_seal(&key, null, 0, null, 0, &out, out.len, null)));
    try expectError(error.NullPointer, dmp.check(c.dmp_aead_open(&key, null, 0, null, 41, &out, out.len, &n)));
    try expectError(error.NullPointer, dmp.check(c.dmp_random_bytes(null, 1)));
    try expectError(error.NullPointer, dmp.check(c.dmp_memzero(null, 1)));
    try expectError(error.NullPointer, dmp.check(c.dmp_x25519(null, &key, &out)));
    try expectError(error.NullPointer, dmp.check(c.dmp_identity_generate(null)));
    try expectError(error.NullPointer, dmp.check(c.dmp_session_state(null, null)));
    try expectError(error.NullPointer, dmp.check(c.dmp_group_rotate(null)));
    // NULL with length 0 is fine.
    try dmp.check(c.dmp_random_bytes(null, 0));
    try dmp.check(c.dmp_memzero(null, 0));
    // Freeing NULL is fine.
    c.dmp_identity_free(null);
    c.dmp_session_free(null);
    c.dmp_group_free(null);
}

// ---- raw: random, memzero --------------------------------------------------------------------

test "random and memzero" {
    var a: [32]u8 = @splat(0);
    var b: [32]u8 = @splat(0);
    try dmp.randomBytes(&a);
    try dmp.randomBytes(&b);
    try expect(!std.mem.eql(u8, &a, &b));
    try dmp.randomBytes(&.{});
    try dmp.memzero(&a);
    try expectEqualSlices(u8, &@as([32]u8, @splat(0)), &a);
    try dmp.memzero(&.{});
}

// ---- raw: X25519 -----------------------------------------------------------------------------

test "x25519: key pairs agree; small-order keys are WeakKey" {
    const alice = try dmp.x25519.keyPair();
    const bob = try dmp.x25519.keyPair();
    try expectEqualSlices(u8, &alice.public, &(try dmp.x25519.publicKey(&alice.secret)));
    const s1 = try dmp.x25519.dh(&alice.secret, &bob.public);
    const s2 = try dmp.x25519.dh(&bob.secret, &alice.public);
    try expectEqualSlices(u8, &s1, &s2);

    const zero: dmp.PublicKey = @splat(0);
    var one: dmp.PublicKey = @splat(0);
    one[0] = 1;
    try expectError(error.WeakKey, dmp.x25519.dh(&alice.secret, &zero));
    try expectError(error.WeakKey, dmp.x25519.dh(&alice.secret, &one));
}

// ---- raw: Ed25519 ----------------------------------------------------------------------------

test "ed25519: sign and verify; tampered message, signature or key is BadSignature" {
    const kp = try dmp.ed25519.keyPair();
    try expectEqualSlices(u8, &kp.public, &(try dmp.ed25519.publicKey(&kp.seed)));
    const sig = try dmp.ed25519.sign(&kp.seed, "the message");
    try dmp.ed25519.verify(&kp.public, "the message", &sig);
    // Deterministic (RFC 8032).
    try expectEqualSlices(u8, &sig, &(try dmp.ed25519.sign(&kp.seed, "the message")));

    try expectError(error.BadSignature, dmp.ed25519.verify(&kp.public, "the messagE", &sig));
    try expectError(error.BadSignature, dmp.ed25519.verify(&kp.public, "", &sig));
    var bad_sig = sig;
    bad_sig[5] ^= 0x10;
    try expectError(error.BadSignature, dmp.ed25519.verify(&kp.public, "the message", &bad_sig));
    // Non-canonical S (S + L): refused by strict verification.
    var big_s = sig;
    big_s[63] |= 0xF0;
    try expectError(error.BadSignature, dmp.ed25519.verify(&kp.public, "the message", &big_s));
    const other = try dmp.ed25519.keyPair();
    try expectError(error.BadSignature, dmp.ed25519.verify(&other.public, "the message", &sig));
    // Small-order public key (the identity point).
    var identity_point: dmp.PublicKey = @splat(0);
    identity_point[0] = 1;
    try expectError(error.BadSignature, dmp.ed25519.verify(&identity_point, "the message", &sig));

    // Empty messages sign and verify.
    const esig = try dmp.ed25519.sign(&kp.seed, "");
    try dmp.ed25519.verify(&kp.public, "", &esig);
    // Messages beginning with "DMP" are the protocol's own (a bundle's signature): refused.
    try expectError(error.InvalidArgument, dmp.ed25519.sign(&kp.seed, "DMP1 prekey bundle"));
    try expectError(error.InvalidArgument, dmp.ed25519.sign(&kp.seed, "DMP"));
}

// ---- raw: HKDF -------------------------------------------------------------------------------

test "hkdf: RFC 5869 test case 1, limits" {
    const ikm: [22]u8 = @splat(0x0b);
    const salt = [_]u8{ 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c };
    const info = [_]u8{ 0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9 };
    var okm: [42]u8 = undefined;
    try dmp.hkdfSha256(&salt, &ikm, &info, &okm);
    var want: [42]u8 = undefined;
    _ = try std.fmt.hexToBytes(&want, "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
    try expectEqualSlices(u8, &want, &okm);

    // Empty everything is allowed; an empty salt is a zero salt (RFC 5869 test case 3).
    try dmp.hkdfSha256("", "", "", &.{});
    var okm3: [42]u8 = undefined;
    try dmp.hkdfSha256("", &ikm, "", &okm3);
    _ = try std.fmt.hexToBytes(&want, "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
    try expectEqualSlices(u8, &want, &okm3);

    var max: [dmp.hkdf_max_len]u8 = undefined;
    try dmp.hkdfSha256("s", "k", "i", &max);
    var too_long: [dmp.hkdf_max_len + 1]u8 = undefined;
    try expectError(error.TooLarge, dmp.hkdfSha256("s", "k", "i", &too_long));
}

// ---- identity --------------------------------------------------------------------------------

test "identity: generate, seed determinism, suites, fingerprint, sign" {
    var id = try dmp.Identity.generate();
    defer id.deinit();
    try expectEqual(dmp.Suite.hybrid, try id.suite());

    const seed: [32]u8 = @splat(7);
    var s1 = try dmp.Identity.fromSeed(&seed);
    defer s1.deinit();
    var s2 = try dmp.Identity.fromSeed(&seed);
    defer s2.deinit();
    try expectEqualSlices(u8, &(try s1.publicKey()), &(try s2.publicKey()));
    try expectEqual(dmp.Suite.hybrid, try s1.suite());

    var cl = try dmp.Identity.fromSeedWith(&seed, .classical);
    defer cl.deinit();
    try expectEqual(dmp.Suite.classical, try cl.suite());
    var cl2 = try dmp.Identity.generateWith(.classical);
    defer cl2.deinit();
    try expectEqual(dmp.Suite.classical, try cl2.suite());

    try expectError(error.InvalidArgument, dmp.Identity.generateWith(@fromBackingInt(@as(i32, 7))));
    try expectError(error.InvalidArgument, dmp.Identity.fromSeedWith(&seed, @fromBackingInt(@as(i32, 0))));

    // Fingerprint: 39 ASCII bytes "xxxx xxxx ...", same as of the agent id.
    const fp = try id.fingerprint();
    try expectEqualSlices(u8, &fp, &(try dmp.fingerprint(&(try id.publicKey()))));
    for (fp, 0..) |ch, i| {
        if (i % 5 == 4) try expectEqual(@as(u8, ' '), ch) else try expect(std.ascii.isHex(ch));
    }
    const zero: dmp.AgentId = @splat(0);
    if (dmp.fingerprint(&zero)) |_| return error.TestUnexpectedResult else |err| try expect(err == error.WeakKey or err == error.BadEnvelope);

    // Signatures verify under the agent id.
    const sig = try id.sign("statement");
    try dmp.ed25519.verify(&(try id.publicKey()), "statement", &sig);
    try expectError(error.BadSignature, dmp.ed25519.verify(&(try s1.publicKey()), "statement", &sig));
    // Messages beginning with "DMP" are the protocol's own (a bundle's signature): refused.
    try expectError(error.InvalidArgument, id.sign("DMP1 prekey bundle"));
    try expectError(error.InvalidArgument, id.sign("DMP"));
}

test "identity: bundles, sizes, verification, one-time prekeys" {
    var id = try dmp.Identity.generate();
    defer id.deinit();
    var cl = try dmp.Identity.generateWith(.classical);
    defer cl.deinit();

    try expectEqual(@as(usize, c.DMP_HYBRID_BUNDLE_LEN), try id.bundleLen(false));
    try expectEqual(@as(usize, c.DMP_BUNDLE_MAX_LEN), try id.bundleLen(true));
    try expectEqual(@as(usize, c.DMP_BUNDLE_LEN), try cl.bundleLen(false));
    try expectEqual(@as(usize, c.DMP_BUNDLE_LEN + 36), try cl.bundleLen(true));
    // Size queries hand no one-time prekey out.
    try expectEqual(@as(u32, 0), try id.oneTimePrekeyCount());

    var buf: [dmp.bundle_max_len]u8 = undefined;
    const plain = try id.bundle(false, &buf);
    try expectEqual(@as(usize, c.DMP_HYBRID_BUNDLE_LEN), plain.len);
    try expectEqualSlices(u8, &(try id.publicKey()), &(try dmp.verifyBundle(plain)));

    // Too small: refused, and no one-time prekey is marked.
    var small: [100]u8 = undefined;
    try expectError(error.BufferTooSmall, id.bundle(true, &small));
    try expectEqual(@as(u32, 0), try id.oneTimePrekeyCount());
    const with_otk = try id.bundle(true, &buf);
    try expectEqual(@as(usize, c.DMP_BUNDLE_MAX_LEN), with_otk.len);
    try expectEqual(@as(u32, 1), try id.oneTimePrekeyCount());

    // Bad bundles.
    try expectError(error.BadEnvelope, dmp.verifyBundle(""));
    try expectError(error.BadEnvelope, dmp.verifyBundle(with_otk[0..50]));
    var tampered: [dmp.bundle_max_len]u8 = undefined;
    @memcpy(&tampered, with_otk);
    tampered[with_otk.len - 1] ^= 0x01; // inside the one-time prekey or signature region
    if (dmp.verifyBundle(&tampered)) |_| return error.TestUnexpectedResult else |err| try expect(err == error.BadSignature or err == error.BadEnvelope or err == error.WeakKey);
    var bad_flag: [8]u8 = undefined;
    var n: usize = 0;
    try expectError(error.InvalidArgument, dmp.check(c.dmp_identity_bundle(id.handle, 2, &bad_flag, bad_flag.len, &n)));

    // One-time prekeys: generated, counted, capped.
    try id.generateOneTimePrekeys(5);
    try expectEqual(@as(u32, 6), try id.oneTimePrekeyCount());
    try expectError(error.TooLarge, id.generateOneTimePrekeys(c.DMP_MAX_ONE_TIME_PREKEYS));
    try expectEqual(@as(u32, 6), try id.oneTimePrekeyCount());
    try id.generateOneTimePrekeys(0);
    try expectEqual(@as(u32, 6), try id.oneTimePrekeyCount());
}

test "identity: signed prekey rotation" {
    var id = try dmp.Identity.generate();
    defer id.deinit();
    const first = try id.signedPrekeyId();
    const second = try id.rotateSignedPrekey();
    try expect(second != first);
    try expectEqual(second, try id.signedPrekeyId());
    const third = try id.rotateSignedPrekey();
    try expect(third != second);

    // A bundle made before a rotation still starts sessions (the replaced prekey is kept until
    // the next rotation); one made two rotations ago no longer does.
    var alice = try dmp.Identity.generate();
    defer alice.deinit();
    var bob = try dmp.Identity.generate();
    defer bob.deinit();
    var old_buf: [dmp.bundle_max_len]u8 = undefined;
    const old = try bob.bundle(false, &old_buf);
    _ = try bob.rotateSignedPrekey();
    var s = try dmp.Session.initiate(&alice, old);
    defer s.deinit();
    var env: [4096]u8 = undefined;
    var pt: [64]u8 = undefined;
    const first_msg = try s.encrypt("after one rotation", &env);
    var acc = try dmp.Session.accept(&bob, first_msg, &pt);
    acc.session.deinit();

    _ = try bob.rotateSignedPrekey();
    var s2 = try dmp.Session.initiate(&alice, old);
    defer s2.deinit();
    const stale = try s2.encrypt("after two rotations", &env);
    try expectError(error.UnknownPrekey, dmp.Session.accept(&bob, stale, &pt));
}

test "identity: serialize and deserialize; wrong key, garbage, too small" {
    var id = try dmp.Identity.generate();
    defer id.deinit();
    try id.generateOneTimePrekeys(3);
    const key = try common.randomKey();

    const len = try id.serializedLen(&key);
    const record = try testing.allocator.alloc(u8, len);
    defer testing.allocator.free(record);
    try expectEqual(len, (try id.serialize(&key, record)).len);

    var restored = try dmp.Identity.deserialize(record, &key);
    defer restored.deinit();
    try expectEqualSlices(u8, &(try id.publicKey()), &(try restored.publicKey()));
    try expectEqual(try id.signedPrekeyId(), try restored.signedPrekeyId());
    try expectEqual(@as(u32, 3), try restored.oneTimePrekeyCount());

    const alloc_record = try id.serializeAlloc(testing.allocator, &key);
    defer testing.allocator.free(alloc_record);
    try expectEqual(len, alloc_record.len);

    const wrong = try common.randomKey();
    try expectError(error.WrongStorageKey, dmp.Identity.deserialize(record, &wrong));
    record[record.len / 2] ^= 1;
    try expectError(error.WrongStorageKey, dmp.Identity.deserialize(record, &key));
    if (dmp.Identity.deserialize("", &key)) |_| return error.TestUnexpectedResult else |err| try expect(err == error.BadState or err == error.WrongStorageKey or err == error.BadEnvelope);
    if (dmp.Identity.deserialize("garbage garbage garbage garbage garbage garbage", &key)) |_| return error.TestUnexpectedResult else |err| try expect(err == error.BadState or err == error.WrongStorageKey or err == error.UnsupportedVersion or err == error.BadEnvelope);

    var small: [16]u8 = undefined;
    try expectError(error.BufferTooSmall, id.serialize(&key, &small));
    try expectError(error.BufferTooSmall, id.serialize(&key, &.{}));
}

// ---- session ---------------------------------------------------------------------------------

test "session: lifecycle DORMANT -> INITIATING -> ACTIVE -> CLOSED" {
    var alice = try dmp.Identity.generate();
    defer alice.deinit();
    var bob = try dmp.Identity.generate();
    defer bob.deinit();
    var bundle_buf: [dmp.bundle_max_len]u8 = undefined;
    const bundle = try bob.bundle(true, &bundle_buf);

    var a = try dmp.Session.initiate(&alice, bundle);
    defer a.deinit();
    try expectEqual(dmp.SessionState.dormant, try a.state());
    try expectEqualSlices(u8, &(try bob.publicKey()), &(try a.peerId()));

    var env_buf: [4096]u8 = undefined;
    var pt_buf: [4096]u8 = undefined;
    // DORMANT cannot decrypt.
    try expectError(error.WrongState, a.decrypt("anything at all", &pt_buf));

    const want_len = try a.encryptedLen(5);
    const first = try a.encrypt("hello", &env_buf);
    try expectEqual(want_len, first.len);
    // A hybrid first message: its header, then ciphertext (framing byte + plaintext) and tag; no
    // nonce is sent. The session id follows version and type.
    try expectEqual(@as(usize, c.DMP_HYBRID_PREKEY_MESSAGE_HEADER_LEN + dmp.tag_len + 1 + 5), first.len);
    try expectEqualSlices(u8, &(try a.id()), first[2..][0..dmp.session_id_len]);
    try expectEqual(dmp.SessionState.initiating, try a.state());

    const acc = try dmp.Session.accept(&bob, first, &pt_buf);
    var b = acc.session;
    defer b.deinit();
    try expectEqualStrings("hello", acc.plaintext);
    try expectEqual(dmp.SessionState.active, try b.state());
    try expectEqualSlices(u8, &(try alice.publicKey()), &(try b.peerId()));
    try expectEqualSlices(u8, &(try a.id()), &(try b.id()));

    // INITIATING may keep sending before any reply.
    const second = try a.encrypt("still there?", &env_buf);
    try expectEqualStrings("still there?", try b.decrypt(second, &pt_buf));
    try expectEqual(dmp.SessionState.initiating, try a.state());

    const reply = try b.encrypt("yes", &env_buf);
    try expectEqual(@as(usize, c.DMP_MESSAGE_HEADER_LEN + dmp.tag_len + 1 + 3), reply.len); // 61 + 3
    try expectEqualSlices(u8, &(try b.id()), reply[2..][0..dmp.session_id_len]);
    try expectEqualStrings("yes", try a.decrypt(reply, &pt_buf));
    try expectEqual(dmp.SessionState.active, try a.state());

    try a.close();
    try expectEqual(dmp.SessionState.closed, try a.state());
    try expectError(error.WrongState, a.encrypt("x", &env_buf));
    try expectError(error.WrongState, a.encryptedLen(1));
    const late = try b.encrypt("late", &env_buf);
    try expectError(error.WrongState, a.decrypt(late, &pt_buf));
    try expectError(error.WrongState, a.setPadding(.buckets));
    try expectError(error.WrongState, a.setLimits(10, 10));
    try expectError(error.WrongState, a.serialize(&(try common.randomKey()), &env_buf));
    try expectError(error.WrongState, a.close());
    // These still work when closed.
    _ = try a.peerId();
    _ = try a.id();
}

test "session: replayed, tampered, truncated, reordered and foreign envelopes; nothing changes" {
    var p = try common.Pair.init();
    defer p.deinit();
    var env_buf: [4096]u8 = undefined;
    var pt_buf: [4096]u8 = undefined;

    const m1 = try p.a.encrypt("one", &env_buf);
    var m1_copy: [4096]u8 = undefined;
    @memcpy(m1_copy[0..m1.len], m1);
    const env1 = m1_copy[0..m1.len];
    try expectEqualStrings("one", try p.b.decrypt(env1, &pt_buf));
    // Replay.
    try expectError(error.Duplicate, p.b.decrypt(env1, &pt_buf));

    const m2 = try p.a.encrypt("two", &env_buf);
    // Every single-byte corruption of the envelope is refused, each with an error.
    for (0..m2.len) |i| {
        var t: [4096]u8 = undefined;
        @memcpy(t[0..m2.len], m2);
        t[i] ^= 0x80;
        if (p.b.decrypt(t[0..m2.len], &pt_buf)) |_| {
            std.debug.print("byte {d} flipped was accepted\n", .{i});
            return error.TestUnexpectedResult;
        } else |_| {}
    }
    // The last bytes are the AEAD tag: AuthFailed precisely.
    {
        var t: [4096]u8 = undefined;
        @memcpy(t[0..m2.len], m2);
        t[m2.len - 1] ^= 1;
        try expectError(error.AuthFailed, p.b.decrypt(t[0..m2.len], &pt_buf));
    }
    // Truncated.
    try expectError(error.BadEnvelope, p.b.decrypt(m2[0..10], &pt_buf));
    if (p.b.decrypt(m2[0 .. m2.len - 1], &pt_buf)) |_| return error.TestUnexpectedResult else |err| try expect(err == error.AuthFailed or err == error.BadEnvelope);
    // Empty (NULL, 0).
    try expectError(error.BadEnvelope, p.b.decrypt("", &pt_buf));
    // After every refusal the session is unchanged: the genuine envelope decrypts.
    try expectEqualStrings("two", try p.b.decrypt(m2, &pt_buf));

    // Reordered within limits.
    var e3: [4096]u8 = undefined;
    var e4: [4096]u8 = undefined;
    const m3 = try p.a.encrypt("three", &e3);
    const m4 = try p.a.encrypt("four", &e4);
    try expectEqualStrings("four", try p.b.decrypt(m4, &pt_buf));
    try expectEqualStrings("three", try p.b.decrypt(m3, &pt_buf));
    try expectError(error.Duplicate, p.b.decrypt(m3, &pt_buf));

    // An envelope of another session.
    var q = try common.Pair.init();
    defer q.deinit();
    const foreign = try q.a.encrypt("not yours", &env_buf);
    try expectError(error.WrongSession, p.b.decrypt(foreign, &pt_buf));

    // A first (prekey) message is not a session message for an ACTIVE responder... and a
    // session message is not a first message for accept.
    const normal = try p.a.encrypt("normal", &env_buf);
    var id3 = try dmp.Identity.generate();
    defer id3.deinit();
    try expectError(error.WrongMessageType, dmp.Session.accept(&id3, normal, &pt_buf));
    try expectError(error.BadEnvelope, dmp.Session.accept(&id3, "", &pt_buf));
}

test "session: too-small buffers change nothing; alloc variants; empty plaintext" {
    var p = try common.Pair.init();
    defer p.deinit();
    var env_buf: [4096]u8 = undefined;

    var tiny: [8]u8 = undefined;
    try expectError(error.BufferTooSmall, p.a.encrypt("some plaintext", &tiny));
    try expectError(error.BufferTooSmall, p.a.encrypt("some plaintext", &.{}));
    const env = try p.a.encrypt("some plaintext", &env_buf);
    var pt_small: [4]u8 = undefined;
    try expectError(error.BufferTooSmall, p.b.decrypt(env, &pt_small));
    try expectError(error.BufferTooSmall, p.b.decrypt(env, &.{}));
    const pt = try p.b.decryptAlloc(testing.allocator, env);
    defer testing.allocator.free(pt);
    try expectEqualStrings("some plaintext", pt);

    const want = try p.b.encryptedLen(9);
    const env2 = try p.b.encryptAlloc(testing.allocator, "allocated");
    defer testing.allocator.free(env2);
    try expectEqual(want, env2.len);
    const pt2 = try p.a.decryptAlloc(testing.allocator, env2);
    defer testing.allocator.free(pt2);
    try expectEqualStrings("allocated", pt2);

    // Empty plaintexts: the size query itself succeeds and decrypts.
    const env3 = try p.a.encryptAlloc(testing.allocator, "");
    defer testing.allocator.free(env3);
    const pt3 = try p.b.decryptAlloc(testing.allocator, env3);
    defer testing.allocator.free(pt3);
    try expectEqual(@as(usize, 0), pt3.len);
    try expectError(error.Duplicate, p.b.decryptAlloc(testing.allocator, env3));

    // Too large.
    try expectError(error.TooLarge, p.a.encryptedLen(dmp.max_plaintext_len + 1));
    const huge = try testing.allocator.alloc(u8, dmp.max_plaintext_len + 1);
    defer testing.allocator.free(huge);
    @memset(huge, 'x');
    try expectError(error.TooLarge, p.a.encryptAlloc(testing.allocator, huge));
    // The largest plaintext goes through.
    const big_env = try p.a.encryptAlloc(testing.allocator, huge[0..dmp.max_plaintext_len]);
    defer testing.allocator.free(big_env);
    try expect(big_env.len <= dmp.max_envelope_len);
    const big_pt = try p.b.decryptAlloc(testing.allocator, big_env);
    defer testing.allocator.free(big_pt);
    try expectEqual(@as(usize, dmp.max_plaintext_len), big_pt.len);
}

test "session: a too-small buffer does not consume a stored skipped key" {
    var p = try common.Pair.init();
    defer p.deinit();
    var e1: [512]u8 = undefined;
    var e2: [512]u8 = undefined;
    const m1 = try p.a.encrypt("first, delivered late", &e1);
    const m2 = try p.a.encrypt("second", &e2);
    var pt: [64]u8 = undefined;
    try expectEqualStrings("second", try p.b.decrypt(m2, &pt)); // m1's key is stored
    var tiny: [2]u8 = undefined;
    var needed: usize = 0;
    try expectError(error.BufferTooSmall, dmp.check(c.dmp_session_decrypt(p.b.handle, m1.ptr, m1.len, &tiny, tiny.len, &needed)));
    try expectEqual(@as(usize, 21), needed);
    try expectEqualStrings("first, delivered late", try p.b.decrypt(m1, &pt));
    try expectError(error.Duplicate, p.b.decrypt(m1, &pt));
}

test "session: accept with a too-small buffer consumes nothing; acceptAlloc; one-time prekey used once" {
    var alice = try dmp.Identity.generate();
    defer alice.deinit();
    var bob = try dmp.Identity.generate();
    defer bob.deinit();
    var bundle_buf: [dmp.bundle_max_len]u8 = undefined;
    const bundle = try bob.bundle(true, &bundle_buf);
    try expectEqual(@as(u32, 1), try bob.oneTimePrekeyCount());

    var a = try dmp.Session.initiate(&alice, bundle);
    defer a.deinit();
    var env_buf: [4096]u8 = undefined;
    const first = try a.encrypt("first message", &env_buf);

    var small: [3]u8 = undefined;
    try expectError(error.BufferTooSmall, dmp.Session.accept(&bob, first, &small));
    try expectEqual(@as(u32, 1), try bob.oneTimePrekeyCount());

    var acc = try dmp.Session.acceptAlloc(testing.allocator, &bob, first, .require_hybrid);
    defer acc.session.deinit();
    defer testing.allocator.free(acc.plaintext);
    try expectEqualStrings("first message", acc.plaintext);
    // The one-time prekey is deleted: the same first message cannot start a second session.
    try expectEqual(@as(u32, 0), try bob.oneTimePrekeyCount());
    var pt_buf: [64]u8 = undefined;
    try expectError(error.UnknownPrekey, dmp.Session.accept(&bob, first, &pt_buf));

    // A first message to someone else.
    var carol = try dmp.Identity.generate();
    defer carol.deinit();
    try expectError(error.UnknownPrekey, dmp.Session.accept(&carol, first, &pt_buf));
}

test "session: own bundle, policies, classical suite, downgrade" {
    var alice = try dmp.Identity.generate();
    defer alice.deinit();
    var own_buf: [dmp.bundle_max_len]u8 = undefined;
    const own = try alice.bundle(false, &own_buf);
    try expectError(error.InvalidArgument, dmp.Session.initiate(&alice, own));
    try expectError(error.BadEnvelope, dmp.Session.initiate(&alice, ""));
    // An invalid policy cannot be spelled with dmp.PqPolicy: through the raw ABI.
    var bob0 = try dmp.Identity.generate();
    defer bob0.deinit();
    var b0_buf: [dmp.bundle_max_len]u8 = undefined;
    const b0 = try bob0.bundle(false, &b0_buf);
    var raw: ?*c.dmp_session_t = null;
    try expectError(error.InvalidArgument, dmp.check(c.dmp_session_initiate_with(alice.handle, b0.ptr, b0.len, 5, &raw)));
    try expectEqual(@as(?*c.dmp_session_t, null), raw);

    var classical = try dmp.Identity.generateWith(.classical);
    defer classical.deinit();
    var cb_buf: [dmp.bundle_max_len]u8 = undefined;
    const cb = try classical.bundle(false, &cb_buf);
    try expectError(error.PqRequired, dmp.Session.initiate(&alice, cb));

    var a = try dmp.Session.initiateWith(&alice, cb, .allow_classical);
    defer a.deinit();
    var env_buf: [4096]u8 = undefined;
    var pt_buf: [64]u8 = undefined;
    const first = try a.encrypt("classical hello", &env_buf);
    try expectError(error.PqRequired, dmp.Session.accept(&classical, first, &pt_buf));
    var acc = try dmp.Session.acceptWith(&classical, first, .allow_classical, &pt_buf);
    defer acc.session.deinit();
    try expectEqualStrings("classical hello", acc.plaintext);
    var n: usize = 0;
    try expectError(error.InvalidArgument, dmp.check(c.dmp_session_accept_with(classical.handle, first.ptr, first.len, 9, &raw, &pt_buf, pt_buf.len, &n)));
    try expectEqual(@as(?*c.dmp_session_t, null), raw);

    // A hybrid bundle cut down to classical size: refused (malformed, or, with its flag
    // cleared too, a signature that no longer matches), never used as a classical one.
    var bob = try dmp.Identity.generate();
    defer bob.deinit();
    var hb_buf: [dmp.bundle_max_len]u8 = undefined;
    const hb = try bob.bundle(false, &hb_buf);
    if (dmp.Session.initiateWith(&alice, hb[0..c.DMP_BUNDLE_LEN], .allow_classical)) |s| {
        var ss = s;
        ss.deinit();
        return error.TestUnexpectedResult;
    } else |err| try expect(err == error.Downgrade or err == error.BadEnvelope or err == error.BadSignature);
}

test "session: padding, limits, too far ahead" {
    var p = try common.Pair.init();
    defer p.deinit();
    try p.a.setPadding(.buckets);
    try expectEqual(try p.a.encryptedLen(1), try p.a.encryptedLen(20));
    try p.a.setPadding(.none);
    try expect(try p.a.encryptedLen(1) != try p.a.encryptedLen(20));
    try expectError(error.InvalidArgument, dmp.check(c.dmp_session_set_padding(p.a.handle, 2)));

    try expectError(error.InvalidArgument, p.b.setLimits(0, 10));
    try expectError(error.InvalidArgument, p.b.setLimits(10, 0));
    try expectError(error.InvalidArgument, p.b.setLimits(c.DMP_MAX_FORWARD_JUMP_CEILING + 1, 10));
    try expectError(error.InvalidArgument, p.b.setLimits(10, c.DMP_MAX_SKIPPED_KEYS_CEILING + 1));
    try p.b.setLimits(c.DMP_MAX_FORWARD_JUMP_CEILING, c.DMP_MAX_SKIPPED_KEYS_CEILING);
    try p.b.setLimits(2, 10);

    var envs: [5][512]u8 = undefined;
    var lens: [5]usize = undefined;
    for (0..5) |i| lens[i] = (try p.a.encrypt("m", &envs[i])).len;
    var pt: [64]u8 = undefined;
    // Message 5 jumps 4 ahead: beyond the limit of 2.
    try expectError(error.TooFarAhead, p.b.decrypt(envs[4][0..lens[4]], &pt));
    // Within the limit; nothing was changed by the refusal.
    _ = try p.b.decrypt(envs[2][0..lens[2]], &pt);
    _ = try p.b.decrypt(envs[0][0..lens[0]], &pt);
    _ = try p.b.decrypt(envs[4][0..lens[4]], &pt);
    _ = try p.b.decrypt(envs[1][0..lens[1]], &pt);
    _ = try p.b.decrypt(envs[3][0..lens[3]], &pt);
}

test "session: serialize, deserialize, continue; wrong key" {
    var p = try common.Pair.init();
    defer p.deinit();
    const key = try common.randomKey();
    const record = try p.b.serializeAlloc(testing.allocator, &key);
    defer testing.allocator.free(record);
    try expectEqual(try p.b.serializedLen(&key), record.len);
    var small: [10]u8 = undefined;
    try expectError(error.BufferTooSmall, p.b.serialize(&key, &small));

    var restored = try dmp.Session.deserialize(record, &key);
    defer restored.deinit();
    try expectEqual(dmp.SessionState.active, try restored.state());
    try expectEqualSlices(u8, &(try p.b.id()), &(try restored.id()));

    var env_buf: [1024]u8 = undefined;
    var pt: [64]u8 = undefined;
    const m = try p.a.encrypt("to the restored one", &env_buf);
    try expectEqualStrings("to the restored one", try restored.decrypt(m, &pt));
    const r = try restored.encrypt("restored replies", &env_buf);
    try expectEqualStrings("restored replies", try p.a.decrypt(r, &pt));

    const wrong = try common.randomKey();
    try expectError(error.WrongStorageKey, dmp.Session.deserialize(record, &wrong));
    // An identity record is not a session record.
    const id_record = try p.alice.serializeAlloc(testing.allocator, &key);
    defer testing.allocator.free(id_record);
    try expectError(error.BadState, dmp.Session.deserialize(id_record, &key));
}

test "session: one handle used from several threads at once" {
    var p = try common.Pair.init();
    defer p.deinit();
    const per_thread = 150;
    const Env = struct { buf: [256]u8, len: usize };
    const Worker = struct {
        fn run(session: *dmp.Session, out: []Env, failed: *bool) void {
            for (out, 0..) |*e, i| {
                var msg: [32]u8 = undefined;
                const m = std.fmt.bufPrint(&msg, "msg {d}", .{i}) catch unreachable;
                const env = session.encrypt(m, &e.buf) catch {
                    failed.* = true;
                    return;
                };
                e.len = env.len;
            }
        }
    };
    var envs: [3][per_thread]Env = undefined;
    var failed: [3]bool = @splat(false);
    var threads: [3]std.Thread = undefined;
    for (&threads, 0..) |*t, i| t.* = try std.Thread.spawn(.{}, Worker.run, .{ &p.a, &envs[i], &failed[i] });
    for (threads) |t| t.join();
    for (failed) |f| try expect(!f);
    // Every envelope decrypts exactly once, in whatever order the threads produced them.
    var pt: [64]u8 = undefined;
    for (&envs) |*list| for (list) |*e| {
        _ = try p.b.decrypt(e.buf[0..e.len], &pt);
    };
    for (&envs) |*list| for (list) |*e| {
        try expectError(error.Duplicate, p.b.decrypt(e.buf[0..e.len], &pt));
    };
}

// ---- group -----------------------------------------------------------------------------------

const Member = struct {
    identity: dmp.Identity,
    group: dmp.Group,
    id: dmp.AgentId,

    fn init(gid: *const dmp.GroupId) !Member {
        var identity = try dmp.Identity.generate();
        errdefer identity.deinit();
        const group = try dmp.Group.create(&identity, gid);
        return .{ .identity = identity, .group = group, .id = try identity.publicKey() };
    }

    fn deinit(m: *Member) void {
        m.group.deinit();
        m.identity.deinit();
    }
};

/// Each member adds every other one and takes in their distributions (here handed over
/// directly; in real use they travel inside pairwise sessions).
fn connect(members: []Member) !void {
    for (members) |*m| for (members) |*o| {
        if (m != o) try m.group.addMember(&o.id);
    };
    for (members) |*m| {
        const d = try m.group.distribution();
        for (members) |*o| {
            if (m != o) try o.group.processDistribution(&m.id, &d);
        }
    }
}

test "group: create, members, encrypt once, everyone decrypts" {
    var gid: dmp.GroupId = undefined;
    try dmp.randomBytes(&gid);
    var ms: [3]Member = undefined;
    var n_init: usize = 0;
    defer for (ms[0..n_init]) |*m| m.deinit();
    for (&ms) |*m| {
        m.* = try Member.init(&gid);
        n_init += 1;
    }
    try expectEqualSlices(u8, &gid, &(try ms[0].group.id()));
    try expectEqual(@as(u32, 0), try ms[0].group.memberCount());
    try expectEqual(@as(u32, 1), try ms[0].group.keyId());
    try connect(&ms);
    try expectEqual(@as(u32, 2), try ms[0].group.memberCount());

    var ids: [2]dmp.AgentId = undefined;
    const listed = try ms[0].group.members(&ids);
    try expectEqual(@as(usize, 2), listed.len);
    try expect(std.mem.order(u8, &listed[0], &listed[1]) == .lt); // id order
    const alloc_ids = try ms[0].group.membersAlloc(testing.allocator);
    defer testing.allocator.free(alloc_ids);
    try expectEqualSlices(dmp.AgentId, listed, alloc_ids);
    var one: [1]dmp.AgentId = undefined;
    try expectError(error.BufferTooSmall, ms[0].group.members(&one));

    var out: [1024]u8 = undefined;
    const len = try ms[0].group.encryptedLen(11);
    const msg = try ms[0].group.encrypt("hello group", &out);
    try expectEqual(len, msg.len);
    var pt: [64]u8 = undefined;
    for (ms[1..]) |*m| {
        const d = try m.group.decrypt(msg, &pt);
        try expectEqualStrings("hello group", d.plaintext);
        try expectEqualSlices(u8, &ms[0].id, &d.sender);
    }
    const d2 = try ms[1].group.encryptAlloc(testing.allocator, "from the second");
    defer testing.allocator.free(d2);
    const got = try ms[2].group.decryptAlloc(testing.allocator, d2);
    defer testing.allocator.free(got.plaintext);
    try expectEqualStrings("from the second", got.plaintext);
    try expectEqualSlices(u8, &ms[1].id, &got.sender);
}

test "group: error paths" {
    var gid: dmp.GroupId = undefined;
    try dmp.randomBytes(&gid);
    var ms: [3]Member = undefined;
    var n_init: usize = 0;
    defer for (ms[0..n_init]) |*m| m.deinit();
    for (&ms) |*m| {
        m.* = try Member.init(&gid);
        n_init += 1;
    }
    const a = &ms[0];
    const b = &ms[1];
    const outsider = &ms[2];

    try expectError(error.InvalidArgument, a.group.addMember(&a.id)); // ourselves
    try a.group.addMember(&b.id);
    try expectError(error.InvalidArgument, a.group.addMember(&b.id)); // twice
    const zero: dmp.AgentId = @splat(0);
    if (a.group.addMember(&zero)) |_| return error.TestUnexpectedResult else |err| try expect(err == error.WeakKey or err == error.BadEnvelope);
    try expectError(error.UnknownSender, a.group.removeMember(&outsider.id));
    try b.group.addMember(&a.id);

    var out: [1024]u8 = undefined;
    var pt: [64]u8 = undefined;
    const msg = try a.group.encrypt("before distribution", &out);
    // b has no distribution of a yet.
    try expectError(error.UnknownKeyId, b.group.decrypt(msg, &pt));
    // A distribution from a non-member, garbage, empty.
    const od = try outsider.group.distribution();
    try expectError(error.UnknownSender, b.group.processDistribution(&outsider.id, &od));
    try expectError(error.BadEnvelope, b.group.processDistribution(&a.id, ""));
    try expectError(error.BadEnvelope, b.group.processDistribution(&a.id, od[0..20]));
    // a's distribution claimed to come from someone else.
    const ad = try a.group.distribution();
    b.group.addMember(&outsider.id) catch unreachable;
    try expectError(error.UnknownSender, b.group.processDistribution(&outsider.id, &ad));
    try b.group.processDistribution(&a.id, &ad);
    try expectError(error.Duplicate, b.group.processDistribution(&a.id, &ad));
    // A distribution of another group.
    var other_gid = gid;
    other_gid[0] ^= 1;
    var other = try dmp.Group.create(&a.identity, &other_gid);
    defer other.deinit();
    const other_d = try other.distribution();
    try expectError(error.WrongSession, b.group.processDistribution(&a.id, &other_d));

    // The message sent before b had the distribution: the distribution is at the current
    // iteration, so the earlier message stays unreadable.
    if (b.group.decrypt(msg, &pt)) |_| return error.TestUnexpectedResult else |_| {}

    const m2 = try a.group.encrypt("after distribution", &out);
    var m2_copy: [1024]u8 = undefined;
    @memcpy(m2_copy[0..m2.len], m2);
    const env2 = m2_copy[0..m2.len];
    var small: [3]u8 = undefined;
    try expectError(error.BufferTooSmall, b.group.decrypt(env2, &small));
    try expectEqualStrings("after distribution", (try b.group.decrypt(env2, &pt)).plaintext);
    try expectError(error.Duplicate, b.group.decrypt(env2, &pt));

    // A refused group message writes nothing to the sender out-parameter.
    {
        var sender: dmp.AgentId = @splat(0xEE);
        var n: usize = 0;
        try expectError(error.Duplicate, dmp.check(c.dmp_group_decrypt(b.group.handle, env2.ptr, env2.len, &sender, &pt, pt.len, &n)));
        try expect(std.mem.allEqual(u8, &sender, 0xEE));
    }

    // Tampered: the signature covers the message.
    const m3 = try a.group.encrypt("third", &out);
    var t: [1024]u8 = undefined;
    @memcpy(t[0..m3.len], m3);
    t[m3.len - 70] ^= 1;
    try expectError(error.BadSignature, b.group.decrypt(t[0..m3.len], &pt));
    try expectError(error.BadEnvelope, b.group.decrypt("", &pt));
    try expectError(error.BadEnvelope, b.group.decrypt(m3[0..20], &pt));
    try expectEqualStrings("third", (try b.group.decrypt(m3, &pt)).plaintext);

    // Message of another group.
    const om = try other.encrypt("other group", &out);
    try expectError(error.WrongSession, b.group.decrypt(om, &pt));

    // Rotation: new key id; the new distribution is needed for new messages.
    try a.group.rotate();
    try expectEqual(@as(u32, 2), try a.group.keyId());
    const ad2 = try a.group.distribution();
    const m4 = try a.group.encrypt("rotated", &out);
    try expectError(error.UnknownKeyId, b.group.decrypt(m4, &pt));
    try b.group.processDistribution(&a.id, &ad2);
    try expectEqualStrings("rotated", (try b.group.decrypt(m4, &pt)).plaintext);
    try expectError(error.SupersededKey, b.group.processDistribution(&a.id, &ad));

    // Removal: b removes a; a's messages are refused.
    try b.group.removeMember(&a.id);
    const m5 = try a.group.encrypt("after removal", &out);
    try expectError(error.MemberRemoved, b.group.decrypt(m5, &pt));
    try expectError(error.MemberRemoved, b.group.processDistribution(&a.id, &ad2));

    // Padding and limits.
    try a.group.setPadding(.buckets);
    try expectEqual(try a.group.encryptedLen(1), try a.group.encryptedLen(30));
    try expectError(error.InvalidArgument, dmp.check(c.dmp_group_set_padding(a.group.handle, 3)));
    try a.group.setLimits(5, 5);
    try expectError(error.InvalidArgument, a.group.setLimits(0, 5));
    try expectError(error.InvalidArgument, a.group.setLimits(5, c.DMP_MAX_SKIPPED_KEYS_CEILING + 1));
    try expectError(error.TooLarge, a.group.encryptedLen(dmp.max_plaintext_len + 1));
    try expectError(error.BufferTooSmall, a.group.encrypt("x", &small));
}

test "group: too far ahead, serialize and deserialize" {
    var gid: dmp.GroupId = undefined;
    try dmp.randomBytes(&gid);
    var ms: [2]Member = undefined;
    var n_init: usize = 0;
    defer for (ms[0..n_init]) |*m| m.deinit();
    for (&ms) |*m| {
        m.* = try Member.init(&gid);
        n_init += 1;
    }
    try connect(&ms);
    try ms[1].group.setLimits(3, 10);
    var out: [6][512]u8 = undefined;
    var lens: [6]usize = undefined;
    for (0..6) |i| lens[i] = (try ms[0].group.encrypt("m", &out[i])).len;
    var pt: [64]u8 = undefined;
    try expectError(error.TooFarAhead, ms[1].group.decrypt(out[5][0..lens[5]], &pt));
    _ = try ms[1].group.decrypt(out[2][0..lens[2]], &pt);
    _ = try ms[1].group.decrypt(out[0][0..lens[0]], &pt);

    const key = try common.randomKey();
    const record = try ms[1].group.serializeAlloc(testing.allocator, &key);
    defer testing.allocator.free(record);
    try expectEqual(try ms[1].group.serializedLen(&key), record.len);
    var small: [8]u8 = undefined;
    try expectError(error.BufferTooSmall, ms[1].group.serialize(&key, &small));
    var restored = try dmp.Group.deserialize(record, &key);
    defer restored.deinit();
    try expectEqualSlices(u8, &gid, &(try restored.id()));
    try expectEqual(@as(u32, 1), try restored.memberCount());
    // The restored view keeps the skipped keys and the replay window.
    _ = try restored.decrypt(out[1][0..lens[1]], &pt);
    try expectError(error.Duplicate, restored.decrypt(out[2][0..lens[2]], &pt));
    const wrong = try common.randomKey();
    try expectError(error.WrongStorageKey, dmp.Group.deserialize(record, &wrong));
}

// ---- sizes -----------------------------------------------------------------------------------

test "sizes: runtime values equal the constants" {
    const s = dmp.sizes();
    try expectEqual(@as(usize, dmp.key_len), s.key_len);
    try expectEqual(@as(usize, dmp.aead_overhead), s.nonce_len + s.tag_len);
    try expectEqual(@as(usize, dmp.max_envelope_len), s.max_envelope_len);
    try expectEqual(@as(u32, c.DMP_DEFAULT_MAX_FORWARD_JUMP), s.default_max_forward_jump);
    try expect(s.bundle_len < s.hybrid_bundle_len and s.hybrid_bundle_len < s.bundle_max_len);
}
