"""Constants of the C ABI: enums for the ``DMP_*`` enumerations and flags, and the size limits.

The enum values are those of include/dmp.h (tests/test_constants.py checks every one). The sizes
are read from the library's size functions at import, so they are those of the library loaded.
The header's own names (``DMP_SESSION_ACTIVE``, ``DMP_KEY_LEN``...) are defined too.
"""

from __future__ import annotations

from enum import IntEnum, IntFlag

from ._lib import lib


class SessionState(IntEnum):
    """``DMP_SESSION_*``: the lifecycle state of a pairwise session."""

    DORMANT = 0
    """Created from a bundle; nothing sent yet."""
    INITIATING = 1
    """Sent at least one message; no reply decrypted yet."""
    ACTIVE = 2
    """A message from the peer has been decrypted."""
    CLOSED = 3
    """Keys erased; every call is refused with WrongState."""


class EventKind(IntEnum):
    """``DMP_EVENT_*``: what an envelope given to ``Agent.receive`` turned out to be."""

    MESSAGE = 1
    GROUP_MESSAGE = 2
    DISTRIBUTION_CONSUMED = 3
    SESSION_ESTABLISHED = 4


class Suite(IntEnum):
    """``DMP_SUITE_*``: the key-agreement suite of an identity."""

    CLASSICAL = 1
    """X25519 only (X3DH)."""
    HYBRID = 2
    """X25519 and ML-KEM-768 (PQXDH-style): the default."""


class PqPolicy(IntEnum):
    """``DMP_PQ_*``: whether a session set-up may be classical-only."""

    REQUIRE_HYBRID = 0
    ALLOW_CLASSICAL = 1


class Padding(IntEnum):
    """``DMP_PADDING_*``: padding of outgoing plaintexts."""

    NONE = 0
    BUCKETS = 1


class AgentFlag(IntFlag):
    """``DMP_AGENT_*``: flags of ``Agent.open``, combined with ``|``."""

    NONE = 0
    RETAIN_EVENTS = 1
    """Keep every received event until ``Agent.ack`` (at-least-once delivery across crashes)."""
    REFUSE_GROUP_INVITES = 2
    """Refuse sender keys for groups we were not added to by our own call."""
    ALLOW_CLASSICAL = 4
    """Accept classical-only (no ML-KEM) peers."""


# The header's names.
DMP_SESSION_DORMANT = SessionState.DORMANT
DMP_SESSION_INITIATING = SessionState.INITIATING
DMP_SESSION_ACTIVE = SessionState.ACTIVE
DMP_SESSION_CLOSED = SessionState.CLOSED
DMP_EVENT_MESSAGE = EventKind.MESSAGE
DMP_EVENT_GROUP_MESSAGE = EventKind.GROUP_MESSAGE
DMP_EVENT_DISTRIBUTION_CONSUMED = EventKind.DISTRIBUTION_CONSUMED
DMP_EVENT_SESSION_ESTABLISHED = EventKind.SESSION_ESTABLISHED
DMP_SUITE_CLASSICAL = Suite.CLASSICAL
DMP_SUITE_HYBRID = Suite.HYBRID
DMP_PQ_REQUIRE_HYBRID = PqPolicy.REQUIRE_HYBRID
DMP_PQ_ALLOW_CLASSICAL = PqPolicy.ALLOW_CLASSICAL
DMP_PADDING_NONE = Padding.NONE
DMP_PADDING_BUCKETS = Padding.BUCKETS
DMP_AGENT_RETAIN_EVENTS = AgentFlag.RETAIN_EVENTS
DMP_AGENT_REFUSE_GROUP_INVITES = AgentFlag.REFUSE_GROUP_INVITES
DMP_AGENT_ALLOW_CLASSICAL = AgentFlag.ALLOW_CLASSICAL

# The ABI version this binding was written for (DMP_ABI_VERSION of include/dmp.h).
ABI_VERSION = 2
DMP_ABI_VERSION = ABI_VERSION
DMP_OK = 0

# Sizes and limits, from the library's size functions.
KEY_LEN: int = lib.dmp_key_len()
PUBLIC_KEY_LEN: int = lib.dmp_public_key_len()
SECRET_KEY_LEN: int = lib.dmp_secret_key_len()
SIGNATURE_LEN: int = lib.dmp_signature_len()
SHARED_SECRET_LEN: int = lib.dmp_shared_secret_len()
NONCE_LEN: int = lib.dmp_nonce_len()
TAG_LEN: int = lib.dmp_tag_len()
AEAD_OVERHEAD: int = lib.dmp_aead_overhead()
SESSION_ID_LEN: int = lib.dmp_session_id_len()
FINGERPRINT_LEN: int = lib.dmp_fingerprint_len()
MAX_PLAINTEXT_LEN: int = lib.dmp_max_plaintext_len()
MAX_ENVELOPE_LEN: int = lib.dmp_max_envelope_len()
BUNDLE_LEN: int = lib.dmp_bundle_len()
BUNDLE_MAX_LEN: int = lib.dmp_bundle_max_len()
MESSAGE_HEADER_LEN: int = lib.dmp_message_header_len()
PREKEY_MESSAGE_HEADER_LEN: int = lib.dmp_prekey_message_header_len()
HKDF_MAX_LEN: int = lib.dmp_hkdf_max_len()
DEFAULT_MAX_FORWARD_JUMP: int = lib.dmp_default_max_forward_jump()
DEFAULT_MAX_SKIPPED_KEYS: int = lib.dmp_default_max_skipped_keys()
MAX_FORWARD_JUMP_CEILING: int = lib.dmp_max_forward_jump_ceiling()
MAX_SKIPPED_KEYS_CEILING: int = lib.dmp_max_skipped_keys_ceiling()
MAX_ONE_TIME_PREKEYS: int = lib.dmp_max_one_time_prekeys()
GROUP_ID_LEN: int = lib.dmp_group_id_len()
DISTRIBUTION_LEN: int = lib.dmp_distribution_len()
GROUP_MESSAGE_HEADER_LEN: int = lib.dmp_group_message_header_len()
MAX_GROUP_MEMBERS: int = lib.dmp_max_group_members()
GROUP_KEY_GRACE_MESSAGES: int = lib.dmp_group_key_grace_messages()
HYBRID_BUNDLE_LEN: int = lib.dmp_hybrid_bundle_len()
HYBRID_PREKEY_MESSAGE_HEADER_LEN: int = lib.dmp_hybrid_prekey_message_header_len()
KEM_PUBLIC_KEY_LEN: int = lib.dmp_kem_public_key_len()
KEM_CIPHERTEXT_LEN: int = lib.dmp_kem_ciphertext_len()

SIZE_NAMES = (
    "KEY_LEN",
    "PUBLIC_KEY_LEN",
    "SECRET_KEY_LEN",
    "SIGNATURE_LEN",
    "SHARED_SECRET_LEN",
    "NONCE_LEN",
    "TAG_LEN",
    "AEAD_OVERHEAD",
    "SESSION_ID_LEN",
    "FINGERPRINT_LEN",
    "MAX_PLAINTEXT_LEN",
    "MAX_ENVELOPE_LEN",
    "BUNDLE_LEN",
    "BUNDLE_MAX_LEN",
    "MESSAGE_HEADER_LEN",
    "PREKEY_MESSAGE_HEADER_LEN",
    "HKDF_MAX_LEN",
    "DEFAULT_MAX_FORWARD_JUMP",
    "DEFAULT_MAX_SKIPPED_KEYS",
    "MAX_FORWARD_JUMP_CEILING",
    "MAX_SKIPPED_KEYS_CEILING",
    "MAX_ONE_TIME_PREKEYS",
    "GROUP_ID_LEN",
    "DISTRIBUTION_LEN",
    "GROUP_MESSAGE_HEADER_LEN",
    "MAX_GROUP_MEMBERS",
    "GROUP_KEY_GRACE_MESSAGES",
    "HYBRID_BUNDLE_LEN",
    "HYBRID_PREKEY_MESSAGE_HEADER_LEN",
    "KEM_PUBLIC_KEY_LEN",
    "KEM_CIPHERTEXT_LEN",
)
"""The size constants above; each is also defined as ``DMP_<name>``."""

# The header's names of the sizes.
DMP_KEY_LEN = KEY_LEN
DMP_PUBLIC_KEY_LEN = PUBLIC_KEY_LEN
DMP_SECRET_KEY_LEN = SECRET_KEY_LEN
DMP_SIGNATURE_LEN = SIGNATURE_LEN
DMP_SHARED_SECRET_LEN = SHARED_SECRET_LEN
DMP_NONCE_LEN = NONCE_LEN
DMP_TAG_LEN = TAG_LEN
DMP_AEAD_OVERHEAD = AEAD_OVERHEAD
DMP_SESSION_ID_LEN = SESSION_ID_LEN
DMP_FINGERPRINT_LEN = FINGERPRINT_LEN
DMP_MAX_PLAINTEXT_LEN = MAX_PLAINTEXT_LEN
DMP_MAX_ENVELOPE_LEN = MAX_ENVELOPE_LEN
DMP_BUNDLE_LEN = BUNDLE_LEN
DMP_BUNDLE_MAX_LEN = BUNDLE_MAX_LEN
DMP_MESSAGE_HEADER_LEN = MESSAGE_HEADER_LEN
DMP_PREKEY_MESSAGE_HEADER_LEN = PREKEY_MESSAGE_HEADER_LEN
DMP_HKDF_MAX_LEN = HKDF_MAX_LEN
DMP_DEFAULT_MAX_FORWARD_JUMP = DEFAULT_MAX_FORWARD_JUMP
DMP_DEFAULT_MAX_SKIPPED_KEYS = DEFAULT_MAX_SKIPPED_KEYS
DMP_MAX_FORWARD_JUMP_CEILING = MAX_FORWARD_JUMP_CEILING
DMP_MAX_SKIPPED_KEYS_CEILING = MAX_SKIPPED_KEYS_CEILING
DMP_MAX_ONE_TIME_PREKEYS = MAX_ONE_TIME_PREKEYS
DMP_GROUP_ID_LEN = GROUP_ID_LEN
DMP_DISTRIBUTION_LEN = DISTRIBUTION_LEN
DMP_GROUP_MESSAGE_HEADER_LEN = GROUP_MESSAGE_HEADER_LEN
DMP_MAX_GROUP_MEMBERS = MAX_GROUP_MEMBERS
DMP_GROUP_KEY_GRACE_MESSAGES = GROUP_KEY_GRACE_MESSAGES
DMP_HYBRID_BUNDLE_LEN = HYBRID_BUNDLE_LEN
DMP_HYBRID_PREKEY_MESSAGE_HEADER_LEN = HYBRID_PREKEY_MESSAGE_HEADER_LEN
DMP_KEM_PUBLIC_KEY_LEN = KEM_PUBLIC_KEY_LEN
DMP_KEM_CIPHERTEXT_LEN = KEM_CIPHERTEXT_LEN
