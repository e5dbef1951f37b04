"""Atomic ticket operations in Rasa's Redis lock store (bot/components/lock_store_patch.py, issue 13), on a real Redis."""
from __future__ import annotations

import threading
import uuid

import pytest
from rasa.core.lock_store import RedisLockStore

import bot.components  # noqa: F401  (what the Rasa server imports when it loads the model)
from bot.components import lock_store_patch
from tests.bot.test_guard import redis_client  # noqa: F401  (the fixture: Redis db 15, or a skip)

WORKERS, MESSAGES = 4, 250


def race(prefix: str, conversation: str) -> dict:
    """Rasa workers (a store, so a Redis connection, each) taking and serving tickets of one conversation at once.

    Counts the tickets lost (not in the lock just after being issued: that message fails) and whether a ticket was
    left in the lock when everyone was done (the next message would wait for it to expire)."""
    stores = [RedisLockStore(host="127.0.0.1", db=15, key_prefix=prefix) for _ in range(WORKERS)]
    found = {"lost": 0}
    guard = threading.Lock()

    def worker(store: RedisLockStore) -> None:
        for _ in range(MESSAGES):
            ticket = store.issue_ticket(conversation)
            lock = store.get_lock(conversation)
            with guard:
                found["lost"] += lock is None or ticket not in [t.number for t in lock.tickets]
            store.cleanup(conversation, ticket)

    threads = [threading.Thread(target=worker, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    left = stores[0].get_lock(conversation)
    return {"lost": found["lost"], "left": bool(left and left.tickets)}


@pytest.fixture
def prefix(redis_client):  # noqa: F811
    prefix = f"orientbottest{uuid.uuid4().hex}"
    yield prefix
    for key in redis_client.scan_iter(match=f"{prefix}:*"):
        redis_client.delete(key)


def test_the_patch_is_in_place_once_the_components_are_imported():
    assert lock_store_patch.installed()


def test_workers_racing_on_one_conversation_lose_no_ticket_and_leave_none(prefix):
    assert race(prefix, "eleve-1") == {"lost": 0, "left": False}


def test_rasas_own_lock_store_loses_tickets_in_the_same_race(prefix):
    lock_store_patch.uninstall()
    try:
        found = race(prefix, "eleve-2")
    finally:
        lock_store_patch.install()
    assert found["lost"] + found["left"] > 0
