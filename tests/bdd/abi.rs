//! The C ABI as a C caller sees it: owned handles that free themselves, the size-query pattern
//! for outputs, status-code names, and the documented record format (to compare states).
//!
//! Every call here is one of the `unsafe extern "C"` functions of `dmp::ffi`, given raw pointers
//! and out-parameters exactly as a C caller would give them.

use std::ptr;

pub use dmp::ffi::agent::*;
pub use dmp::ffi::group::*;
pub use dmp::ffi::identity::*;
pub use dmp::ffi::raw::*;
pub use dmp::ffi::session::*;
pub use dmp::ffi::sizes::*;
pub use dmp::ffi::status::*;

/// Every status code of `dmp.h`, by its C name.
pub const STATUS_NAMES: &[(&str, i32)] = &[
    ("DMP_OK", DMP_OK),
    ("DMP_ERR_INTERNAL", DMP_ERR_INTERNAL),
    ("DMP_ERR_INVALID_ARGUMENT", DMP_ERR_INVALID_ARGUMENT),
    ("DMP_ERR_NULL_POINTER", DMP_ERR_NULL_POINTER),
    ("DMP_ERR_BUFFER_TOO_SMALL", DMP_ERR_BUFFER_TOO_SMALL),
    ("DMP_ERR_BAD_ENVELOPE", DMP_ERR_BAD_ENVELOPE),
    ("DMP_ERR_UNSUPPORTED_VERSION", DMP_ERR_UNSUPPORTED_VERSION),
    ("DMP_ERR_WRONG_MESSAGE_TYPE", DMP_ERR_WRONG_MESSAGE_TYPE),
    ("DMP_ERR_AUTH_FAILED", DMP_ERR_AUTH_FAILED),
    ("DMP_ERR_DUPLICATE", DMP_ERR_DUPLICATE),
    ("DMP_ERR_TOO_FAR_AHEAD", DMP_ERR_TOO_FAR_AHEAD),
    ("DMP_ERR_WRONG_SESSION", DMP_ERR_WRONG_SESSION),
    ("DMP_ERR_WRONG_STATE", DMP_ERR_WRONG_STATE),
    ("DMP_ERR_BAD_SIGNATURE", DMP_ERR_BAD_SIGNATURE),
    ("DMP_ERR_WEAK_KEY", DMP_ERR_WEAK_KEY),
    ("DMP_ERR_UNKNOWN_PREKEY", DMP_ERR_UNKNOWN_PREKEY),
    ("DMP_ERR_WRONG_STORAGE_KEY", DMP_ERR_WRONG_STORAGE_KEY),
    ("DMP_ERR_RANDOM_FAILURE", DMP_ERR_RANDOM_FAILURE),
    ("DMP_ERR_TOO_LARGE", DMP_ERR_TOO_LARGE),
    ("DMP_ERR_BAD_STATE", DMP_ERR_BAD_STATE),
    ("DMP_ERR_UNKNOWN_SENDER", DMP_ERR_UNKNOWN_SENDER),
    ("DMP_ERR_UNKNOWN_KEY_ID", DMP_ERR_UNKNOWN_KEY_ID),
    ("DMP_ERR_MEMBER_REMOVED", DMP_ERR_MEMBER_REMOVED),
    ("DMP_ERR_SUPERSEDED_KEY", DMP_ERR_SUPERSEDED_KEY),
    ("DMP_ERR_DOWNGRADE", DMP_ERR_DOWNGRADE),
    ("DMP_ERR_PQ_REQUIRED", DMP_ERR_PQ_REQUIRED),
    ("DMP_ERR_NO_SESSION", DMP_ERR_NO_SESSION),
    ("DMP_ERR_STORE_LOCKED", DMP_ERR_STORE_LOCKED),
    ("DMP_ERR_STORE_FAILED", DMP_ERR_STORE_FAILED),
    ("DMP_ERR_EXPIRED_BUNDLE", DMP_ERR_EXPIRED_BUNDLE),
];

/// The code of a status name used in a feature file.
pub fn code(name: &str) -> i32 {
    STATUS_NAMES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, c)| *c)
        .unwrap_or_else(|| panic!("{name} is not a status code of dmp.h"))
}

/// The C name of a status code, with the thread's last error detail when it is a failure.
pub fn describe(status: i32) -> String {
    let name = STATUS_NAMES.iter().find(|(_, c)| *c == status).map_or("an unknown code", |(n, _)| n);
    if status == DMP_OK {
        return format!("{name} ({status})");
    }
    // SAFETY: dmp_last_error_message never returns NULL; the string lives until the next
    // failing call on this thread, and is copied at once.
    let detail = unsafe { std::ffi::CStr::from_ptr(dmp_last_error_message()) }.to_string_lossy().into_owned();
    format!("{name} ({status}): {detail}")
}

/// Asserts that a call succeeded.
#[track_caller]
pub fn ok(status: i32, what: &str) {
    assert_eq!(status, DMP_OK, "{what} failed with {}", describe(status));
}

/// The session states by name.
pub fn state_code(name: &str) -> i32 {
    match name {
        "DORMANT" => DMP_SESSION_DORMANT,
        "INITIATING" => DMP_SESSION_INITIATING,
        "ACTIVE" => DMP_SESSION_ACTIVE,
        "CLOSED" => DMP_SESSION_CLOSED,
        other => panic!("{other} is not a session state"),
    }
}

/// The post-quantum policies by name.
pub fn policy_code(name: &str) -> i32 {
    match name {
        "DMP_PQ_REQUIRE_HYBRID" => DMP_PQ_REQUIRE_HYBRID,
        "DMP_PQ_ALLOW_CLASSICAL" => DMP_PQ_ALLOW_CLASSICAL,
        other => panic!("{other} is not a post-quantum policy"),
    }
}

/// A size constant by name, read through the ABI's size functions.
pub fn size_named(name: &str) -> usize {
    match name {
        "DMP_BUNDLE_LEN" => dmp_bundle_len(),
        "DMP_BUNDLE_MAX_LEN" => dmp_bundle_max_len(),
        "DMP_HYBRID_BUNDLE_LEN" => dmp_hybrid_bundle_len(),
        "DMP_MAX_PLAINTEXT_LEN" => dmp_max_plaintext_len(),
        "DMP_MAX_ENVELOPE_LEN" => dmp_max_envelope_len(),
        "DMP_DISTRIBUTION_LEN" => dmp_distribution_len(),
        other => panic!("{other} is not a size constant the steps know"),
    }
}

/// Reads a variable-size output the way a C caller who does not know its size does: asks with
/// `(NULL, 0)`, gets `DMP_ERR_BUFFER_TOO_SMALL` and the size needed, then calls again.
pub fn read_out(mut call: impl FnMut(*mut u8, usize, *mut usize) -> i32) -> Result<Vec<u8>, i32> {
    let mut needed = usize::MAX;
    let rc = call(ptr::null_mut(), 0, &mut needed);
    if rc == DMP_OK {
        assert_eq!(needed, 0, "a call with no room succeeded but reported {needed} bytes");
        return Ok(Vec::new());
    }
    if rc != DMP_ERR_BUFFER_TOO_SMALL {
        return Err(rc);
    }
    let mut buf = vec![0u8; needed];
    let mut written = usize::MAX;
    let rc = call(buf.as_mut_ptr(), buf.len(), &mut written);
    if rc != DMP_OK {
        return Err(rc);
    }
    assert_eq!(written, needed, "the size asked for differs from the size written");
    Ok(buf)
}

/// Reads an output into a buffer of `cap` bytes (a single call).
pub fn read_into(
    cap: usize,
    mut call: impl FnMut(*mut u8, usize, *mut usize) -> i32,
) -> Result<Vec<u8>, i32> {
    let mut buf = vec![0u8; cap];
    let mut written = usize::MAX;
    let rc = call(buf.as_mut_ptr(), buf.len(), &mut written);
    if rc != DMP_OK {
        return Err(rc);
    }
    assert!(written <= cap, "{written} bytes written into a buffer of {cap}");
    buf.truncate(written);
    Ok(buf)
}

macro_rules! owned_handle {
    ($name:ident, $raw:ty, $free:ident) => {
        /// An owned handle of the C ABI, released with its `dmp_*_free` when dropped.
        #[derive(Debug)]
        pub struct $name(pub *mut $raw);

        impl Drop for $name {
            fn drop(&mut self) {
                // The pointer came from the ABI's creating call (or is NULL) and is released
                // once, here (`dmp_*_free` takes any pointer).
                $free(self.0)
            }
        }
    };
}

owned_handle!(Identity, DmpIdentity, dmp_identity_free);
owned_handle!(Session, DmpSession, dmp_session_free);
owned_handle!(Group, DmpGroup, dmp_group_free);
owned_handle!(Agent, DmpAgent, dmp_agent_free);
owned_handle!(Event, DmpEvent, dmp_event_free);

/// The storage key of a name used in a feature file ("K1", "the right key", ...).
pub fn storage_key(name: &str) -> [u8; 32] {
    let mut key = [0u8; 32];
    for (i, b) in key.iter_mut().enumerate() {
        *b = name.bytes().fold(i as u8, |acc, c| acc.wrapping_mul(31).wrapping_add(c));
    }
    key
}

/// State record kinds (PROTOCOL.md section 11).
pub const RECORD_SESSION: u8 = 1;
pub const RECORD_IDENTITY: u8 = 2;
pub const RECORD_GROUP: u8 = 3;

/// Opens a state record with the documented format (`version || kind || nonce || ct || tag`,
/// AD = "DMP1 state" || version || kind) through `dmp_aead_open`: equal plaintexts mean equal
/// states, although every record is sealed under a fresh nonce.
pub fn open_record(key: &[u8; 32], kind: u8, record: &[u8]) -> Vec<u8> {
    assert!(record.len() > 2 && record[0] == 1 && record[1] == kind, "not a version-1 record of kind {kind}");
    let mut ad = b"DMP1 state".to_vec();
    ad.extend_from_slice(&[1, kind]);
    let sealed = &record[2..];
    read_out(|out, cap, len| {
        // SAFETY: every pointer is valid for the length given with it.
        unsafe {
            dmp_aead_open(key.as_ptr(), ad.as_ptr(), ad.len(), sealed.as_ptr(), sealed.len(), out, cap, len)
        }
    })
    .unwrap_or_else(|rc| panic!("the record does not open: {}", describe(rc)))
}

/// The key under which the steps seal the records they compare.
pub const SNAPSHOT_KEY: [u8; 32] = [0x5A; 32];

impl Identity {
    /// A fresh identity of `suite`.
    pub fn generate(suite: i32) -> Identity {
        let mut out = ptr::null_mut();
        // SAFETY: `out` is a valid pointer write.
        ok(unsafe { dmp_identity_generate_with(suite, &mut out) }, "dmp_identity_generate_with");
        Identity(out)
    }

    /// The identity of a seed.
    pub fn from_seed(seed: &[u8; 32], suite: i32) -> Identity {
        let mut out = ptr::null_mut();
        // SAFETY: 32 readable bytes; `out` a valid pointer write.
        ok(
            unsafe { dmp_identity_from_seed_with(seed.as_ptr(), suite, &mut out) },
            "dmp_identity_from_seed_with",
        );
        Identity(out)
    }

    /// The agent id.
    pub fn id(&self) -> [u8; 32] {
        let mut id = [0u8; 32];
        // SAFETY: live handle; 32 writable bytes.
        ok(unsafe { dmp_identity_public_key(self.0, id.as_mut_ptr()) }, "dmp_identity_public_key");
        id
    }

    /// A bundle to publish.
    pub fn bundle(&self, with_one_time_prekey: bool) -> Vec<u8> {
        let flag = i32::from(with_one_time_prekey);
        read_out(|out, cap, len| {
            // SAFETY: live handle; buffer and length valid.
            unsafe { dmp_identity_bundle(self.0, flag, out, cap, len) }
        })
        .unwrap_or_else(|rc| panic!("dmp_identity_bundle: {}", describe(rc)))
    }

    /// The plaintext of its record.
    pub fn snapshot(&self) -> Vec<u8> {
        let record = self
            .serialize(&SNAPSHOT_KEY)
            .unwrap_or_else(|rc| panic!("dmp_identity_serialize: {}", describe(rc)));
        open_record(&SNAPSHOT_KEY, RECORD_IDENTITY, &record)
    }

    /// Its record under `key`.
    pub fn serialize(&self, key: &[u8; 32]) -> Result<Vec<u8>, i32> {
        read_out(|out, cap, len| {
            // SAFETY: live handle; 32-byte key; buffer and length valid.
            unsafe { dmp_identity_serialize(self.0, key.as_ptr(), out, cap, len) }
        })
    }
}

/// What a C caller can observe of a session: its state, peer and id, and (unless CLOSED) the
/// plaintext of its record, which holds every key and counter.
#[derive(Debug, PartialEq, Eq)]
pub struct SessionView {
    pub state: i32,
    pub peer: [u8; 32],
    pub id: [u8; 16],
    pub record: Option<Vec<u8>>,
}

impl Session {
    /// Its lifecycle state.
    pub fn state(&self) -> i32 {
        let mut state = -1;
        // SAFETY: live handle; valid write.
        ok(unsafe { dmp_session_state(self.0, &mut state) }, "dmp_session_state");
        state
    }

    /// Its record under `key`.
    pub fn serialize(&self, key: &[u8; 32]) -> Result<Vec<u8>, i32> {
        read_out(|out, cap, len| {
            // SAFETY: live handle; 32-byte key; buffer and length valid.
            unsafe { dmp_session_serialize(self.0, key.as_ptr(), out, cap, len) }
        })
    }

    /// Everything observable about it.
    pub fn view(&self) -> SessionView {
        let mut peer = [0u8; 32];
        let mut id = [0u8; 16];
        // SAFETY: live handle; 32 and 16 writable bytes.
        ok(unsafe { dmp_session_peer_id(self.0, peer.as_mut_ptr()) }, "dmp_session_peer_id");
        // SAFETY: as above.
        ok(unsafe { dmp_session_id(self.0, id.as_mut_ptr()) }, "dmp_session_id");
        let record = match self.serialize(&SNAPSHOT_KEY) {
            Ok(r) => Some(open_record(&SNAPSHOT_KEY, RECORD_SESSION, &r)),
            Err(rc) if rc == DMP_ERR_WRONG_STATE => None,
            Err(rc) => panic!("dmp_session_serialize: {}", describe(rc)),
        };
        SessionView { state: self.state(), peer, id, record }
    }

    /// Encrypts into a buffer of exactly `dmp_session_encrypted_len` bytes.
    pub fn encrypt(&self, pt: &[u8]) -> Result<Vec<u8>, i32> {
        let mut needed = 0usize;
        // SAFETY: live handle; valid write.
        let rc = unsafe { dmp_session_encrypted_len(self.0, pt.len(), &mut needed) };
        if rc != DMP_OK {
            return Err(rc);
        }
        let out = read_into(needed, |out, cap, len| {
            // SAFETY: live handle; pt valid for its length; buffer and length valid.
            unsafe { dmp_session_encrypt(self.0, pt.as_ptr(), pt.len(), out, cap, len) }
        })?;
        assert_eq!(out.len(), needed, "dmp_session_encrypted_len differs from the envelope's length");
        Ok(out)
    }

    /// Decrypts into a buffer as large as the envelope (a plaintext is always smaller).
    pub fn decrypt(&self, envelope: &[u8]) -> Result<Vec<u8>, i32> {
        read_into(envelope.len(), |out, cap, len| {
            // SAFETY: live handle; envelope valid for its length; buffer and length valid.
            unsafe { dmp_session_decrypt(self.0, envelope.as_ptr(), envelope.len(), out, cap, len) }
        })
    }

    /// Restores a session record.
    pub fn deserialize(record: &[u8], key: &[u8; 32]) -> Result<Session, i32> {
        let mut out = ptr::null_mut();
        // SAFETY: record valid for its length; 32-byte key; `out` a valid pointer write.
        let rc = unsafe { dmp_session_deserialize(record.as_ptr(), record.len(), key.as_ptr(), &mut out) };
        if rc == DMP_OK { Ok(Session(out)) } else { Err(rc) }
    }
}

impl Group {
    /// The plaintext of its record.
    pub fn snapshot(&self) -> Vec<u8> {
        let record = self
            .serialize(&SNAPSHOT_KEY)
            .unwrap_or_else(|rc| panic!("dmp_group_serialize: {}", describe(rc)));
        open_record(&SNAPSHOT_KEY, RECORD_GROUP, &record)
    }

    /// Its record under `key`.
    pub fn serialize(&self, key: &[u8; 32]) -> Result<Vec<u8>, i32> {
        read_out(|out, cap, len| {
            // SAFETY: live handle; 32-byte key; buffer and length valid.
            unsafe { dmp_group_serialize(self.0, key.as_ptr(), out, cap, len) }
        })
    }

    /// Our current sender-key distribution.
    pub fn distribution(&self) -> Vec<u8> {
        read_out(|out, cap, len| {
            // SAFETY: live handle; buffer and length valid.
            unsafe { dmp_group_distribution(self.0, out, cap, len) }
        })
        .unwrap_or_else(|rc| panic!("dmp_group_distribution: {}", describe(rc)))
    }

    /// Encrypts once for the whole group, into a buffer of exactly `dmp_group_encrypted_len`.
    pub fn encrypt(&self, pt: &[u8]) -> Vec<u8> {
        let mut needed = 0usize;
        // SAFETY: live handle; valid write.
        ok(unsafe { dmp_group_encrypted_len(self.0, pt.len(), &mut needed) }, "dmp_group_encrypted_len");
        read_into(needed, |out, cap, len| {
            // SAFETY: live handle; pt valid; buffer and length valid.
            unsafe { dmp_group_encrypt(self.0, pt.as_ptr(), pt.len(), out, cap, len) }
        })
        .unwrap_or_else(|rc| panic!("dmp_group_encrypt: {}", describe(rc)))
    }

    /// Decrypts a group message: the sender's id and the plaintext.
    pub fn decrypt(&self, envelope: &[u8]) -> Result<([u8; 32], Vec<u8>), i32> {
        let mut sender = [0u8; 32];
        let pt = read_into(envelope.len(), |out, cap, len| {
            // SAFETY: live handle; envelope valid; 32 writable bytes; buffer and length valid.
            unsafe {
                dmp_group_decrypt(
                    self.0,
                    envelope.as_ptr(),
                    envelope.len(),
                    sender.as_mut_ptr(),
                    out,
                    cap,
                    len,
                )
            }
        })?;
        Ok((sender, pt))
    }

    /// Our current sender key id.
    pub fn key_id(&self) -> u32 {
        let mut id = 0u32;
        // SAFETY: live handle; valid write.
        ok(unsafe { dmp_group_key_id(self.0, &mut id) }, "dmp_group_key_id");
        id
    }
}

impl Agent {
    /// The agent id.
    pub fn id(&self) -> [u8; 32] {
        let mut id = [0u8; 32];
        // SAFETY: live handle; 32 writable bytes.
        ok(unsafe { dmp_agent_id(self.0, id.as_mut_ptr()) }, "dmp_agent_id");
        id
    }

    /// Opens (or creates) the agent at `path` ("" for an in-memory one).
    pub fn open(path: &str, key: &[u8; 32], flags: i32) -> Result<Agent, i32> {
        let mut out = ptr::null_mut();
        // SAFETY: path valid for its length (not NUL-terminated); 32-byte key; pointer write.
        let rc = unsafe { dmp_agent_open(path.as_ptr(), path.len(), key.as_ptr(), flags, &mut out) };
        if rc == DMP_OK {
            assert!(!out.is_null(), "dmp_agent_open succeeded with a NULL handle");
            Ok(Agent(out))
        } else {
            assert!(out.is_null(), "dmp_agent_open failed but left a handle behind");
            Err(rc)
        }
    }
}

impl Event {
    /// Kind, peer, group id (if a group event), plaintext, and whether it made a new session
    /// or a new group.
    pub fn read(&self) -> EventView {
        let mut kind = 0;
        let mut peer = [0u8; 32];
        let mut seq = 0u64;
        let mut new_session = -1;
        // SAFETY: live handle; valid writes.
        ok(unsafe { dmp_event_kind(self.0, &mut kind) }, "dmp_event_kind");
        // SAFETY: as above; 32 writable bytes.
        ok(unsafe { dmp_event_peer(self.0, peer.as_mut_ptr()) }, "dmp_event_peer");
        // SAFETY: as above.
        ok(unsafe { dmp_event_seq(self.0, &mut seq, &mut new_session) }, "dmp_event_seq");
        let mut new_group = -1;
        // SAFETY: as above.
        ok(unsafe { dmp_event_new_group(self.0, &mut new_group) }, "dmp_event_new_group");
        let mut gid = [0u8; 32];
        // SAFETY: as above.
        let group = match unsafe { dmp_event_group_id(self.0, gid.as_mut_ptr()) } {
            DMP_OK => Some(gid),
            DMP_ERR_WRONG_STATE => None,
            rc => panic!("dmp_event_group_id: {}", describe(rc)),
        };
        let plaintext = read_out(|out, cap, len| {
            // SAFETY: live handle; buffer and length valid.
            unsafe { dmp_event_plaintext(self.0, out, cap, len) }
        })
        .unwrap_or_else(|rc| panic!("dmp_event_plaintext: {}", describe(rc)));
        EventView { kind, peer, group, plaintext, new_session: new_session == 1, new_group: new_group == 1 }
    }
}

/// What an event says.
#[derive(Debug)]
pub struct EventView {
    pub kind: i32,
    pub peer: [u8; 32],
    pub group: Option<[u8; 32]>,
    pub plaintext: Vec<u8>,
    pub new_session: bool,
    pub new_group: bool,
}
