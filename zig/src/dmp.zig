//! DMP for Zig: an idiomatic wrapper over the C ABI of libdmp (include/dmp.h).
//!
//! Conventions:
//!  - Inputs are slices; fixed-size keys and ids are pointers to arrays (`*const Key`, ...).
//!    An empty slice is passed to the library as NULL with length 0, which the ABI allows.
//!  - Outputs go into caller buffers and the functions return the part written. Where the
//!    size is known in advance there is a `...Len` function (or a constant); where it is only
//!    known after the call there is an `...Alloc` variant that takes an explicit allocator and
//!    uses the ABI's size query (NULL out, capacity 0 -> `error.BufferTooSmall` with the size
//!    needed, nothing changed). Nothing here allocates unless handed an allocator.
//!  - Every DMP_ERR_* status code is one error of `Error`; `lastErrorMessage()` gives the
//!    library's detail of the last failure on the calling thread.
//!  - Handles (`Identity`, `Session`, `Group`) are structs with `deinit`, which zeroizes and
//!    frees. A handle may be used from several threads; the library serializes calls on it.

const std = @import("std");

/// The raw C declarations (checked against include/dmp.h by tests/header_test.zig).
pub const c = @import("c.zig");
/// The L0 TCP transport: length-prefixed frames on loopback.
pub const transport = @import("transport.zig");
/// The control layer on top of the transport (HELLO / ENVELOPE / CLOSE frames).
pub const link = @import("link.zig");
/// An agent on the network: connections, routing, outbox (`dmp.Host`).
pub const host = @import("host.zig");
pub const Host = host.Host;

// ---------------------------------------------------------------------------------------------
// Sizes and fixed-size types
// ---------------------------------------------------------------------------------------------

pub const key_len = c.DMP_KEY_LEN;
pub const public_key_len = c.DMP_PUBLIC_KEY_LEN;
pub const secret_key_len = c.DMP_SECRET_KEY_LEN;
pub const signature_len = c.DMP_SIGNATURE_LEN;
pub const shared_secret_len = c.DMP_SHARED_SECRET_LEN;
pub const nonce_len = c.DMP_NONCE_LEN;
pub const tag_len = c.DMP_TAG_LEN;
pub const aead_overhead = c.DMP_AEAD_OVERHEAD;
pub const session_id_len = c.DMP_SESSION_ID_LEN;
pub const fingerprint_len = c.DMP_FINGERPRINT_LEN;
pub const max_plaintext_len = c.DMP_MAX_PLAINTEXT_LEN;
pub const max_envelope_len = c.DMP_MAX_ENVELOPE_LEN;
pub const bundle_max_len = c.DMP_BUNDLE_MAX_LEN;
pub const hkdf_max_len = c.DMP_HKDF_MAX_LEN;
pub const group_id_len = c.DMP_GROUP_ID_LEN;
pub const distribution_len = c.DMP_DISTRIBUTION_LEN;
pub const abi_version = c.DMP_ABI_VERSION;

/// A 32-byte symmetric key: an AEAD key or a storage key.
pub const Key = [key_len]u8;
/// An X25519 or Ed25519 public key.
pub const PublicKey = [public_key_len]u8;
/// An X25519 secret key or an Ed25519 seed.
pub const SecretKey = [secret_key_len]u8;
/// An agent id: the agent's Ed25519 public key.
pub const AgentId = [public_key_len]u8;
pub const Signature = [signature_len]u8;
pub const SharedSecret = [shared_secret_len]u8;
pub const SessionId = [session_id_len]u8;
pub const GroupId = [group_id_len]u8;
/// A fingerprint for people to compare, e.g. "1a2b 3c4d ... 7e8f" (ASCII, no NUL).
pub const Fingerprint = [fingerprint_len]u8;
/// A sender-key distribution: secret, send it only inside a pairwise session.
pub const Distribution = [distribution_len]u8;

/// Every size the library reports at run time; each field `x` is `dmp_x()` and equals the
/// constant `DMP_X` of the header (tests check both).
pub const Sizes = struct {
    key_len: usize,
    public_key_len: usize,
    secret_key_len: usize,
    signature_len: usize,
    shared_secret_len: usize,
    nonce_len: usize,
    tag_len: usize,
    aead_overhead: usize,
    session_id_len: usize,
    fingerprint_len: usize,
    max_plaintext_len: usize,
    max_envelope_len: usize,
    bundle_len: usize,
    bundle_max_len: usize,
    message_header_len: usize,
    prekey_message_header_len: usize,
    hkdf_max_len: usize,
    default_max_forward_jump: u32,
    default_max_skipped_keys: u32,
    max_forward_jump_ceiling: u32,
    max_skipped_keys_ceiling: u32,
    max_one_time_prekeys: usize,
    group_id_len: usize,
    distribution_len: usize,
    group_message_header_len: usize,
    max_group_members: usize,
    group_key_grace_messages: u32,
    hybrid_bundle_len: usize,
    hybrid_prekey_message_header_len: usize,
    kem_public_key_len: usize,
    kem_ciphertext_len: usize,
};

/// Reads every size from the linked library (the `dmp_*_len()`-style functions).
pub fn sizes() Sizes {
    var s: Sizes = undefined;
    inline for (@typeInfo(Sizes).@"struct".field_names) |name| {
        @field(s, name) = @field(c, "dmp_" ++ name)();
    }
    return s;
}

// ---------------------------------------------------------------------------------------------
// Status codes
// ---------------------------------------------------------------------------------------------

/// One error per DMP_ERR_* status code (same order, same meaning), plus `UnknownStatus` for a
/// code this wrapper does not know (a newer library than the header it was written against).
pub const Error = error{
    /// DMP_ERR_INTERNAL: a bug or a panic inside the library.
    Internal,
    /// DMP_ERR_INVALID_ARGUMENT: an argument is out of its documented range.
    InvalidArgument,
    /// DMP_ERR_NULL_POINTER: a required pointer was NULL.
    NullPointer,
    /// DMP_ERR_BUFFER_TOO_SMALL: the output buffer is too small; nothing changed.
    BufferTooSmall,
    /// DMP_ERR_BAD_ENVELOPE: not a well-formed DMP envelope, bundle or record.
    BadEnvelope,
    /// DMP_ERR_UNSUPPORTED_VERSION: a protocol or format version this build does not speak.
    UnsupportedVersion,
    /// DMP_ERR_WRONG_MESSAGE_TYPE: a well-formed envelope of a type this call does not take.
    WrongMessageType,
    /// DMP_ERR_AUTH_FAILED: authenticated decryption failed (tampered, or not for this key).
    AuthFailed,
    /// DMP_ERR_DUPLICATE: already decrypted (a replay), or its key was discarded.
    Duplicate,
    /// DMP_ERR_TOO_FAR_AHEAD: beyond the forward-jump limit.
    TooFarAhead,
    /// DMP_ERR_WRONG_SESSION: the envelope belongs to another session (or group).
    WrongSession,
    /// DMP_ERR_WRONG_STATE: not allowed in the session's current state.
    WrongState,
    /// DMP_ERR_BAD_SIGNATURE: a signature did not verify.
    BadSignature,
    /// DMP_ERR_WEAK_KEY: a small-order public key, or an all-zero DH output.
    WeakKey,
    /// DMP_ERR_UNKNOWN_PREKEY: unknown prekey, or a one-time prekey already used.
    UnknownPrekey,
    /// DMP_ERR_WRONG_STORAGE_KEY: a stored record did not authenticate.
    WrongStorageKey,
    /// DMP_ERR_RANDOM_FAILURE: the operating system's random number generator failed.
    RandomFailure,
    /// DMP_ERR_TOO_LARGE: an input exceeds a documented size limit.
    TooLarge,
    /// DMP_ERR_BAD_STATE: a decrypted state record is malformed or of another kind.
    BadState,
    /// DMP_ERR_UNKNOWN_SENDER: a group message or distribution from a non-member.
    UnknownSender,
    /// DMP_ERR_UNKNOWN_KEY_ID: a group message under a sender key id never distributed.
    UnknownKeyId,
    /// DMP_ERR_MEMBER_REMOVED: a group message or distribution from a removed member.
    MemberRemoved,
    /// DMP_ERR_SUPERSEDED_KEY: a replaced sender key whose grace window has passed.
    SupersededKey,
    /// DMP_ERR_DOWNGRADE: the post-quantum part of a first message to a hybrid prekey was removed.
    Downgrade,
    /// DMP_ERR_PQ_REQUIRED: a classical-only set-up refused by the caller's policy.
    PqRequired,
    /// DMP_ERR_NO_SESSION: no session with this peer, and no bundle of it to start one.
    NoSession,
    /// DMP_ERR_STORE_LOCKED: the store is open in another process or handle.
    StoreLocked,
    /// DMP_ERR_STORE_FAILED: the store failed (I/O error, corrupted or foreign file).
    StoreFailed,
    /// DMP_ERR_EXPIRED_BUNDLE: a prekey bundle whose signed expiry has passed.
    ExpiredBundle,
    /// A status code that is not in the header this wrapper was written against.
    UnknownStatus,
};

/// Each status code with its error; tests check this table against the header's #defines.
pub const status_codes = [_]struct { code: i32, err: Error }{
    .{ .code = c.DMP_ERR_INTERNAL, .err = error.Internal },
    .{ .code = c.DMP_ERR_INVALID_ARGUMENT, .err = error.InvalidArgument },
    .{ .code = c.DMP_ERR_NULL_POINTER, .err = error.NullPointer },
    .{ .code = c.DMP_ERR_BUFFER_TOO_SMALL, .err = error.BufferTooSmall },
    .{ .code = c.DMP_ERR_BAD_ENVELOPE, .err = error.BadEnvelope },
    .{ .code = c.DMP_ERR_UNSUPPORTED_VERSION, .err = error.UnsupportedVersion },
    .{ .code = c.DMP_ERR_WRONG_MESSAGE_TYPE, .err = error.WrongMessageType },
    .{ .code = c.DMP_ERR_AUTH_FAILED, .err = error.AuthFailed },
    .{ .code = c.DMP_ERR_DUPLICATE, .err = error.Duplicate },
    .{ .code = c.DMP_ERR_TOO_FAR_AHEAD, .err = error.TooFarAhead },
    .{ .code = c.DMP_ERR_WRONG_SESSION, .err = error.WrongSession },
    .{ .code = c.DMP_ERR_WRONG_STATE, .err = error.WrongState },
    .{ .code = c.DMP_ERR_BAD_SIGNATURE, .err = error.BadSignature },
    .{ .code = c.DMP_ERR_WEAK_KEY, .err = error.WeakKey },
    .{ .code = c.DMP_ERR_UNKNOWN_PREKEY, .err = error.UnknownPrekey },
    .{ .code = c.DMP_ERR_WRONG_STORAGE_KEY, .err = error.WrongStorageKey },
    .{ .code = c.DMP_ERR_RANDOM_FAILURE, .err = error.RandomFailure },
    .{ .code = c.DMP_ERR_TOO_LARGE, .err = error.TooLarge },
    .{ .code = c.DMP_ERR_BAD_STATE, .err = error.BadState },
    .{ .code = c.DMP_ERR_UNKNOWN_SENDER, .err = error.UnknownSender },
    .{ .code = c.DMP_ERR_UNKNOWN_KEY_ID, .err = error.UnknownKeyId },
    .{ .code = c.DMP_ERR_MEMBER_REMOVED, .err = error.MemberRemoved },
    .{ .code = c.DMP_ERR_SUPERSEDED_KEY, .err = error.SupersededKey },
    .{ .code = c.DMP_ERR_DOWNGRADE, .err = error.Downgrade },
    .{ .code = c.DMP_ERR_PQ_REQUIRED, .err = error.PqRequired },
    .{ .code = c.DMP_ERR_NO_SESSION, .err = error.NoSession },
    .{ .code = c.DMP_ERR_STORE_LOCKED, .err = error.StoreLocked },
    .{ .code = c.DMP_ERR_STORE_FAILED, .err = error.StoreFailed },
    .{ .code = c.DMP_ERR_EXPIRED_BUNDLE, .err = error.ExpiredBundle },
};

/// The error of a non-OK status code.
pub fn errorFromStatus(status: i32) Error {
    inline for (status_codes) |entry| {
        if (status == entry.code) return entry.err;
    }
    return error.UnknownStatus;
}

/// The status code of an error, or null for `error.UnknownStatus`.
pub fn statusFromError(err: Error) ?i32 {
    inline for (status_codes) |entry| {
        if (err == entry.err) return entry.code;
    }
    return null;
}

/// `DMP_OK` -> success; anything else -> its error.
pub fn check(status: i32) Error!void {
    if (status == c.DMP_OK) return;
    return errorFromStatus(status);
}

/// The library's static description of a status code.
pub fn strerror(status: i32) [:0]const u8 {
    return std.mem.span(c.dmp_strerror(status));
}

/// The detail of the last failure on the calling thread ("" if none yet). Valid until the next
/// failing DMP call on this thread.
pub fn lastErrorMessage() [:0]const u8 {
    return std.mem.span(c.dmp_last_error_message());
}

/// The library version, e.g. "0.1.0".
pub fn version() [:0]const u8 {
    return std.mem.span(c.dmp_version());
}

/// Fails if the linked library speaks another ABI than the header these declarations follow.
pub fn checkAbi() error{AbiMismatch}!void {
    if (c.dmp_abi_version() != abi_version) return error.AbiMismatch;
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

inline fn inPtr(s: []const u8) ?[*]const u8 {
    return if (s.len == 0) null else s.ptr;
}

inline fn outPtr(s: []u8) ?[*]u8 {
    return if (s.len == 0) null else s.ptr;
}

/// Errors of the `...Alloc` variants.
pub const AllocError = Error || std.mem.Allocator.Error;

/// Runs `ctx.call(out, cap, &out_len)` under the size-query convention: first with no buffer,
/// then with a buffer of the size the library asked for (again if it asks for more, as can
/// happen when another thread changed the handle in between). A call that succeeds with no
/// buffer (an empty result) is not repeated. The result is owned by the caller.
fn fillAlloc(allocator: std.mem.Allocator, ctx: anytype) AllocError![]u8 {
    var needed: usize = 0;
    var rc = ctx.call(null, 0, &needed);
    var attempts: usize = 0;
    while (true) : (attempts += 1) {
        if (rc == c.DMP_OK) return allocator.alloc(u8, 0);
        if (rc != c.DMP_ERR_BUFFER_TOO_SMALL or attempts == 4) return errorFromStatus(rc);
        const buf = try allocator.alloc(u8, needed);
        var written: usize = 0;
        rc = ctx.call(buf.ptr, buf.len, &written);
        if (rc == c.DMP_OK) return shrink(allocator, buf, written);
        std.crypto.secureZero(u8, buf);
        allocator.free(buf);
        if (rc == c.DMP_ERR_BUFFER_TOO_SMALL) {
            needed = written;
            continue;
        }
        return errorFromStatus(rc);
    }
}

/// `buf[0..len]` as an allocation of its own (the library reports exact sizes, so this is
/// normally `buf` itself).
fn shrink(allocator: std.mem.Allocator, buf: []u8, len: usize) std.mem.Allocator.Error![]u8 {
    if (len == buf.len) return buf;
    if (allocator.resize(buf, len)) return buf[0..len];
    const copy = allocator.alloc(u8, len) catch |err| {
        std.crypto.secureZero(u8, buf);
        allocator.free(buf);
        return err;
    };
    @memcpy(copy, buf[0..len]);
    std.crypto.secureZero(u8, buf);
    allocator.free(buf);
    return copy;
}

// ---------------------------------------------------------------------------------------------
// Raw primitives
// ---------------------------------------------------------------------------------------------

/// XChaCha20-Poly1305 with a fresh random nonce per message (the nonce travels in front).
pub const aead = struct {
    /// Bytes `seal` adds to a plaintext: the 24-byte nonce and the 16-byte tag.
    pub const overhead = aead_overhead;

    /// The exact size `seal` writes for a `pt_len`-byte plaintext.
    pub fn sealedLen(pt_len: usize) usize {
        return pt_len + overhead;
    }

    /// Writes `nonce (24) || ciphertext || tag (16)` to `out` (at least `sealedLen(pt.len)`
    /// bytes) and returns that part of `out`.
    pub fn seal(key: *const Key, ad: []const u8, pt: []const u8, out: []u8) Error![]u8 {
        var n: usize = 0;
        try check(c.dmp_aead_seal(key, inPtr(ad), ad.len, inPtr(pt), pt.len, outPtr(out), out.len, &n));
        return out[0..n];
    }

    /// Opens `seal` output into `out` (at least `sealed.len - overhead` bytes) and returns the
    /// plaintext. `error.AuthFailed` for anything tampered, truncated, or under another key or
    /// associated data; `out` is zeroed on failure.
    pub fn open(key: *const Key, ad: []const u8, sealed: []const u8, out: []u8) Error![]u8 {
        var n: usize = 0;
        try check(c.dmp_aead_open(key, inPtr(ad), ad.len, inPtr(sealed), sealed.len, outPtr(out), out.len, &n));
        return out[0..n];
    }
};

/// Fills `out` from the operating system's CSPRNG.
pub fn randomBytes(out: []u8) Error!void {
    try check(c.dmp_random_bytes(outPtr(out), out.len));
}

/// Zeroes `buf` in a way the compiler cannot optimise away.
pub fn memzero(buf: []u8) Error!void {
    try check(c.dmp_memzero(outPtr(buf), buf.len));
}

pub const x25519 = struct {
    pub const KeyPair = struct { secret: SecretKey, public: PublicKey };

    /// A fresh key pair.
    pub fn keyPair() Error!KeyPair {
        var kp: KeyPair = undefined;
        try check(c.dmp_x25519_keypair(&kp.secret, &kp.public));
        return kp;
    }

    /// The public key of a secret key.
    pub fn publicKey(secret: *const SecretKey) Error!PublicKey {
        var public: PublicKey = undefined;
        try check(c.dmp_x25519_public(secret, &public));
        return public;
    }

    /// X25519(secret, public); `error.WeakKey` for a small-order public key.
    pub fn dh(secret: *const SecretKey, public: *const PublicKey) Error!SharedSecret {
        var shared: SharedSecret = undefined;
        try check(c.dmp_x25519(secret, public, &shared));
        return shared;
    }
};

pub const ed25519 = struct {
    pub const KeyPair = struct { seed: SecretKey, public: PublicKey };

    /// A fresh key pair: a 32-byte seed (the secret) and its public key.
    pub fn keyPair() Error!KeyPair {
        var kp: KeyPair = undefined;
        try check(c.dmp_ed25519_keypair(&kp.seed, &kp.public));
        return kp;
    }

    /// The public key of a seed.
    pub fn publicKey(seed: *const SecretKey) Error!PublicKey {
        var public: PublicKey = undefined;
        try check(c.dmp_ed25519_public(seed, &public));
        return public;
    }

    /// An RFC 8032 signature of `msg`. A message that begins with "DMP" is the protocol's own
    /// (a bundle's signature) and is refused: error.InvalidArgument.
    pub fn sign(seed: *const SecretKey, msg: []const u8) Error!Signature {
        var sig: Signature = undefined;
        try check(c.dmp_ed25519_sign(seed, inPtr(msg), msg.len, &sig));
        return sig;
    }

    /// Strict verification: success or `error.BadSignature`.
    pub fn verify(public: *const PublicKey, msg: []const u8, sig: *const Signature) Error!void {
        try check(c.dmp_ed25519_verify(public, inPtr(msg), msg.len, sig));
    }
};

/// HKDF-SHA256 (RFC 5869): fills `out` (at most `hkdf_max_len` bytes, else `error.TooLarge`).
/// An empty salt means a zero-filled salt.
pub fn hkdfSha256(salt: []const u8, ikm: []const u8, info: []const u8, out: []u8) Error!void {
    try check(c.dmp_hkdf_sha256(inPtr(salt), salt.len, inPtr(ikm), ikm.len, inPtr(info), info.len, outPtr(out), out.len));
}

/// The fingerprint of any agent id (`error.BadEnvelope` / `error.WeakKey` for a non-id).
pub fn fingerprint(agent_id: *const AgentId) Error!Fingerprint {
    var fp: Fingerprint = undefined;
    var n: usize = 0;
    try check(c.dmp_fingerprint(agent_id, &fp, fp.len, &n));
    if (n != fp.len) return error.Internal;
    return fp;
}

/// Verifies a prekey bundle (format, identity key, strict signature, no small-order prekey)
/// and returns its agent id.
pub fn verifyBundle(bundle: []const u8) Error!AgentId {
    var id: AgentId = undefined;
    try check(c.dmp_bundle_verify(inPtr(bundle), bundle.len, &id));
    return id;
}

// ---------------------------------------------------------------------------------------------
// Enumerations
// ---------------------------------------------------------------------------------------------

/// The key-agreement suite of an identity.
pub const Suite = enum(i32) {
    /// X25519 only (X3DH).
    classical = c.DMP_SUITE_CLASSICAL,
    /// X25519 and ML-KEM-768 (PQXDH-style): the default.
    hybrid = c.DMP_SUITE_HYBRID,
    _,
};

/// The lifecycle of a session. Non-exhaustive: later library versions may add states.
pub const SessionState = enum(i32) {
    dormant = c.DMP_SESSION_DORMANT,
    initiating = c.DMP_SESSION_INITIATING,
    active = c.DMP_SESSION_ACTIVE,
    closed = c.DMP_SESSION_CLOSED,
    _,
};

/// Padding of outgoing plaintexts.
pub const Padding = enum(i32) {
    /// Only a one-byte end marker.
    none = c.DMP_PADDING_NONE,
    /// Padded to size buckets (powers of two from 64 bytes).
    buckets = c.DMP_PADDING_BUCKETS,
};

/// The post-quantum policy of `Session.initiateWith` / `Session.acceptWith`.
pub const PqPolicy = enum(i32) {
    /// Classical-only bundles and first messages are refused (`error.PqRequired`). The default.
    require_hybrid = c.DMP_PQ_REQUIRE_HYBRID,
    /// Classical-only peers are accepted too (hybrid is still used when offered).
    allow_classical = c.DMP_PQ_ALLOW_CLASSICAL,
};

// ---------------------------------------------------------------------------------------------
// Identity
// ---------------------------------------------------------------------------------------------

/// An agent's identity: its Ed25519 identity key, signed prekeys and one-time prekeys.
pub const Identity = struct {
    handle: *c.dmp_identity_t,

    fn wrap(rc: i32, handle: ?*c.dmp_identity_t) Error!Identity {
        try check(rc);
        return .{ .handle = handle orelse return error.Internal };
    }

    /// A fresh random hybrid (X25519 + ML-KEM-768) identity.
    pub fn generate() Error!Identity {
        var h: ?*c.dmp_identity_t = null;
        return wrap(c.dmp_identity_generate(&h), h);
    }

    /// A fresh random identity of `suite`.
    pub fn generateWith(suite_: Suite) Error!Identity {
        var h: ?*c.dmp_identity_t = null;
        return wrap(c.dmp_identity_generate_with(@backingInt(suite_), &h), h);
    }

    /// The hybrid identity of a seed: same seed, same agent id (the prekeys are fresh each time).
    pub fn fromSeed(seed: *const [32]u8) Error!Identity {
        var h: ?*c.dmp_identity_t = null;
        return wrap(c.dmp_identity_from_seed(seed, &h), h);
    }

    /// The identity of `suite` for a seed.
    pub fn fromSeedWith(seed: *const [32]u8, suite_: Suite) Error!Identity {
        var h: ?*c.dmp_identity_t = null;
        return wrap(c.dmp_identity_from_seed_with(seed, @backingInt(suite_), &h), h);
    }

    /// Restores an identity from `serialize` output.
    pub fn deserialize(record: []const u8, storage_key: *const Key) Error!Identity {
        var h: ?*c.dmp_identity_t = null;
        return wrap(c.dmp_identity_deserialize(inPtr(record), record.len, storage_key, &h), h);
    }

    /// Releases the identity; its secrets are zeroized.
    pub fn deinit(self: *Identity) void {
        c.dmp_identity_free(self.handle);
        self.* = undefined;
    }

    pub fn suite(self: *const Identity) Error!Suite {
        var s: i32 = 0;
        try check(c.dmp_identity_suite(self.handle, &s));
        return @fromBackingInt(s);
    }

    /// The agent id (the Ed25519 public key).
    pub fn publicKey(self: *const Identity) Error!AgentId {
        var id: AgentId = undefined;
        try check(c.dmp_identity_public_key(self.handle, &id));
        return id;
    }

    pub fn fingerprint(self: *const Identity) Error!Fingerprint {
        var fp: Fingerprint = undefined;
        var n: usize = 0;
        try check(c.dmp_identity_fingerprint(self.handle, &fp, fp.len, &n));
        if (n != fp.len) return error.Internal;
        return fp;
    }

    /// Signs `msg` with the identity key (verifies with `ed25519.verify` under the agent id).
    /// `error.InvalidArgument` for a message that begins with "DMP": the protocol's own.
    pub fn sign(self: *const Identity, msg: []const u8) Error!Signature {
        var sig: Signature = undefined;
        try check(c.dmp_identity_sign(self.handle, inPtr(msg), msg.len, &sig));
        return sig;
    }

    /// The size `bundle` writes (a size query: no one-time prekey is handed out).
    pub fn bundleLen(self: *Identity, with_one_time_prekey: bool) Error!usize {
        var n: usize = 0;
        const rc = c.dmp_identity_bundle(self.handle, @intFromBool(with_one_time_prekey), null, 0, &n);
        if (rc == c.DMP_ERR_BUFFER_TOO_SMALL) return n;
        try check(rc);
        return n;
    }

    /// Writes a prekey bundle to publish into `out` (`bundle_max_len` bytes always suffice).
    /// With a one-time prekey, the oldest not handed out is included and marked handed out.
    pub fn bundle(self: *Identity, with_one_time_prekey: bool, out: []u8) Error![]u8 {
        var n: usize = 0;
        try check(c.dmp_identity_bundle(self.handle, @intFromBool(with_one_time_prekey), outPtr(out), out.len, &n));
        return out[0..n];
    }

    /// Replaces the signed prekey; returns the new id.
    pub fn rotateSignedPrekey(self: *Identity) Error!u32 {
        var id: u32 = 0;
        try check(c.dmp_identity_rotate_signed_prekey(self.handle, &id));
        return id;
    }

    pub fn signedPrekeyId(self: *const Identity) Error!u32 {
        var id: u32 = 0;
        try check(c.dmp_identity_signed_prekey_id(self.handle, &id));
        return id;
    }

    /// Generates `count` one-time prekeys (`error.TooLarge`, nothing generated, past the cap).
    pub fn generateOneTimePrekeys(self: *Identity, count: u32) Error!void {
        try check(c.dmp_identity_generate_one_time_prekeys(self.handle, count));
    }

    pub fn oneTimePrekeyCount(self: *const Identity) Error!u32 {
        var n: u32 = 0;
        try check(c.dmp_identity_one_time_prekey_count(self.handle, &n));
        return n;
    }

    /// The size `serialize` writes now.
    pub fn serializedLen(self: *const Identity, storage_key: *const Key) Error!usize {
        var n: usize = 0;
        const rc = c.dmp_identity_serialize(self.handle, storage_key, null, 0, &n);
        return sizeQuery(rc, n);
    }

    /// Writes the identity, with every prekey secret, encrypted under `storage_key`.
    pub fn serialize(self: *const Identity, storage_key: *const Key, out: []u8) Error![]u8 {
        var n: usize = 0;
        try check(c.dmp_identity_serialize(self.handle, storage_key, outPtr(out), out.len, &n));
        return out[0..n];
    }

    /// `serialize` into memory from `allocator` (the caller frees it).
    pub fn serializeAlloc(self: *const Identity, allocator: std.mem.Allocator, storage_key: *const Key) AllocError![]u8 {
        const Ctx = struct {
            h: *const c.dmp_identity_t,
            k: *const Key,
            fn call(ctx: @This(), out: ?[*]u8, cap: usize, n: *usize) i32 {
                return c.dmp_identity_serialize(ctx.h, ctx.k, out, cap, n);
            }
        };
        return fillAlloc(allocator, Ctx{ .h = self.handle, .k = storage_key });
    }
};

/// The size a size query (NULL out, capacity 0) reported.
fn sizeQuery(rc: i32, needed: usize) Error!usize {
    if (rc == c.DMP_ERR_BUFFER_TOO_SMALL or rc == c.DMP_OK) return needed;
    return errorFromStatus(rc);
}

// ---------------------------------------------------------------------------------------------
// Session
// ---------------------------------------------------------------------------------------------

/// A pairwise session: DORMANT -> INITIATING -> ACTIVE -> CLOSED.
pub const Session = struct {
    handle: *c.dmp_session_t,

    fn wrap(rc: i32, handle: ?*c.dmp_session_t) Error!Session {
        try check(rc);
        return .{ .handle = handle orelse return error.Internal };
    }

    /// Starts a session (DORMANT) from a peer's prekey bundle (verified first). Hybrid is
    /// required; see `initiateWith`.
    pub fn initiate(identity: *const Identity, bundle: []const u8) Error!Session {
        var h: ?*c.dmp_session_t = null;
        return wrap(c.dmp_session_initiate(identity.handle, inPtr(bundle), bundle.len, &h), h);
    }

    /// `initiate` with a post-quantum policy.
    pub fn initiateWith(identity: *const Identity, bundle: []const u8, policy: PqPolicy) Error!Session {
        var h: ?*c.dmp_session_t = null;
        return wrap(c.dmp_session_initiate_with(identity.handle, inPtr(bundle), bundle.len, @backingInt(policy), &h), h);
    }

    /// A session created from a peer's first message, and that message's plaintext.
    pub const Accepted = struct {
        session: Session,
        /// A slice of the caller's buffer (or, from `acceptAlloc`, owned by the caller).
        plaintext: []u8,
    };

    /// Creates the responder's session (ACTIVE) from a peer's first message, writing its
    /// plaintext to `pt_out` (`envelope.len` bytes always suffice). On
    /// `error.BufferTooSmall` nothing is created or consumed. Hybrid is required.
    pub fn accept(identity: *Identity, envelope: []const u8, pt_out: []u8) Error!Accepted {
        var h: ?*c.dmp_session_t = null;
        var n: usize = 0;
        const rc = c.dmp_session_accept(identity.handle, inPtr(envelope), envelope.len, &h, outPtr(pt_out), pt_out.len, &n);
        const s = try wrap(rc, h);
        return .{ .session = s, .plaintext = pt_out[0..n] };
    }

    /// `accept` with a post-quantum policy.
    pub fn acceptWith(identity: *Identity, envelope: []const u8, policy: PqPolicy, pt_out: []u8) Error!Accepted {
        var h: ?*c.dmp_session_t = null;
        var n: usize = 0;
        const rc = c.dmp_session_accept_with(identity.handle, inPtr(envelope), envelope.len, @backingInt(policy), &h, outPtr(pt_out), pt_out.len, &n);
        const s = try wrap(rc, h);
        return .{ .session = s, .plaintext = pt_out[0..n] };
    }

    /// `acceptWith`, the plaintext allocated from `allocator` (the caller frees it).
    pub fn acceptAlloc(allocator: std.mem.Allocator, identity: *Identity, envelope: []const u8, policy: PqPolicy) AllocError!Accepted {
        const Ctx = struct {
            id: *c.dmp_identity_t,
            env: []const u8,
            policy: i32,
            out: *?*c.dmp_session_t,
            fn call(ctx: @This(), out: ?[*]u8, cap: usize, n: *usize) i32 {
                return c.dmp_session_accept_with(ctx.id, inPtr(ctx.env), ctx.env.len, ctx.policy, ctx.out, out, cap, n);
            }
        };
        var h: ?*c.dmp_session_t = null;
        const pt = fillAlloc(allocator, Ctx{ .id = identity.handle, .env = envelope, .policy = @backingInt(policy), .out = &h }) catch |err| {
            c.dmp_session_free(h); // NULL unless the library created it and a later step failed
            return err;
        };
        errdefer allocator.free(pt);
        return .{ .session = try wrap(c.DMP_OK, h), .plaintext = pt };
    }

    /// Restores a session from `serialize` output.
    pub fn deserialize(record: []const u8, storage_key: *const Key) Error!Session {
        var h: ?*c.dmp_session_t = null;
        return wrap(c.dmp_session_deserialize(inPtr(record), record.len, storage_key, &h), h);
    }

    /// Releases the session; its keys are zeroized.
    pub fn deinit(self: *Session) void {
        c.dmp_session_free(self.handle);
        self.* = undefined;
    }

    /// The exact envelope size `encrypt` produces now for a `pt_len`-byte plaintext.
    pub fn encryptedLen(self: *const Session, pt_len: usize) Error!usize {
        var n: usize = 0;
        try check(c.dmp_session_encrypted_len(self.handle, pt_len, &n));
        return n;
    }

    /// Encrypts `pt` into an envelope for the peer, written to `out` (see `encryptedLen`).
    /// DORMANT becomes INITIATING.
    pub fn encrypt(self: *Session, pt: []const u8, out: []u8) Error![]u8 {
        var n: usize = 0;
        try check(c.dmp_session_encrypt(self.handle, inPtr(pt), pt.len, outPtr(out), out.len, &n));
        return out[0..n];
    }

    /// `encrypt` into memory from `allocator` (the caller frees it).
    pub fn encryptAlloc(self: *Session, allocator: std.mem.Allocator, pt: []const u8) AllocError![]u8 {
        const Ctx = struct {
            h: *c.dmp_session_t,
            pt: []const u8,
            fn call(ctx: @This(), out: ?[*]u8, cap: usize, n: *usize) i32 {
                return c.dmp_session_encrypt(ctx.h, inPtr(ctx.pt), ctx.pt.len, out, cap, n);
            }
        };
        return fillAlloc(allocator, Ctx{ .h = self.handle, .pt = pt });
    }

    /// Decrypts an envelope from the peer into `out` (`envelope.len` bytes always suffice) and
    /// returns the plaintext. INITIATING becomes ACTIVE. On any error the session is unchanged.
    pub fn decrypt(self: *Session, envelope: []const u8, out: []u8) Error![]u8 {
        var n: usize = 0;
        try check(c.dmp_session_decrypt(self.handle, inPtr(envelope), envelope.len, outPtr(out), out.len, &n));
        return out[0..n];
    }

    /// `decrypt` into memory from `allocator` (the caller frees it).
    pub fn decryptAlloc(self: *Session, allocator: std.mem.Allocator, envelope: []const u8) AllocError![]u8 {
        const Ctx = struct {
            h: *c.dmp_session_t,
            env: []const u8,
            fn call(ctx: @This(), out: ?[*]u8, cap: usize, n: *usize) i32 {
                return c.dmp_session_decrypt(ctx.h, inPtr(ctx.env), ctx.env.len, out, cap, n);
            }
        };
        return fillAlloc(allocator, Ctx{ .h = self.handle, .env = envelope });
    }

    /// The lifecycle state (works in every state).
    pub fn state(self: *const Session) Error!SessionState {
        var s: i32 = 0;
        try check(c.dmp_session_state(self.handle, &s));
        return @fromBackingInt(s);
    }

    /// The peer's agent id.
    pub fn peerId(self: *const Session) Error!AgentId {
        var peer: AgentId = undefined;
        try check(c.dmp_session_peer_id(self.handle, &peer));
        return peer;
    }

    /// The session id carried by every envelope of the session.
    pub fn id(self: *const Session) Error!SessionId {
        var sid: SessionId = undefined;
        try check(c.dmp_session_id(self.handle, &sid));
        return sid;
    }

    pub fn setPadding(self: *Session, mode: Padding) Error!void {
        try check(c.dmp_session_set_padding(self.handle, @backingInt(mode)));
    }

    /// Out-of-order limits: the largest forward jump (1 to DMP_MAX_FORWARD_JUMP_CEILING) and
    /// the cap on stored skipped keys (1 to DMP_MAX_SKIPPED_KEYS_CEILING).
    pub fn setLimits(self: *Session, max_forward_jump: u32, max_skipped_keys: u32) Error!void {
        try check(c.dmp_session_set_limits(self.handle, max_forward_jump, max_skipped_keys));
    }

    /// Erases every key; later calls but `state`, `peerId`, `id` and `deinit` are refused with
    /// `error.WrongState` (closing twice too).
    pub fn close(self: *Session) Error!void {
        try check(c.dmp_session_close(self.handle));
    }

    /// The size `serialize` writes now.
    pub fn serializedLen(self: *const Session, storage_key: *const Key) Error!usize {
        var n: usize = 0;
        const rc = c.dmp_session_serialize(self.handle, storage_key, null, 0, &n);
        return sizeQuery(rc, n);
    }

    /// Writes the session encrypted under `storage_key`.
    pub fn serialize(self: *const Session, storage_key: *const Key, out: []u8) Error![]u8 {
        var n: usize = 0;
        try check(c.dmp_session_serialize(self.handle, storage_key, outPtr(out), out.len, &n));
        return out[0..n];
    }

    /// `serialize` into memory from `allocator` (the caller frees it).
    pub fn serializeAlloc(self: *const Session, allocator: std.mem.Allocator, storage_key: *const Key) AllocError![]u8 {
        const Ctx = struct {
            h: *const c.dmp_session_t,
            k: *const Key,
            fn call(ctx: @This(), out: ?[*]u8, cap: usize, n: *usize) i32 {
                return c.dmp_session_serialize(ctx.h, ctx.k, out, cap, n);
            }
        };
        return fillAlloc(allocator, Ctx{ .h = self.handle, .k = storage_key });
    }
};

// ---------------------------------------------------------------------------------------------
// Group
// ---------------------------------------------------------------------------------------------

/// A Sender Keys group as one member sees it.
pub const Group = struct {
    handle: *c.dmp_group_t,

    fn wrap(rc: i32, handle: ?*c.dmp_group_t) Error!Group {
        try check(rc);
        return .{ .handle = handle orelse return error.Internal };
    }

    /// Our view of group `group_id` (any 32 bytes the members agree on): no other member yet,
    /// a fresh sender key (key id 1).
    pub fn create(identity: *const Identity, group_id: *const GroupId) Error!Group {
        var h: ?*c.dmp_group_t = null;
        return wrap(c.dmp_group_new(identity.handle, group_id, &h), h);
    }

    /// Restores a group from `serialize` output.
    pub fn deserialize(record: []const u8, storage_key: *const Key) Error!Group {
        var h: ?*c.dmp_group_t = null;
        return wrap(c.dmp_group_deserialize(inPtr(record), record.len, storage_key, &h), h);
    }

    /// Releases the group; its keys are zeroized.
    pub fn deinit(self: *Group) void {
        c.dmp_group_free(self.handle);
        self.* = undefined;
    }

    pub fn id(self: *const Group) Error!GroupId {
        var gid: GroupId = undefined;
        try check(c.dmp_group_id(self.handle, &gid));
        return gid;
    }

    /// Adds a member; then send it `distribution()` over the pairwise session.
    pub fn addMember(self: *Group, member: *const AgentId) Error!void {
        try check(c.dmp_group_add_member(self.handle, member));
    }

    /// Removes a member; our sender key rotates: send the new `distribution()` to the others.
    pub fn removeMember(self: *Group, member: *const AgentId) Error!void {
        try check(c.dmp_group_remove_member(self.handle, member));
    }

    /// How many other members the group has.
    pub fn memberCount(self: *const Group) Error!u32 {
        var n: u32 = 0;
        try check(c.dmp_group_member_count(self.handle, &n));
        return n;
    }

    /// Writes the other members' agent ids, in id order, into `out` (`memberCount()` entries).
    pub fn members(self: *const Group, out: []AgentId) Error![]AgentId {
        var n: usize = 0;
        const bytes = std.mem.sliceAsBytes(out);
        try check(c.dmp_group_members(self.handle, outPtr(bytes), bytes.len, &n));
        return out[0 .. n / public_key_len];
    }

    /// `members` into memory from `allocator` (the caller frees it).
    pub fn membersAlloc(self: *const Group, allocator: std.mem.Allocator) AllocError![]AgentId {
        const Ctx = struct {
            h: *const c.dmp_group_t,
            fn call(ctx: @This(), out: ?[*]u8, cap: usize, n: *usize) i32 {
                return c.dmp_group_members(ctx.h, out, cap, n);
            }
        };
        return idsAlloc(allocator, try fillAlloc(allocator, Ctx{ .h = self.handle }));
    }

    /// Our current sender key id (1 at creation, +1 per rotation).
    pub fn keyId(self: *const Group) Error!u32 {
        var n: u32 = 0;
        try check(c.dmp_group_key_id(self.handle, &n));
        return n;
    }

    /// Replaces our sender key; send the new `distribution()` to every member.
    pub fn rotate(self: *Group) Error!void {
        try check(c.dmp_group_rotate(self.handle));
    }

    /// Our sender-key distribution at the current iteration. Secret: send it to each member
    /// only inside their pairwise session.
    pub fn distribution(self: *const Group) Error!Distribution {
        var d: Distribution = undefined;
        var n: usize = 0;
        try check(c.dmp_group_distribution(self.handle, &d, d.len, &n));
        if (n != d.len) return error.Internal;
        return d;
    }

    /// Takes in a distribution that `sender` sent us over our pairwise session with it.
    pub fn processDistribution(self: *Group, sender: *const AgentId, dist: []const u8) Error!void {
        try check(c.dmp_group_process_distribution(self.handle, sender, inPtr(dist), dist.len));
    }

    /// The exact size `encrypt` produces for a `pt_len`-byte plaintext.
    pub fn encryptedLen(self: *const Group, pt_len: usize) Error!usize {
        var n: usize = 0;
        try check(c.dmp_group_encrypted_len(self.handle, pt_len, &n));
        return n;
    }

    /// Encrypts `pt` once for the whole group, signed, into `out` (see `encryptedLen`).
    pub fn encrypt(self: *Group, pt: []const u8, out: []u8) Error![]u8 {
        var n: usize = 0;
        try check(c.dmp_group_encrypt(self.handle, inPtr(pt), pt.len, outPtr(out), out.len, &n));
        return out[0..n];
    }

    /// `encrypt` into memory from `allocator` (the caller frees it).
    pub fn encryptAlloc(self: *Group, allocator: std.mem.Allocator, pt: []const u8) AllocError![]u8 {
        const Ctx = struct {
            h: *c.dmp_group_t,
            pt: []const u8,
            fn call(ctx: @This(), out: ?[*]u8, cap: usize, n: *usize) i32 {
                return c.dmp_group_encrypt(ctx.h, inPtr(ctx.pt), ctx.pt.len, out, cap, n);
            }
        };
        return fillAlloc(allocator, Ctx{ .h = self.handle, .pt = pt });
    }

    /// A decrypted group message.
    pub const Decrypted = struct {
        sender: AgentId,
        /// A slice of the caller's buffer (or, from `decryptAlloc`, owned by the caller).
        plaintext: []u8,
    };

    /// Decrypts a group message into `out` (`msg.len` bytes always suffice). On any error
    /// nothing changes.
    pub fn decrypt(self: *Group, msg: []const u8, out: []u8) Error!Decrypted {
        var d: Decrypted = .{ .sender = undefined, .plaintext = undefined };
        var n: usize = 0;
        try check(c.dmp_group_decrypt(self.handle, inPtr(msg), msg.len, &d.sender, outPtr(out), out.len, &n));
        d.plaintext = out[0..n];
        return d;
    }

    /// `decrypt`, the plaintext allocated from `allocator` (the caller frees it).
    pub fn decryptAlloc(self: *Group, allocator: std.mem.Allocator, msg: []const u8) AllocError!Decrypted {
        const Ctx = struct {
            h: *c.dmp_group_t,
            msg: []const u8,
            sender: *AgentId,
            fn call(ctx: @This(), out: ?[*]u8, cap: usize, n: *usize) i32 {
                return c.dmp_group_decrypt(ctx.h, inPtr(ctx.msg), ctx.msg.len, ctx.sender, out, cap, n);
            }
        };
        var sender: AgentId = undefined;
        const pt = try fillAlloc(allocator, Ctx{ .h = self.handle, .msg = msg, .sender = &sender });
        return .{ .sender = sender, .plaintext = pt };
    }

    pub fn setPadding(self: *Group, mode: Padding) Error!void {
        try check(c.dmp_group_set_padding(self.handle, @backingInt(mode)));
    }

    /// Out-of-order limits applied to every sender (ranges as `Session.setLimits`).
    pub fn setLimits(self: *Group, max_forward_jump: u32, max_skipped_keys: u32) Error!void {
        try check(c.dmp_group_set_limits(self.handle, max_forward_jump, max_skipped_keys));
    }

    /// The size `serialize` writes now.
    pub fn serializedLen(self: *const Group, storage_key: *const Key) Error!usize {
        var n: usize = 0;
        const rc = c.dmp_group_serialize(self.handle, storage_key, null, 0, &n);
        return sizeQuery(rc, n);
    }

    /// Writes the group (members, every sender key) encrypted under `storage_key`.
    pub fn serialize(self: *const Group, storage_key: *const Key, out: []u8) Error![]u8 {
        var n: usize = 0;
        try check(c.dmp_group_serialize(self.handle, storage_key, outPtr(out), out.len, &n));
        return out[0..n];
    }

    /// `serialize` into memory from `allocator` (the caller frees it).
    pub fn serializeAlloc(self: *const Group, allocator: std.mem.Allocator, storage_key: *const Key) AllocError![]u8 {
        const Ctx = struct {
            h: *const c.dmp_group_t,
            k: *const Key,
            fn call(ctx: @This(), out: ?[*]u8, cap: usize, n: *usize) i32 {
                return c.dmp_group_serialize(ctx.h, ctx.k, out, cap, n);
            }
        };
        return fillAlloc(allocator, Ctx{ .h = self.handle, .k = storage_key });
    }
};

// ---------------------------------------------------------------------------------------------
// Agent
// ---------------------------------------------------------------------------------------------

/// Options of `Agent.open` (the `DMP_AGENT_*` flags).
pub const AgentOptions = struct {
    /// Keep every received event until `Agent.ack` (see `pendingCount` / `pendingEvent`).
    retain_events: bool = false,
    /// Refuse sender keys for groups we were not added to by our own call (`groupAdd`).
    refuse_group_invites: bool = false,
    /// Accept classical-only (no ML-KEM) peers.
    allow_classical: bool = false,

    pub fn flags(self: AgentOptions) i32 {
        var f: i32 = 0;
        if (self.retain_events) f |= c.DMP_AGENT_RETAIN_EVENTS;
        if (self.refuse_group_invites) f |= c.DMP_AGENT_REFUSE_GROUP_INVITES;
        if (self.allow_classical) f |= c.DMP_AGENT_ALLOW_CLASSICAL;
        return f;
    }
};

/// What a received envelope was.
pub const EventKind = enum(i32) {
    /// A pairwise message (its plaintext in `Event.plaintext`).
    message = c.DMP_EVENT_MESSAGE,
    /// A group message (plaintext and `Event.groupId`).
    group_message = c.DMP_EVENT_GROUP_MESSAGE,
    /// A peer's sender key for a group was taken in.
    distribution_consumed = c.DMP_EVENT_DISTRIBUTION_CONSUMED,
    /// A peer set up a session without a message (`Agent.connect`).
    session_established = c.DMP_EVENT_SESSION_ESTABLISHED,
    _,
};

/// A received event. Release it with `deinit` (its plaintext is zeroized).
pub const Event = struct {
    handle: *c.dmp_event_t,

    pub fn deinit(self: *Event) void {
        c.dmp_event_free(self.handle);
        self.* = undefined;
    }

    pub fn kind(self: *const Event) Error!EventKind {
        var k: i32 = 0;
        try check(c.dmp_event_kind(self.handle, &k));
        return @fromBackingInt(k);
    }

    /// The (authenticated) agent the event came from.
    pub fn peer(self: *const Event) Error!AgentId {
        var p: AgentId = undefined;
        try check(c.dmp_event_peer(self.handle, &p));
        return p;
    }

    /// The group of a group event (`error.WrongState` for any other event).
    pub fn groupId(self: *const Event) Error!GroupId {
        var g: GroupId = undefined;
        try check(c.dmp_event_group_id(self.handle, &g));
        return g;
    }

    /// The size of the plaintext (0 unless a message).
    pub fn plaintextLen(self: *const Event) Error!usize {
        var n: usize = 0;
        const rc = c.dmp_event_plaintext(self.handle, null, 0, &n);
        return sizeQuery(rc, n);
    }

    /// Writes the plaintext into `out` (`plaintextLen()` bytes).
    pub fn plaintext(self: *const Event, out: []u8) Error![]u8 {
        var n: usize = 0;
        try check(c.dmp_event_plaintext(self.handle, outPtr(out), out.len, &n));
        return out[0..n];
    }

    /// `plaintext` into memory from `allocator` (the caller frees it).
    pub fn plaintextAlloc(self: *const Event, allocator: std.mem.Allocator) AllocError![]u8 {
        const Ctx = struct {
            h: *const c.dmp_event_t,
            fn call(ctx: @This(), out: ?[*]u8, cap: usize, n: *usize) i32 {
                return c.dmp_event_plaintext(ctx.h, out, cap, n);
            }
        };
        return fillAlloc(allocator, Ctx{ .h = self.handle });
    }

    pub const Seq = struct {
        /// The sequence number to `Agent.ack` a retained event with.
        seq: u64,
        /// Whether this event created a new session.
        new_session: bool,
    };

    pub fn seq(self: *const Event) Error!Seq {
        var s: u64 = 0;
        var fresh: i32 = 0;
        try check(c.dmp_event_seq(self.handle, &s, &fresh));
        return .{ .seq = s, .new_session = fresh != 0 };
    }

    /// Whether this event created a new group: a distribution for a group the agent did not
    /// hold, taken as an invitation (the peer is its only other member; our key is queued for
    /// it). Anyone who knows a group id can invite us into it first: check the peer, else
    /// `Agent.groupLeave`.
    pub fn newGroup(self: *const Event) Error!bool {
        var v: i32 = 0;
        try check(c.dmp_event_new_group(self.handle, &v));
        return v != 0;
    }
};

/// An agent: one identity with its sessions and groups, saved in a store encrypted with a
/// 32-byte storage key (or kept in memory). Every state change is saved before a call returns.
pub const Agent = struct {
    handle: *c.dmp_agent_t,

    fn wrap(rc: i32, handle: ?*c.dmp_agent_t) Error!Agent {
        try check(rc);
        return .{ .handle = handle orelse return error.Internal };
    }

    /// Opens the agent stored at `path` (created with a fresh hybrid identity if new); an empty
    /// path opens an agent in memory. The store stays locked until `deinit`.
    pub fn open(path: []const u8, storage_key: *const Key, options: AgentOptions) Error!Agent {
        var h: ?*c.dmp_agent_t = null;
        return wrap(c.dmp_agent_open(inPtr(path), path.len, storage_key, options.flags(), &h), h);
    }

    /// As `open`, with the identity of `seed` for a new store; an existing store must hold it.
    pub fn openWithSeed(path: []const u8, storage_key: *const Key, seed: *const [32]u8, options: AgentOptions) Error!Agent {
        var h: ?*c.dmp_agent_t = null;
        return wrap(c.dmp_agent_open_with_seed(inPtr(path), path.len, storage_key, seed, options.flags(), &h), h);
    }

    /// Closes the agent, releasing the store's lock; its secrets are zeroized.
    pub fn deinit(self: *Agent) void {
        c.dmp_agent_free(self.handle);
        self.* = undefined;
    }

    pub fn id(self: *const Agent) Error!AgentId {
        var a: AgentId = undefined;
        try check(c.dmp_agent_id(self.handle, &a));
        return a;
    }

    pub fn fingerprint(self: *const Agent) Error!Fingerprint {
        var fp: Fingerprint = undefined;
        var n: usize = 0;
        try check(c.dmp_agent_fingerprint(self.handle, &fp, fp.len, &n));
        if (n != fp.len) return error.Internal;
        return fp;
    }

    /// The size `bundle` writes (a size query: nothing is handed out).
    pub fn bundleLen(self: *Agent, with_one_time_prekey: bool) Error!usize {
        var n: usize = 0;
        const rc = c.dmp_agent_bundle(self.handle, @intFromBool(with_one_time_prekey), null, 0, &n);
        return sizeQuery(rc, n);
    }

    /// Writes the agent's prekey bundle to publish (`bundle_max_len` bytes always suffice).
    pub fn bundle(self: *Agent, with_one_time_prekey: bool, out: []u8) Error![]u8 {
        var n: usize = 0;
        try check(c.dmp_agent_bundle(self.handle, @intFromBool(with_one_time_prekey), outPtr(out), out.len, &n));
        return out[0..n];
    }

    /// Verifies and remembers a peer's bundle; returns the peer's id.
    pub fn addBundle(self: *Agent, peer_bundle: []const u8) Error!AgentId {
        var p: AgentId = undefined;
        try check(c.dmp_agent_add_bundle(self.handle, inPtr(peer_bundle), peer_bundle.len, &p));
        return p;
    }

    /// Encrypts `pt` for `peer` (starting a session from its bundle if needed) into `out`
    /// (`max_envelope_len` bytes always suffice; or use `sendAlloc`). `error.NoSession`
    /// without a session or a bundle. On `error.BufferTooSmall` nothing changed.
    pub fn send(self: *Agent, peer: *const AgentId, pt: []const u8, out: []u8) Error![]u8 {
        var n: usize = 0;
        try check(c.dmp_agent_send(self.handle, peer, inPtr(pt), pt.len, outPtr(out), out.len, &n));
        return out[0..n];
    }

    /// `send` into memory from `allocator` (the caller frees it).
    pub fn sendAlloc(self: *Agent, allocator: std.mem.Allocator, peer: *const AgentId, pt: []const u8) AllocError![]u8 {
        const Ctx = struct {
            h: *c.dmp_agent_t,
            peer: *const AgentId,
            pt: []const u8,
            fn call(ctx: @This(), out: ?[*]u8, cap: usize, n: *usize) i32 {
                return c.dmp_agent_send(ctx.h, ctx.peer, inPtr(ctx.pt), ctx.pt.len, out, cap, n);
            }
        };
        return fillAlloc(allocator, Ctx{ .h = self.handle, .peer = peer, .pt = pt });
    }

    /// Sets up a session with `peer` without a message; writes the envelope to send it.
    pub fn connect(self: *Agent, peer: *const AgentId, out: []u8) Error![]u8 {
        var n: usize = 0;
        try check(c.dmp_agent_connect(self.handle, peer, outPtr(out), out.len, &n));
        return out[0..n];
    }

    /// `connect` into memory from `allocator` (the caller frees it).
    pub fn connectAlloc(self: *Agent, allocator: std.mem.Allocator, peer: *const AgentId) AllocError![]u8 {
        const Ctx = struct {
            h: *c.dmp_agent_t,
            peer: *const AgentId,
            fn call(ctx: @This(), out: ?[*]u8, cap: usize, n: *usize) i32 {
                return c.dmp_agent_connect(ctx.h, ctx.peer, out, cap, n);
            }
        };
        return fillAlloc(allocator, Ctx{ .h = self.handle, .peer = peer });
    }

    /// Decrypts any envelope addressed to the agent (first message, pairwise or group) into an
    /// event. On any error nothing changes.
    pub fn receive(self: *Agent, envelope: []const u8) Error!Event {
        var e: ?*c.dmp_event_t = null;
        try check(c.dmp_agent_receive(self.handle, inPtr(envelope), envelope.len, &e));
        return .{ .handle = e orelse return error.Internal };
    }

    /// Retained, unacknowledged events (always 0 without `retain_events`).
    pub fn pendingCount(self: *const Agent) Error!usize {
        var n: usize = 0;
        try check(c.dmp_agent_pending_count(self.handle, &n));
        return n;
    }

    /// The `index`-th retained event (0 = oldest).
    pub fn pendingEvent(self: *const Agent, index: usize) Error!Event {
        var e: ?*c.dmp_event_t = null;
        try check(c.dmp_agent_pending_event(self.handle, index, &e));
        return .{ .handle = e orelse return error.Internal };
    }

    /// Forgets a retained event (by `Event.seq().seq`).
    pub fn ack(self: *Agent, seq: u64) Error!void {
        try check(c.dmp_agent_ack(self.handle, seq));
    }

    /// The peers the agent has a session with, in id order, into `out`.
    pub fn peers(self: *const Agent, out: []AgentId) Error![]AgentId {
        var n: usize = 0;
        const bytes = std.mem.sliceAsBytes(out);
        try check(c.dmp_agent_peers(self.handle, outPtr(bytes), bytes.len, &n));
        return out[0 .. n / public_key_len];
    }

    /// `peers` into memory from `allocator` (the caller frees it).
    pub fn peersAlloc(self: *const Agent, allocator: std.mem.Allocator) AllocError![]AgentId {
        const Ctx = struct {
            h: *const c.dmp_agent_t,
            fn call(ctx: @This(), out: ?[*]u8, cap: usize, n: *usize) i32 {
                return c.dmp_agent_peers(ctx.h, out, cap, n);
            }
        };
        return idsAlloc(allocator, try fillAlloc(allocator, Ctx{ .h = self.handle }));
    }

    /// The state of the primary session with `peer` (`error.NoSession` if none).
    pub fn sessionState(self: *const Agent, peer: *const AgentId) Error!SessionState {
        var s: i32 = 0;
        try check(c.dmp_agent_session_state(self.handle, peer, &s));
        return @fromBackingInt(s);
    }

    /// Periodic upkeep at `now_unix` (seconds since 1970): prekey rotation and replenishing,
    /// old sessions dropped.
    pub fn maintain(self: *Agent, now_unix: u64) Error!void {
        try check(c.dmp_agent_maintain(self.handle, now_unix));
    }

    /// Creates a group with a fresh random id and no other member.
    pub fn groupCreate(self: *Agent) Error!GroupId {
        var g: GroupId = undefined;
        try check(c.dmp_agent_group_create(self.handle, &g));
        return g;
    }

    /// Adds `peer` to the group; our sender key for it is queued in the outbox.
    pub fn groupAdd(self: *Agent, group_id: *const GroupId, peer: *const AgentId) Error!void {
        try check(c.dmp_agent_group_add(self.handle, group_id, peer));
    }

    /// Removes `peer`; our new sender key is queued in the outbox for the remaining members.
    pub fn groupRemove(self: *Agent, group_id: *const GroupId, peer: *const AgentId) Error!void {
        try check(c.dmp_agent_group_remove(self.handle, group_id, peer));
    }

    /// Forgets the group and every key in it; nothing is sent (members keep our last key until
    /// they remove us). The answer to an unwanted invitation (`Event.newGroup`).
    pub fn groupLeave(self: *Agent, group_id: *const GroupId) Error!void {
        try check(c.dmp_agent_group_leave(self.handle, group_id));
    }

    /// Encrypts `pt` once for the group into `out`; send it to every member.
    pub fn groupSend(self: *Agent, group_id: *const GroupId, pt: []const u8, out: []u8) Error![]u8 {
        var n: usize = 0;
        try check(c.dmp_agent_group_send(self.handle, group_id, inPtr(pt), pt.len, outPtr(out), out.len, &n));
        return out[0..n];
    }

    /// `groupSend` into memory from `allocator` (the caller frees it).
    pub fn groupSendAlloc(self: *Agent, allocator: std.mem.Allocator, group_id: *const GroupId, pt: []const u8) AllocError![]u8 {
        const Ctx = struct {
            h: *c.dmp_agent_t,
            g: *const GroupId,
            pt: []const u8,
            fn call(ctx: @This(), out: ?[*]u8, cap: usize, n: *usize) i32 {
                return c.dmp_agent_group_send(ctx.h, ctx.g, inPtr(ctx.pt), ctx.pt.len, out, cap, n);
            }
        };
        return fillAlloc(allocator, Ctx{ .h = self.handle, .g = group_id, .pt = pt });
    }

    /// The other members of the group, in id order, into `out`.
    pub fn groupMembers(self: *const Agent, group_id: *const GroupId, out: []AgentId) Error![]AgentId {
        var n: usize = 0;
        const bytes = std.mem.sliceAsBytes(out);
        try check(c.dmp_agent_group_members(self.handle, group_id, outPtr(bytes), bytes.len, &n));
        return out[0 .. n / public_key_len];
    }

    /// `groupMembers` into memory from `allocator` (the caller frees it).
    pub fn groupMembersAlloc(self: *const Agent, allocator: std.mem.Allocator, group_id: *const GroupId) AllocError![]AgentId {
        const Ctx = struct {
            h: *const c.dmp_agent_t,
            g: *const GroupId,
            fn call(ctx: @This(), out: ?[*]u8, cap: usize, n: *usize) i32 {
                return c.dmp_agent_group_members(ctx.h, ctx.g, out, cap, n);
            }
        };
        return idsAlloc(allocator, try fillAlloc(allocator, Ctx{ .h = self.handle, .g = group_id }));
    }

    /// How many envelopes wait in the outbox (sender keys queued by group operations).
    pub fn outboxCount(self: *const Agent) Error!usize {
        var n: usize = 0;
        try check(c.dmp_agent_outbox_count(self.handle, &n));
        return n;
    }

    /// An outbox entry: the envelope, its recipient and its number (for `outboxDone`).
    pub const OutboxItem = struct { peer: AgentId, envelope: []u8, seq: u64 };

    /// The oldest outbox entry, not removed: send `envelope` to `peer`, then
    /// `outboxDone(item.seq)`. `error.WrongState` when the outbox is empty.
    pub fn outboxNext(self: *const Agent, out: []u8) Error!OutboxItem {
        var item: OutboxItem = .{ .peer = undefined, .envelope = undefined, .seq = undefined };
        var n: usize = 0;
        try check(c.dmp_agent_outbox_next(self.handle, &item.peer, outPtr(out), out.len, &n, &item.seq));
        item.envelope = out[0..n];
        return item;
    }

    /// `outboxNext` into memory from `allocator` (the caller frees `envelope`).
    pub fn outboxNextAlloc(self: *const Agent, allocator: std.mem.Allocator) AllocError!OutboxItem {
        const Ctx = struct {
            h: *const c.dmp_agent_t,
            peer: *AgentId,
            seq: *u64,
            fn call(ctx: @This(), out: ?[*]u8, cap: usize, n: *usize) i32 {
                return c.dmp_agent_outbox_next(ctx.h, ctx.peer, out, cap, n, ctx.seq);
            }
        };
        var item: OutboxItem = .{ .peer = undefined, .envelope = undefined, .seq = undefined };
        item.envelope = try fillAlloc(allocator, Ctx{ .h = self.handle, .peer = &item.peer, .seq = &item.seq });
        return item;
    }

    /// Removes outbox entry `seq` (`OutboxItem.seq`: it was sent), and only that one, so that
    /// two threads draining one outbox never remove an envelope that was not sent. An entry
    /// already removed is fine (the receiver refuses a second copy as `error.Duplicate`);
    /// `error.InvalidArgument` for a number the outbox never gave.
    pub fn outboxDone(self: *Agent, seq: u64) Error!void {
        try check(c.dmp_agent_outbox_done(self.handle, seq));
    }

    /// Signs an application message as this agent: a plain Ed25519 signature that verifies
    /// under the agent id (`ed25519.verify`). `error.InvalidArgument` for a message that begins
    /// with "DMP" (reserved for the protocol's own signatures).
    pub fn sign(self: *const Agent, msg: []const u8) Error!Signature {
        var sig: Signature = undefined;
        try check(c.dmp_agent_sign(self.handle, inPtr(msg), msg.len, &sig));
        return sig;
    }

    /// Accepts a peer that started a session with us (a stranger): it is no longer one of the
    /// at most 1,000 strangers, dropped when idle or to make room. Sending to a peer, adding its
    /// bundle or adding it to a group accepts it too. `error.NoSession` if the agent knows
    /// nothing of the peer.
    pub fn acceptPeer(self: *Agent, peer: *const AgentId) Error!void {
        try check(c.dmp_agent_accept_peer(self.handle, peer));
    }

    /// Whether the peer is accepted (false: a stranger). `error.NoSession` if the agent knows
    /// nothing of the peer.
    pub fn isAccepted(self: *const Agent, peer: *const AgentId) Error!bool {
        var v: i32 = 0;
        try check(c.dmp_agent_is_accepted(self.handle, peer, &v));
        return v != 0;
    }

    /// Closes every session with the peer (keys erased). The peer stays known, so the next
    /// `send` starts a new session from its bundle; if that bundle carried a one-time prekey,
    /// the closed session used it: `addBundle` a current one first. `error.NoSession` if there
    /// is no session with the peer.
    pub fn closeSession(self: *Agent, peer: *const AgentId) Error!void {
        try check(c.dmp_agent_close_session(self.handle, peer));
    }

    /// Forgets the peer: every session with it (keys erased), its bundle and its acceptance;
    /// `send` is then `error.NoSession` until `addBundle`. Group memberships and outbox entries
    /// stay. `error.NoSession` if the agent knows nothing of the peer.
    pub fn forgetPeer(self: *Agent, peer: *const AgentId) Error!void {
        try check(c.dmp_agent_forget_peer(self.handle, peer));
    }

    /// The peers (in id order, into `out`) whose session we started has had no reply for 14
    /// days (the agent's `unanswered_session_secs`) at `now_unix`: fetch each one's current
    /// bundle, `addBundle` it and `closeSession`.
    pub fn unansweredPeers(self: *const Agent, now_unix: u64, out: []AgentId) Error![]AgentId {
        var n: usize = 0;
        const bytes = std.mem.sliceAsBytes(out);
        try check(c.dmp_agent_unanswered_peers(self.handle, now_unix, outPtr(bytes), bytes.len, &n));
        return out[0 .. n / public_key_len];
    }

    /// `unansweredPeers` into memory from `allocator` (the caller frees it).
    pub fn unansweredPeersAlloc(self: *const Agent, allocator: std.mem.Allocator, now_unix: u64) AllocError![]AgentId {
        const Ctx = struct {
            h: *const c.dmp_agent_t,
            now: u64,
            fn call(ctx: @This(), out: ?[*]u8, cap: usize, n: *usize) i32 {
                return c.dmp_agent_unanswered_peers(ctx.h, ctx.now, out, cap, n);
            }
        };
        return idsAlloc(allocator, try fillAlloc(allocator, Ctx{ .h = self.handle, .now = now_unix }));
    }
};

/// Reinterprets an allocation of 32-byte ids (alignment 1, so exact).
fn idsAlloc(allocator: std.mem.Allocator, bytes: []u8) AllocError![]AgentId {
    if (bytes.len % public_key_len != 0) {
        allocator.free(bytes);
        return error.Internal;
    }
    return std.mem.bytesAsSlice(AgentId, bytes);
}
