"""Agents: one identity, many sessions and groups, persisted; and the events they receive."""

from __future__ import annotations

import os
import time
from ctypes import POINTER, byref, c_int32, c_size_t, c_uint64, create_string_buffer
from dataclasses import dataclass
from typing import Any, Callable, Union

from ._lib import dmp_agent_t, dmp_event_t, lib
from ._util import U64_MAX, BytesLike, Handle, as_bytes, call_out, fixed, fixed_out, int_in
from .constants import (
    BUNDLE_MAX_LEN,
    FINGERPRINT_LEN,
    GROUP_ID_LEN,
    KEY_LEN,
    PUBLIC_KEY_LEN,
    SECRET_KEY_LEN,
    SIGNATURE_LEN,
    AgentFlag,
    EventKind,
    SessionState,
)
from .crypto import random_bytes
from .errors import check
from .group import split_ids
from .identity import PrekeyBundle

__all__ = ["Agent", "Event", "OutboxEntry"]

PathLike = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]


@dataclass(frozen=True)
class Event:
    """What :meth:`Agent.receive` made of an envelope (read out of the C event, which is freed at
    once)."""

    kind: EventKind
    """MESSAGE, GROUP_MESSAGE, DISTRIBUTION_CONSUMED or SESSION_ESTABLISHED."""
    peer: bytes
    """The agent id it came from (authenticated)."""
    group_id: bytes | None
    """The group of a group event, else None."""
    plaintext: bytes
    """The message (empty unless MESSAGE or GROUP_MESSAGE)."""
    seq: int
    """Sequence number, for :meth:`Agent.ack` (with ``AgentFlag.RETAIN_EVENTS``)."""
    new_session: bool
    """Whether this envelope created a new session."""
    new_group: bool = False
    """Whether this envelope created a new group: a DISTRIBUTION_CONSUMED for a group the agent
    did not hold, taken as an invitation (``peer`` is its only other member, and our sender key
    is queued for it). Anyone who knows a group id can invite us into it first: check that
    ``peer`` is expected to invite us, else :meth:`Agent.group_leave`."""


@dataclass(frozen=True)
class OutboxEntry:
    """An envelope the agent queued (group operations queue sender keys), from
    :meth:`Agent.outbox_next`."""

    peer: bytes
    """The agent id to deliver it to."""
    envelope: bytes
    """The envelope to deliver."""
    seq: int
    """The entry's number: :meth:`Agent.outbox_done` it once delivered."""


_GROUP_KINDS = (EventKind.GROUP_MESSAGE, EventKind.DISTRIBUTION_CONSUMED)


def _take_event(ptr: Any, size_hint: int) -> Event:
    """Reads every field of a C event, then frees it (also on error)."""
    try:
        kind = c_int32()
        check(lib.dmp_event_kind(ptr, byref(kind)))
        k = EventKind(kind.value)
        peer = fixed_out(lib.dmp_event_peer, ptr, size=PUBLIC_KEY_LEN)
        gid = fixed_out(lib.dmp_event_group_id, ptr, size=GROUP_ID_LEN) if k in _GROUP_KINDS else None
        text = call_out(lib.dmp_event_plaintext, ptr, size=size_hint)
        seq = c_uint64()
        new = c_int32()
        check(lib.dmp_event_seq(ptr, byref(seq), byref(new)))
        new_group = c_int32()
        check(lib.dmp_event_new_group(ptr, byref(new_group)))
        return Event(k, peer, gid, text, seq.value, bool(new.value), bool(new_group.value))
    finally:
        lib.dmp_event_free(ptr)


def _flags(flags: object) -> int:
    return int_in(flags, "flags", 0, 0x7FFF_FFFF)


def _path(path: PathLike) -> bytes:
    p = os.fsencode(path)
    if not p:
        raise ValueError("path is empty (use Agent.in_memory() for an agent without a store)")
    if b"\0" in p:
        raise ValueError("path contains a NUL byte")
    return p


class Agent(Handle):
    """One identity behind many sessions and groups, persisted to an encrypted store (or kept in
    memory). Thread-safe: one Agent may be shared by many threads.

    Open with :meth:`open` (a store path: created if new, locked until :meth:`close`) or
    :meth:`in_memory`. Publish :meth:`bundle`; :meth:`add_bundle` a peer's; :meth:`send` and
    :meth:`receive` envelopes over any transport. Group operations queue envelopes in an outbox:
    deliver them with :meth:`outbox_next` / :meth:`outbox_done` (or :meth:`drain_outbox`).
    A peer known only because it started a session with us is a stranger (bounded in number,
    dropped when idle) until :meth:`accept_peer`, :meth:`send` or :meth:`add_bundle`.
    """

    _free_name = "dmp_agent_free"

    def __init__(self) -> None:
        raise TypeError("use Agent.open() or Agent.in_memory()")

    @classmethod
    def open(
        cls,
        path: PathLike,
        storage_key: BytesLike,
        *,
        flags: AgentFlag | int = AgentFlag.NONE,
        seed: BytesLike | None = None,
    ) -> Agent:
        """Opens the agent stored at ``path`` (created, with a fresh hybrid identity or the
        identity of the 32-byte ``seed``, if new). Raises WrongStorageKey, StoreLocked (open in
        another handle or process), StoreFailed (not a DMP store), InvalidArgument (``seed``
        differs from the stored identity)."""
        return cls._open(_path(path), storage_key, flags, seed)

    @classmethod
    def in_memory(
        cls,
        storage_key: BytesLike | None = None,
        *,
        flags: AgentFlag | int = AgentFlag.NONE,
        seed: BytesLike | None = None,
    ) -> Agent:
        """An agent without a store (its state is lost on close). ``storage_key`` defaults to a
        random one."""
        return cls._open(b"", random_bytes(KEY_LEN) if storage_key is None else storage_key, flags, seed)

    @classmethod
    def _open(cls, path: bytes, storage_key: BytesLike, flags: object, seed: BytesLike | None) -> Agent:
        k = fixed(storage_key, KEY_LEN, "storage_key")
        f = _flags(flags)
        out = POINTER(dmp_agent_t)()
        if seed is None:
            check(lib.dmp_agent_open(path or None, len(path), k, f, byref(out)))
        else:
            s = fixed(seed, SECRET_KEY_LEN, "seed")
            check(lib.dmp_agent_open_with_seed(path or None, len(path), k, s, f, byref(out)))
        return cls._adopt(out)

    # ---- identity ----

    @property
    def agent_id(self) -> bytes:
        with self._use() as p:
            return fixed_out(lib.dmp_agent_id, p, size=PUBLIC_KEY_LEN)

    @property
    def fingerprint(self) -> str:
        with self._use() as p:
            return call_out(lib.dmp_agent_fingerprint, p, size=FINGERPRINT_LEN).decode("ascii")

    def bundle(self, one_time_prekey: bool = True) -> bytes:
        """The prekey bundle to publish; with ``one_time_prekey`` a one-time prekey is handed out
        (and saved as such before this returns)."""
        flag = 1 if one_time_prekey else 0
        with self._use() as p:
            return call_out(lib.dmp_agent_bundle, p, flag, size=BUNDLE_MAX_LEN)

    def add_bundle(self, bundle: PrekeyBundle | BytesLike) -> bytes:
        """Verifies and remembers a peer's bundle (so :meth:`send` can start a session); returns
        the peer's id."""
        b = bundle.data if isinstance(bundle, PrekeyBundle) else as_bytes(bundle, "bundle")
        with self._use() as p:
            return fixed_out(lib.dmp_agent_add_bundle, p, b, len(b), size=PUBLIC_KEY_LEN)

    # ---- pairwise ----

    def send(self, peer: BytesLike, plaintext: BytesLike) -> bytes:
        """Encrypts for the peer over its primary session (started from its bundle if needed) and
        returns the envelope. NoSession if there is neither a session nor a bundle."""
        pid = fixed(peer, PUBLIC_KEY_LEN, "peer")
        pt = as_bytes(plaintext, "plaintext")
        with self._use() as p:
            # size=0: the C ABI's size query (NULL out, cap 0) first, then the exact size.
            return call_out(lib.dmp_agent_send, p, pid, pt, len(pt))

    def connect(self, peer: BytesLike) -> bytes:
        """Sets up a session with the peer without a message; returns the envelope (the peer's
        :meth:`receive` reports SESSION_ESTABLISHED)."""
        pid = fixed(peer, PUBLIC_KEY_LEN, "peer")
        with self._use() as p:
            return call_out(lib.dmp_agent_connect, p, pid)

    def receive(self, envelope: BytesLike) -> Event:
        """Decrypts any envelope addressed to this agent (pairwise, first message or group).
        On any error nothing changes."""
        env = as_bytes(envelope, "envelope")
        out = POINTER(dmp_event_t)()
        with self._use() as p:
            check(lib.dmp_agent_receive(p, env, len(env), byref(out)))
        return _take_event(out, len(env))

    def session_state(self, peer: BytesLike) -> SessionState:
        """The state of the primary session with the peer (NoSession if none)."""
        pid = fixed(peer, PUBLIC_KEY_LEN, "peer")
        with self._use() as p:
            v = c_int32()
            check(lib.dmp_agent_session_state(p, pid, byref(v)))
            return SessionState(v.value)

    @property
    def peers(self) -> list[bytes]:
        """The ids of the peers we have a session with, in id order."""
        with self._use() as p:
            return split_ids(call_out(lib.dmp_agent_peers, p))

    def maintain(self, now: int | None = None) -> None:
        """Periodic upkeep at ``now`` (Unix seconds; default: the current time): rotates the
        signed prekey when due, replenishes one-time prekeys, drops old non-primary sessions and
        strangers idle for too long (see :meth:`accept_peer`)."""
        t = int(time.time()) if now is None else int_in(now, "now", 0, U64_MAX)
        with self._use() as p:
            check(lib.dmp_agent_maintain(p, t))

    # ---- retained events (AgentFlag.RETAIN_EVENTS) ----

    @property
    def pending_count(self) -> int:
        with self._use() as p:
            v = c_size_t()
            check(lib.dmp_agent_pending_count(p, byref(v)))
            return v.value

    def pending_event(self, index: int) -> Event:
        """The ``index``-th retained, unacknowledged event (0 = oldest)."""
        i = int_in(index, "index", 0, (1 << 63) - 1)
        out = POINTER(dmp_event_t)()
        with self._use() as p:
            check(lib.dmp_agent_pending_event(p, i, byref(out)))
        return _take_event(out, 0)

    def pending_events(self) -> list[Event]:
        """Every retained, unacknowledged event, oldest first."""
        with self._use():
            return [self.pending_event(i) for i in range(self.pending_count)]

    def ack(self, seq: int) -> None:
        """Acknowledges a retained event by its ``Event.seq``: it is forgotten."""
        s = int_in(seq, "seq", 0, U64_MAX)
        with self._use() as p:
            check(lib.dmp_agent_ack(p, s))

    # ---- groups ----

    def group_create(self) -> bytes:
        """Creates a group with a fresh random id (returned) and no other member."""
        with self._use() as p:
            return fixed_out(lib.dmp_agent_group_create, p, size=GROUP_ID_LEN)

    def group_add(self, group_id: BytesLike, peer: BytesLike) -> None:
        """Adds the peer and queues our sender key for it in the outbox."""
        g = fixed(group_id, GROUP_ID_LEN, "group_id")
        pid = fixed(peer, PUBLIC_KEY_LEN, "peer")
        with self._use() as p:
            check(lib.dmp_agent_group_add(p, g, pid))

    def group_remove(self, group_id: BytesLike, peer: BytesLike) -> None:
        """Removes the peer; our sender key rotates and the new one is queued for every remaining
        member."""
        g = fixed(group_id, GROUP_ID_LEN, "group_id")
        pid = fixed(peer, PUBLIC_KEY_LEN, "peer")
        with self._use() as p:
            check(lib.dmp_agent_group_remove(p, g, pid))

    def group_leave(self, group_id: BytesLike) -> None:
        """Forgets the group and every key in it; nothing is sent (members keep our last key until
        they remove us). The answer to an unwanted invitation (``Event.new_group``). WrongSession
        if there is no such group."""
        g = fixed(group_id, GROUP_ID_LEN, "group_id")
        with self._use() as p:
            check(lib.dmp_agent_group_leave(p, g))

    def group_send(self, group_id: BytesLike, plaintext: BytesLike) -> bytes:
        """Encrypts once for the group; send the envelope to every member (:meth:`group_members`)."""
        g = fixed(group_id, GROUP_ID_LEN, "group_id")
        pt = as_bytes(plaintext, "plaintext")
        with self._use() as p:
            return call_out(lib.dmp_agent_group_send, p, g, pt, len(pt))

    def group_members(self, group_id: BytesLike) -> list[bytes]:
        """The other members of the group, in id order."""
        g = fixed(group_id, GROUP_ID_LEN, "group_id")
        with self._use() as p:
            return split_ids(call_out(lib.dmp_agent_group_members, p, g))

    # ---- outbox ----

    @property
    def outbox_count(self) -> int:
        """Envelopes waiting in the outbox."""
        with self._use() as p:
            v = c_size_t()
            check(lib.dmp_agent_outbox_count(p, byref(v)))
            return v.value

    def outbox_next(self) -> OutboxEntry | None:
        """The oldest outbox entry, without removing it, or None if the outbox is empty. Send
        ``entry.envelope`` to ``entry.peer``, then call :meth:`outbox_done` with ``entry.seq``."""
        with self._use() as p:
            if self.outbox_count == 0:
                return None
            peer = create_string_buffer(PUBLIC_KEY_LEN)
            seq = c_uint64()
            # seq_out comes after the (out, cap, out_len) triple that call_out appends.
            env = call_out(lambda *out: lib.dmp_agent_outbox_next(p, peer, *out, byref(seq)))
            return OutboxEntry(peer.raw, env, seq.value)

    def outbox_done(self, seq: int) -> None:
        """Removes outbox entry ``seq`` (``OutboxEntry.seq``: it was sent), and only that one.
        An entry already removed is fine (another thread sent it too; the receiver refuses the
        second copy as Duplicate). InvalidArgument for a number the outbox never gave."""
        s = int_in(seq, "seq", 0, U64_MAX)
        with self._use() as p:
            check(lib.dmp_agent_outbox_done(p, s))

    def drain_outbox(self, deliver: Callable[[bytes, bytes], object]) -> int:
        """Delivers the outbox, oldest first: calls ``deliver(peer, envelope)`` for each entry and
        removes the entry only after ``deliver`` returned (at least once: an entry whose
        delivery did not finish stays for the next drain). Stops, leaving the entry, when
        ``deliver`` returns ``False`` (e.g. the peer is offline) or raises (the exception
        propagates). Returns how many entries were delivered and removed.

        ``deliver`` runs without the agent's lock held, so it may use the agent (or another
        thread may drain too: then an envelope can go out twice, and the receiver refuses the
        second copy as Duplicate)."""
        if not callable(deliver):
            raise TypeError(f"deliver must be callable, not {type(deliver).__name__}")
        done = 0
        while (entry := self.outbox_next()) is not None:
            if deliver(entry.peer, entry.envelope) is False:
                break
            self.outbox_done(entry.seq)
            done += 1
        return done

    # ---- peers ----

    def sign(self, message: BytesLike) -> bytes:
        """A 64-byte Ed25519 signature of an application message by the agent's identity key: it
        verifies under :attr:`agent_id` with ``crypto.ed25519_verify`` (or any Ed25519 library).
        InvalidArgument for a message that begins with ``b"DMP"`` (reserved for the protocol's
        own signatures)."""
        m = as_bytes(message, "message")
        with self._use() as p:
            return fixed_out(lib.dmp_agent_sign, p, m, len(m), size=SIGNATURE_LEN)

    def accept_peer(self, peer: BytesLike) -> None:
        """Accepts a peer that started a session with us (a stranger): it is no longer one of the
        at most 1,000 strangers, dropped when idle or to make room. Sending to a peer, adding
        its bundle or adding it to a group accepts it too. NoSession if the agent knows nothing
        of the peer."""
        pid = fixed(peer, PUBLIC_KEY_LEN, "peer")
        with self._use() as p:
            check(lib.dmp_agent_accept_peer(p, pid))

    def is_accepted(self, peer: BytesLike) -> bool:
        """Whether the peer is accepted (False: a stranger). NoSession if the agent knows nothing
        of the peer."""
        pid = fixed(peer, PUBLIC_KEY_LEN, "peer")
        with self._use() as p:
            v = c_int32()
            check(lib.dmp_agent_is_accepted(p, pid, byref(v)))
            return bool(v.value)

    def close_session(self, peer: BytesLike) -> None:
        """Closes every session with the peer (keys erased). The peer stays known, so the next
        :meth:`send` starts a new session from its bundle (the peer sees ``new_session``); if
        that bundle carried a one-time prekey, the closed session used it: :meth:`add_bundle` a
        current bundle first, or the peer refuses the new session (UnknownPrekey). NoSession if
        there is no session with the peer."""
        pid = fixed(peer, PUBLIC_KEY_LEN, "peer")
        with self._use() as p:
            check(lib.dmp_agent_close_session(p, pid))

    def forget_peer(self, peer: BytesLike) -> None:
        """Forgets the peer: every session with it (keys erased), its bundle and its acceptance
        (a later :meth:`send` is NoSession until :meth:`add_bundle`). Group memberships and
        outbox entries stay. NoSession if the agent knows nothing of the peer."""
        pid = fixed(peer, PUBLIC_KEY_LEN, "peer")
        with self._use() as p:
            check(lib.dmp_agent_forget_peer(p, pid))

    def unanswered_peers(self, now: int | None = None) -> list[bytes]:
        """The peers, in id order, whose session we started has had no reply for the agent's
        ``unanswered_session_secs`` (14 days by default) at ``now`` (Unix seconds; default: the
        current time). For each: fetch its current bundle, :meth:`add_bundle` it and
        :meth:`close_session`."""
        t = int(time.time()) if now is None else int_in(now, "now", 0, U64_MAX)
        with self._use() as p:
            return split_ids(call_out(lib.dmp_agent_unanswered_peers, p, t))

    def __repr__(self) -> str:
        if self.closed:
            return "<dmp.Agent closed>"
        return f"<dmp.Agent {self.fingerprint}>"
