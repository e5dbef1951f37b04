"""Atomic ticket operations in Rasa's Redis lock store (issue 13), patched into Rasa at import.

Rasa 3.6's ``RedisLockStore`` changes a conversation's lock by reading it, changing it in the process and writing
it back (``issue_ticket``, ``finish_serving``, ``update_lock``, ``cleanup``). With several Rasa workers, two messages
of one conversation can interleave those steps: a worker that finishes writes back a lock without the ticket another
worker has just added (that one then fails: "Could not acquire lock"), or a ticket already served is written back
and the next message waits for it to expire, 60 s (Rasa's lock lifetime), until Sanic cancels it ("a REST message
timed out": 1 of 1,245 messages, `load.py open --sessions 600 --rate 20` on `make run`, 2026-12-06). Here each of
those read-change-write steps holds a short Redis mutex of its conversation (``redis-py``'s ``Lock``: ``SET NX PX``,
released by a script that checks its token), so they follow one another; what they do is Rasa's own.

How it is applied: as ``validation_patch``, through ``bot/components/__init__.py``, which the Rasa server imports
when it loads the model. The in-memory lock store (one process) needs none of it.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator, Text

from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore

# How long one read-change-write may hold its conversation's mutex (a few Redis round trips on the same network,
# well under a millisecond on loopback), and how long another one waits for it before giving up with a LockError.
MUTEX_SECONDS = 5.0
WAIT_SECONDS = 5.0
MUTEX_SUFFIX = ":mutex"
# Rasa's own (``LockStore``'s, which ``RedisLockStore`` inherits).
ORIGINALS = {name: getattr(RedisLockStore, name) for name in ("issue_ticket", "finish_serving", "update_lock", "cleanup")}


@contextmanager
def _exclusive(store: RedisLockStore, conversation_id: Text) -> Iterator[None]:
    mutex = store.red.lock(store.key_prefix + conversation_id + MUTEX_SUFFIX, timeout=MUTEX_SECONDS,
                           blocking_timeout=WAIT_SECONDS)
    if not mutex.acquire():
        raise LockError(f"Could not change the lock of conversation '{conversation_id}': its mutex stayed taken.")
    try:
        yield
    finally:
        mutex.release()


def issue_ticket(self: RedisLockStore, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
    with _exclusive(self, conversation_id):
        return ORIGINALS["issue_ticket"](self, conversation_id, lock_lifetime)


def finish_serving(self: RedisLockStore, conversation_id: Text, ticket_number: int) -> None:
    with _exclusive(self, conversation_id):
        ORIGINALS["finish_serving"](self, conversation_id, ticket_number)


def update_lock(self: RedisLockStore, conversation_id: Text) -> None:
    with _exclusive(self, conversation_id):
        ORIGINALS["update_lock"](self, conversation_id)


def cleanup(self: RedisLockStore, conversation_id: Text, ticket_number: int) -> None:
    """Rasa's clean-up (the ticket served, the lock deleted when nobody waits) as one step."""
    with _exclusive(self, conversation_id):
        ORIGINALS["finish_serving"](self, conversation_id, ticket_number)
        if not self.is_someone_waiting(conversation_id):
            self.delete_lock(conversation_id)


PATCHED = {"issue_ticket": issue_ticket, "finish_serving": finish_serving, "update_lock": update_lock,
           "cleanup": cleanup}


def install() -> None:
    for name, method in PATCHED.items():
        setattr(RedisLockStore, name, method)


def uninstall() -> None:
    """Rasa's own methods back (to show the race they leave; tests only)."""
    for name in PATCHED:
        if RedisLockStore.__dict__.get(name) is PATCHED[name]:
            delattr(RedisLockStore, name)


def installed() -> bool:
    return all(RedisLockStore.__dict__.get(name) is method for name, method in PATCHED.items())


install()
