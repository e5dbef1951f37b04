"""Rasa's SQLite tracker store keeping its connections, without an fsync per commit (bot/components/tracker_store_patch.py, issue 13)."""
from __future__ import annotations

import asyncio
import sqlite3

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from sqlalchemy.pool import QueuePool

import bot.components  # noqa: F401  (what the Rasa server imports when it loads the model)
from bot.components import tracker_store_patch
from orientbot.db import _synchronous_normal

NORMAL = 1


def test_the_patch_is_in_place_once_the_components_are_imported():
    assert tracker_store_patch.installed()
    assert SQLTrackerStore.session_scope is tracker_store_patch.session_scope


def test_a_store_made_before_the_patch_writes_with_synchronous_normal(tmp_path, monkeypatch):
    path = tmp_path / "tracker.db"
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=WAL")  # scripts/workers.py, before the Rasa workers start
    connection.close()
    # Rasa makes its tracker store before it loads the model (and imports bot.components): Rasa's own method here.
    monkeypatch.setattr(SQLTrackerStore, "session_scope", tracker_store_patch.ORIGINAL)
    store = SQLTrackerStore(dialect="sqlite", db=str(path))
    monkeypatch.setattr(SQLTrackerStore, "session_scope", tracker_store_patch.session_scope)
    seen = []

    @sa.event.listens_for(store.engine, "checkout")
    def _record(dbapi_connection, _record, _proxy):  # each connection the store's sessions use, once connected
        seen.append(dbapi_connection.execute("PRAGMA synchronous").fetchone()[0])

    tracker = DialogueStateTracker.from_events("s1", [UserUttered("bonjour")])
    asyncio.run(store.save(tracker))
    assert asyncio.run(store.retrieve("s1")).latest_message.text == "bonjour"
    with store.session_scope() as session:
        assert session.execute(sa.text("PRAGMA synchronous")).scalar() == NORMAL
    assert seen and set(seen) == {NORMAL}
    assert isinstance(store.engine.pool, QueuePool)  # one connection kept, not one opened per session
    store.engine.dispose()


def test_a_postgresql_tracker_store_gets_nothing():
    store = SQLTrackerStore.__new__(SQLTrackerStore)  # its engine, never connected (no server needed)
    store.engine = sa.create_engine("postgresql://bot:secret@127.0.0.1:1/tracker")
    store.sessionmaker = sa.orm.sessionmaker(bind=store.engine)
    pool = store.engine.pool
    with store.session_scope():
        pass
    assert not sa.event.contains(store.engine, "connect", _synchronous_normal)
    assert store.engine.pool is pool


def conversation_in_two_sessions():
    """Events of two sessions of one sender, saved after each message as Rasa does."""
    from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet

    def message(text, at):
        return [UserUttered(text, {"name": "faq", "confidence": 0.9}, timestamp=at),
                SlotSet("audience", "eleve", timestamp=at + 0.1), ActionExecuted("action_answer", timestamp=at + 0.2),
                BotUttered(f"réponse à « {text} »", {"custom": {"answer": {"kb_id": "k1"}}}, timestamp=at + 0.3),
                ActionExecuted("action_listen", timestamp=at + 0.4)]

    first = [ActionExecuted("action_session_start", timestamp=1.0), SessionStarted(timestamp=1.0),
             ActionExecuted("action_listen", timestamp=1.0)]
    second = [ActionExecuted("action_session_start", timestamp=100.0), SessionStarted(timestamp=100.0),
              SlotSet("audience", "eleve", timestamp=100.0), ActionExecuted("action_listen", timestamp=100.0)]
    return [first + message("bonjour", 2.0), message("et le bac pro ?", 3.0), [UserUttered("sans intention", timestamp=4.0)],
            second + message("les bourses ?", 101.0), message("merci", 102.0)]


RASAS_OWN = {"session_scope": tracker_store_patch.ORIGINAL, "save": tracker_store_patch.ORIGINAL_SAVE,
             "_retrieve": tracker_store_patch.ORIGINAL_RETRIEVE,
             "_additional_events": tracker_store_patch.ORIGINAL_ADDITIONAL_EVENTS}


def stored_rows(store):
    with store.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(sa.text(
            "SELECT id, sender_id, type_name, timestamp, intent_name, action_name, data FROM events ORDER BY id"))]


def test_the_same_rows_and_trackers_as_rasas_own_methods(tmp_path, monkeypatch):
    from rasa.shared.core.domain import Domain

    domain = Domain.from_yaml("slots:\n  audience:\n    type: text\n    mappings: [{type: custom}]\n")
    stores = {}
    for name, patched in (("rasa", False), ("patched", True)):
        path = tmp_path / f"{name}.db"
        connection = sqlite3.connect(path)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.close()
        for method, original in RASAS_OWN.items():
            monkeypatch.setattr(SQLTrackerStore, method, getattr(tracker_store_patch, method) if patched else original)
        store = SQLTrackerStore(domain=domain, dialect="sqlite", db=str(path))
        readback = []
        for events in conversation_in_two_sessions():  # each message as Rasa handles it: read, update, write
            tracker = asyncio.run(store.retrieve("s1")) or DialogueStateTracker("s1", domain.slots)
            for event in events:
                tracker.update(event)
            asyncio.run(store.save(tracker))
            readback.append(asyncio.run(store.retrieve("s1")).current_state(EventVerbosity.ALL))
        readback.append(asyncio.run(store.retrieve_full_tracker("s1")).current_state(EventVerbosity.ALL))
        readback.append(asyncio.run(store.retrieve("nobody")))
        stores[name] = (stored_rows(store), readback)
        store.engine.dispose()
    rows, readback = stores["patched"]
    assert len(rows) == 28 and rows[-1][2] == "action"  # every event of both sessions once, none twice
    assert len(readback[-3]["events"]) == 14 and len(readback[-2]["events"]) == 28  # the latest session; all
    assert stores["patched"] == stores["rasa"]
