//! Secrets are zeroized when dropped, shown with an allocator that inspects every freed block:
//! after a value holding a known secret is dropped, no freed heap block still contains it.
//! (A control with a plain `Vec` of the same bytes proves the inspection sees secrets.)

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

/// The byte a planted secret is made of (32 times), and whether a freed block still held it.
static WATCH: AtomicU8 = AtomicU8::new(0);
static SEEN: AtomicBool = AtomicBool::new(false);

struct Inspecting;

// SAFETY: delegates to the system allocator; dealloc only reads the block before freeing it.
unsafe impl GlobalAlloc for Inspecting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let b = WATCH.load(Ordering::Relaxed);
        if b != 0 && layout.size() >= 32 {
            // SAFETY: the block is still ours until System.dealloc below.
            let bytes = unsafe { std::slice::from_raw_parts(ptr, layout.size()) };
            if bytes.windows(32).any(|w| w.iter().all(|&x| x == b)) {
                SEEN.store(true, Ordering::Relaxed);
            }
        }
        // SAFETY: forwarded.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: Inspecting = Inspecting;

/// Runs `make` (which builds a heap value holding 32 bytes of `b`), drops its result, and
/// reports whether a freed block still held the secret.
fn leaks_after_drop<T>(b: u8, make: impl FnOnce() -> Box<T>) -> bool {
    let value = make();
    SEEN.store(false, Ordering::Relaxed);
    WATCH.store(b, Ordering::Relaxed);
    drop(value);
    WATCH.store(0, Ordering::Relaxed);
    SEEN.load(Ordering::Relaxed)
}

#[test]
fn dropped_secrets_leave_no_trace_in_freed_memory() {
    // Control: a plain Vec of the bytes is seen, so the inspection works.
    assert!(
        leaks_after_drop(0x3C, || Box::new(vec![0x3Cu8; 64])),
        "the inspecting allocator must see a plain secret"
    );

    // The identity seed (Ed25519 signing key and its X25519 form).
    assert!(!leaks_after_drop(0x5A, || Box::new(dmp::IdentityKeyPair::from_seed(&[0x5A; 32]))));
    // A storage key, an AEAD key, and the ratchet's key kinds.
    assert!(!leaks_after_drop(0x6B, || Box::new(dmp::StorageKey::from_bytes([0x6B; 32]))));
    assert!(!leaks_after_drop(0x7C, || Box::new(dmp::crypto::AeadKey::from_bytes([0x7C; 32]))));
    assert!(!leaks_after_drop(0x11, || Box::new(dmp::ratchet::keys::RootKey::from_bytes([0x11; 32]))));
    assert!(!leaks_after_drop(0x22, || Box::new(dmp::ratchet::keys::ChainKey::from_bytes([0x22; 32]))));
    assert!(!leaks_after_drop(0x33, || Box::new(dmp::ratchet::keys::MessageKey::from_bytes([0x33; 32]))));
    // An X25519 secret (its StaticSecret zeroizes itself).
    assert!(!leaks_after_drop(0x44, || Box::new(dmp::crypto::X25519SecretKey::from_bytes([0x44; 32]))));
    // An ML-KEM decapsulation key, kept expanded after decapsulating: the expansion ends with
    // z, the seed's second half, so a 32-byte run of the planted byte is there until cleared.
    assert!(!leaks_after_drop(0x66, || {
        let sk = dmp::crypto::kem::KemSecretKey::from_seed([0x66; 64]);
        let (ct, _) = sk.public_key().encapsulate().unwrap();
        sk.decapsulate(&ct);
        Box::new(sk)
    }));
    // A whole ratchet, loaded from a record whose root key, ratchet secret, both chain keys and
    // a skipped message key are each a planted byte: the state a session carries. Each is
    // watched in turn.
    for b in [0x55, 0x56, 0x57, 0x58, 0x59] {
        assert!(!leaks_after_drop(b, || Box::new(ratchet_with_planted_keys())), "ratchet key 0x{b:02x}");
    }
}

/// Runs `f` and reports whether a block freed meanwhile held 32 bytes of `b`. What `f` returns
/// (the buffer it wrote) is dropped after the watch.
fn leaks_during<T>(b: u8, f: impl FnOnce() -> T) -> bool {
    SEEN.store(false, Ordering::Relaxed);
    WATCH.store(b, Ordering::Relaxed);
    let kept = f();
    WATCH.store(0, Ordering::Relaxed);
    drop(kept);
    SEEN.load(Ordering::Relaxed)
}

#[test]
fn records_written_past_their_first_buffer_leave_no_trace() {
    // Control: a Vec that grows frees its old buffer with the secret in it.
    assert!(leaks_during(0x3D, || {
        let mut v: Vec<u8> = Vec::with_capacity(32);
        v.extend_from_slice(&[0x3D; 32]);
        v.extend_from_slice(&[0; 4096]);
        v
    }));
    // The Writer that state records are written with zeroizes what it outgrows.
    assert!(!leaks_during(0x4D, || {
        let mut w = dmp::wire::reader::Writer::with_capacity(32);
        w.bytes(&[0x4D; 32]).u8(1).u32(2).varint_u32(300).bytes(&[0; 4096]);
        w
    }));
    // A whole ratchet record (keys first, then skipped keys) written from a small buffer.
    let ratchet = ratchet_with_planted_keys();
    for b in [0x55, 0x57, 0x58, 0x59] {
        assert!(
            !leaks_during(b, || {
                let mut w = dmp::wire::reader::Writer::with_capacity(8);
                ratchet.encode(&mut w);
                w
            }),
            "ratchet key 0x{b:02x}"
        );
    }
}

#[test]
fn skipped_keys_moved_into_the_store_leave_no_copy_behind() {
    // The keys derived for a gap are collected, then moved into the store: the collecting
    // buffer is freed with their bytes unless cleared.
    use dmp::ratchet::skipped::{SkippedKey, SkippedKeys};
    let peer = dmp::crypto::X25519SecretKey::generate().unwrap().public_key();
    assert!(!leaks_during(0x61, || {
        let mut store = SkippedKeys::default();
        let fresh = (0..4)
            .map(|n| SkippedKey {
                ratchet_key: peer,
                message_number: n,
                key: dmp::ratchet::keys::MessageKey::from_bytes([0x61; 32]),
            })
            .collect();
        store.extend(fresh, 100);
        store
    }));
}

/// A ratchet decoded from a record (PROTOCOL section 12.1) with RK = 0x55.., DHs = 0x56..,
/// CKs = 0x57.., CKr = 0x58.. and one skipped MK = 0x59...
fn ratchet_with_planted_keys() -> dmp::ratchet::DoubleRatchet {
    let peer = dmp::crypto::X25519SecretKey::generate().unwrap().public_key();
    let mut rec = vec![0x55; 32]; // RK
    rec.push(1);
    rec.extend([0x56; 32]); // DHs (secret)
    rec.push(1);
    rec.extend(peer.as_bytes()); // DHr
    rec.push(1);
    rec.extend([0x57; 32]); // CKs
    rec.extend(3u32.to_be_bytes()); // Ns
    rec.push(1);
    rec.extend([0x58; 32]); // CKr
    rec.extend(5u32.to_be_bytes()); // Nr
    rec.extend(0u32.to_be_bytes()); // PN
    rec.extend(1_000u32.to_be_bytes()); // max forward jump
    rec.extend(2_000u32.to_be_bytes()); // max skipped keys
    rec.push(0); // old peer ratchet keys
    rec.extend(1u32.to_be_bytes()); // skipped keys
    rec.extend(peer.as_bytes());
    rec.extend(2u32.to_be_bytes());
    rec.extend([0x59; 32]); // MK
    let mut r = dmp::wire::reader::Reader::new(&rec);
    let ratchet = dmp::ratchet::DoubleRatchet::decode(&mut r).unwrap();
    r.finish().unwrap();
    assert_eq!(ratchet.skipped_key_count(), 1);
    ratchet
}
