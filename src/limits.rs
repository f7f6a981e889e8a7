//! Every size and limit of DMP, named, in one place.
//!
//! The C ABI exports each of these as a `DMP_...` macro and a `dmp_..._len()` function.

/// Length of a symmetric key (storage key, AEAD key, chain key, root key).
pub const KEY_LEN: usize = 32;
/// Length of an X25519 or Ed25519 public key, and of an agent id.
pub const PUBLIC_KEY_LEN: usize = 32;
/// Length of an Ed25519 seed / X25519 secret.
pub const SECRET_KEY_LEN: usize = 32;
/// Length of an Ed25519 signature.
pub const SIGNATURE_LEN: usize = 64;
/// Length of the XChaCha20-Poly1305 nonce: random in raw seals and state records, all zero in
/// session messages (whose keys each seal one message; see `crypto::aead::seal_single_use_into`).
pub const NONCE_LEN: usize = 24;
/// Length of the Poly1305 authentication tag.
pub const TAG_LEN: usize = 16;
/// Bytes a raw AEAD seal adds to its plaintext: nonce then tag. (A session message adds only
/// the tag: its nonce is not sent.)
pub const AEAD_OVERHEAD: usize = NONCE_LEN + TAG_LEN;
/// Length of a session id (derived from the handshake's shared secret). Eight bytes: it only
/// routes an envelope to its session (the AEAD authenticates). A new session's id clashes with
/// one of an agent's n others with a chance of about n/2^64 (2^-50 at 16,384 sessions), and the
/// agent then starts another handshake rather than overwrite; every message saves 8 bytes.
pub const SESSION_ID_LEN: usize = 8;
/// Length of an agent's human-comparable fingerprint text, e.g. `"1a2b 3c4d ... 7e8f"`:
/// 16 bytes of hash as 8 groups of 4 hex digits separated by spaces.
pub const FINGERPRINT_LEN: usize = 39;

/// Length of a group id.
pub const GROUP_ID_LEN: usize = 32;
/// Most members a group holds (besides oneself).
pub const MAX_GROUP_MEMBERS: usize = 10_000;
/// Most groups an agent holds. Any peer with a session can invite the agent into a new group
/// (each invitation also queues an answer), so the number of groups must be bounded.
pub const MAX_AGENT_GROUPS: usize = 10_000;
/// Most strangers (peers not accepted) held at once. Each holds up to `MAX_SESSIONS_PER_PEER`
/// sessions limited to `STRANGER_MAX_SKIPPED_KEYS` skipped keys (~3 KB each): a flood of
/// throwaway identities costs at most ~13 MB, and a new stranger replaces the one least recently
/// heard from.
pub const MAX_STRANGERS: usize = 1_000;
/// Forward jump allowed in a session a stranger started (until the peer is accepted): an
/// initiator rarely sends more than a few messages before its first reply.
pub const STRANGER_MAX_FORWARD_JUMP: u32 = 32;
/// Skipped keys a stranger's session may hold (until the peer is accepted): about 70 bytes each,
/// so a stranger's session stays near 3 KB, and `MAX_STRANGERS` x 4 sessions near 13 MB.
pub const STRANGER_MAX_SKIPPED_KEYS: u32 = 32;
/// First messages remembered per signed prekey (their session ids), so that a replay is refused
/// (`Duplicate`) for as long as the prekey is held: nobody can flush another peer's entry, since
/// each prekey has its own set, erased with it. When the current prekey's set is full it is
/// rotated at once; a first message beyond a full set is refused (`UnknownPrekey`). 10,000 new
/// sessions per rotation period (a week by default) is far beyond an agent's normal rate.
pub const MAX_FIRST_MESSAGES_PER_PREKEY: usize = 10_000;
/// Most application secrets an agent holds (`Agent::set_secret`). They are keys of the layers
/// above the protocol (the network node's libp2p key, a few more), not data: a handful each, so
/// 16 is room to spare and keeps them all in memory at once without a thought.
pub const MAX_AGENT_SECRETS: usize = 16;
/// Longest label of an application secret, in bytes of `[a-z0-9._-]`: long enough for a
/// namespaced name (`net.libp2p-ed25519`), short enough that its record name (`secret/<label>`)
/// stays far below the store's `MAX_RECORD_NAME_LEN`.
pub const MAX_SECRET_LABEL_LEN: usize = 64;
/// Largest value of an application secret: a key or a seed is 32 to 64 bytes, an encoded key
/// pair a little more; 1 KiB holds any of them and bounds what the agent keeps (16 KiB in all).
pub const MAX_SECRET_LEN: usize = 1024;
/// Messages under a sender's newer key after which its replaced key is no longer accepted
/// (the grace window for group messages still in flight when the sender rotated).
pub const GROUP_KEY_GRACE_MESSAGES: u32 = 100;

/// Largest plaintext a pairwise message may carry (1 MiB). Bounds every allocation a peer can cause.
pub const MAX_PLAINTEXT_LEN: usize = 1 << 20;
/// Largest envelope `parse` accepts: room for the largest plaintext padded to its bucket
/// (`MAX_PLAINTEXT_LEN + 1` rounds up to 17 * 64 KiB) plus the largest header and AEAD overhead.
pub const MAX_ENVELOPE_LEN: usize = MAX_PLAINTEXT_LEN + 2 * PADDING_MAX_BUCKET;

/// Default for the largest forward jump within one receiving chain.
///
/// A peer (or an attacker forging a header) can make the receiver derive this many message keys
/// before the AEAD check fails; 1,000 HMACs is well under a millisecond. Agents exchange messages
/// over connections that rarely drop more than a handful, so 1,000 missing messages in one chain
/// means something is wrong. vodozemac allows 2,000, libsignal 25,000; callers with lossy transports
/// can raise it per session up to [`MAX_FORWARD_JUMP_CEILING`].
pub const DEFAULT_MAX_FORWARD_JUMP: u32 = 1_000;
/// Default cap on stored skipped message keys, over all chains (as libsignal's `MAX_MESSAGE_KEYS`).
///
/// Twice the forward jump: a message that starts a new chain may store up to two jumps' worth
/// (the tail of the old chain and the head of the new one), so a cap below that would evict keys
/// of the very step being taken. At about 70 bytes a key this bounds a session's skipped-key
/// memory to ~140 KB.
pub const DEFAULT_MAX_SKIPPED_KEYS: u32 = 2_000;
/// Hard ceiling for a configured forward jump (libsignal's value).
pub const MAX_FORWARD_JUMP_CEILING: u32 = 25_000;
/// Hard ceiling for a configured skipped-key cap.
pub const MAX_SKIPPED_KEYS_CEILING: u32 = 50_000;

/// One-time prekeys an identity holds at most; generating more is refused.
pub const MAX_ONE_TIME_PREKEYS: usize = 10_000;
/// Smallest padding bucket: padded plaintexts are at least this long.
pub const PADDING_MIN_BUCKET: usize = 64;
/// Above this size, padding rounds up to a multiple of it instead of to a power of two.
pub const PADDING_MAX_BUCKET: usize = 64 * 1024;
