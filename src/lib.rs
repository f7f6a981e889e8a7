//! DMP, the Direct Messaging Protocol: end-to-end encrypted messaging between autonomous agents.
//!
//! Suite DMP1: X25519 and ML-KEM-768 (hybrid set-up), Ed25519 (strict), HKDF-SHA256/HMAC-SHA256,
//! XChaCha20-Poly1305.
//! docs/PROTOCOL.md is the byte-level specification; this crate reads against it.

#![forbid(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

pub mod agent;
pub mod crypto;
pub mod error;
pub mod ffi;
pub mod group;
pub mod handshake;
pub mod identity;
pub mod limits;
#[cfg(feature = "net")]
pub mod net;
pub mod prekey;
pub mod ratchet;
pub mod session;
pub mod state;
pub mod store;
pub mod wire;

/// Deterministic randomness and a fixed clock for the published test vectors (docs/vectors/).
/// Only with the `test-vectors` feature, which no shipped build enables: see the module.
#[cfg(feature = "test-vectors")]
pub mod vectors_support;

// The test-vector hooks replace the OS randomness: never in an optimized (shippable) build.
#[cfg(all(feature = "test-vectors", not(debug_assertions)))]
compile_error!(
    "the `test-vectors` feature is for the debug test profile only: never build a release with it"
);

pub use error::{Error, Result};

pub use agent::{Agent, AgentConfig, Event, EventKind, OutboxEntry};
pub use group::Group;
pub use identity::{AgentId, Identity, IdentityKeyPair};
pub use prekey::{PqPolicy, PrekeyBundle, Suite};
pub use ratchet::Limits;
pub use session::{Role, Session, SessionConfig, SessionState};
pub use state::StorageKey;
pub use wire::Padding;

/// The crate version, as `dmp_version()` reports it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
