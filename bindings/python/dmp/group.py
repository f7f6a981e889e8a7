"""Sender Keys groups, as one member sees them (the low-level API; ``Agent`` wraps it)."""

from __future__ import annotations

from ctypes import POINTER, byref, c_size_t, c_uint32, create_string_buffer, string_at

from ._lib import dmp_group_t, lib
from ._util import BytesLike, Handle, as_bytes, call_out, fixed, fixed_out, int_in
from .constants import (
    DISTRIBUTION_LEN,
    GROUP_ID_LEN,
    KEY_LEN,
    MAX_FORWARD_JUMP_CEILING,
    MAX_SKIPPED_KEYS_CEILING,
    PUBLIC_KEY_LEN,
    Padding,
)
from .crypto import random_bytes
from .errors import BufferTooSmall, check
from .identity import Identity

__all__ = ["Group"]


def split_ids(blob: bytes) -> list[bytes]:
    """32-byte ids packed one after another -> a list."""
    return [blob[i : i + PUBLIC_KEY_LEN] for i in range(0, len(blob), PUBLIC_KEY_LEN)]


class Group(Handle):
    """Our view of a group: the members, our sender key, and each member's sender key we took in.

    Flow: :meth:`create` (every member with the same 32-byte group id), :meth:`add_member` for
    each other member, send each of them :meth:`distribution` over the pairwise session, and
    :meth:`process_distribution` what they send back. :meth:`encrypt` once for the whole group;
    :meth:`decrypt` returns ``(sender_id, plaintext)``.
    """

    _free_name = "dmp_group_free"

    def __init__(self) -> None:
        raise TypeError("use Group.create() or Group.deserialize()")

    @classmethod
    def create(cls, identity: Identity, group_id: BytesLike | None = None) -> Group:
        """Our view of the group ``group_id`` (32 bytes the members agree on; random if None),
        with no other member yet and a fresh sender key (key id 1)."""
        gid = random_bytes(GROUP_ID_LEN) if group_id is None else fixed(group_id, GROUP_ID_LEN, "group_id")
        out = POINTER(dmp_group_t)()
        with identity._use() as ip:
            check(lib.dmp_group_new(ip, gid, byref(out)))
        return cls._adopt(out)

    @classmethod
    def deserialize(cls, record: BytesLike, storage_key: BytesLike) -> Group:
        r = as_bytes(record, "record")
        k = fixed(storage_key, KEY_LEN, "storage_key")
        out = POINTER(dmp_group_t)()
        check(lib.dmp_group_deserialize(r, len(r), k, byref(out)))
        return cls._adopt(out)

    @property
    def group_id(self) -> bytes:
        with self._use() as p:
            return fixed_out(lib.dmp_group_id, p, size=GROUP_ID_LEN)

    def add_member(self, member_id: BytesLike) -> None:
        """Adds a member; then send it :meth:`distribution` over your pairwise session."""
        m = fixed(member_id, PUBLIC_KEY_LEN, "member_id")
        with self._use() as p:
            check(lib.dmp_group_add_member(p, m))

    def remove_member(self, member_id: BytesLike) -> None:
        """Removes a member: its messages are refused (MemberRemoved) and our sender key rotates;
        send the new :meth:`distribution` to every remaining member."""
        m = fixed(member_id, PUBLIC_KEY_LEN, "member_id")
        with self._use() as p:
            check(lib.dmp_group_remove_member(p, m))

    @property
    def member_count(self) -> int:
        """Other members (oneself excluded)."""
        with self._use() as p:
            v = c_uint32()
            check(lib.dmp_group_member_count(p, byref(v)))
            return v.value

    @property
    def members(self) -> list[bytes]:
        """The other members' agent ids, in id order."""
        with self._use() as p:
            v = c_uint32()
            check(lib.dmp_group_member_count(p, byref(v)))
            return split_ids(call_out(lib.dmp_group_members, p, size=v.value * PUBLIC_KEY_LEN))

    @property
    def key_id(self) -> int:
        """Our current sender key id (1 at creation, +1 per rotation)."""
        with self._use() as p:
            v = c_uint32()
            check(lib.dmp_group_key_id(p, byref(v)))
            return v.value

    def rotate(self) -> None:
        """Replaces our sender key; send the new :meth:`distribution` to every member."""
        with self._use() as p:
            check(lib.dmp_group_rotate(p))

    def distribution(self) -> bytes:
        """Our sender-key distribution. Secret: send it only inside pairwise sessions."""
        with self._use() as p:
            return call_out(lib.dmp_group_distribution, p, size=DISTRIBUTION_LEN)

    def process_distribution(self, sender_id: BytesLike, distribution: BytesLike) -> None:
        """Takes in a distribution that ``sender_id`` sent us over our pairwise session with it."""
        s = fixed(sender_id, PUBLIC_KEY_LEN, "sender_id")
        d = as_bytes(distribution, "distribution")
        with self._use() as p:
            check(lib.dmp_group_process_distribution(p, s, d, len(d)))

    def encrypted_len(self, plaintext_len: int) -> int:
        n = int_in(plaintext_len, "plaintext_len", 0, (1 << 63) - 1)
        with self._use() as p:
            v = c_size_t()
            check(lib.dmp_group_encrypted_len(p, n, byref(v)))
            return v.value

    def encrypt(self, plaintext: BytesLike) -> bytes:
        """Encrypts once for the whole group, signed; send the envelope to every member."""
        pt = as_bytes(plaintext, "plaintext")
        with self._use() as p:
            v = c_size_t()
            check(lib.dmp_group_encrypted_len(p, len(pt), byref(v)))
            return call_out(lib.dmp_group_encrypt, p, pt, len(pt), size=v.value)

    def decrypt(self, envelope: BytesLike) -> tuple[bytes, bytes]:
        """Decrypts a group message: ``(sender_id, plaintext)``. Nothing changes on any error."""
        env = as_bytes(envelope, "envelope")
        cap = len(env)  # a plaintext is always shorter than its envelope
        with self._use() as p:
            for _ in range(4):
                sender = create_string_buffer(PUBLIC_KEY_LEN)
                out = create_string_buffer(cap) if cap else None
                n = c_size_t(0)
                rc = lib.dmp_group_decrypt(p, env, len(env), sender, out, cap, byref(n))
                if rc == BufferTooSmall.code and n.value > cap:
                    cap = n.value
                    continue
                break
            check(rc)
        return sender.raw, (string_at(out, n.value) if out is not None and n.value else b"")

    def set_padding(self, mode: Padding) -> None:
        if isinstance(mode, bool) or not isinstance(mode, int):
            raise TypeError(f"mode must be a Padding, not {type(mode).__name__}")
        with self._use() as p:
            check(lib.dmp_group_set_padding(p, int(mode)))

    def set_limits(self, max_forward_jump: int, max_skipped_keys: int) -> None:
        j = int_in(max_forward_jump, "max_forward_jump", 1, MAX_FORWARD_JUMP_CEILING)
        k = int_in(max_skipped_keys, "max_skipped_keys", 1, MAX_SKIPPED_KEYS_CEILING)
        with self._use() as p:
            check(lib.dmp_group_set_limits(p, j, k))

    def serialize(self, storage_key: BytesLike) -> bytes:
        """The group (members, every sender key), encrypted with the 32-byte storage key."""
        k = fixed(storage_key, KEY_LEN, "storage_key")
        with self._use() as p:
            return call_out(lib.dmp_group_serialize, p, k)

    def __repr__(self) -> str:
        if self.closed:
            return "<dmp.Group closed>"
        return f"<dmp.Group {self.group_id[:4].hex()}… members={self.member_count} key_id={self.key_id}>"
