"""Rasa's SQLite tracker store: kept connections, no fsync per commit, statements built once (issue 13).

Rasa's ``SQLTrackerStore`` makes its own SQLAlchemy engine. On a SQLite file, SQLAlchemy 1.4 opened a new
connection for every read and write of a conversation, and closing it (the last connection to a WAL file)
checkpointed the WAL and deleted it, syncing the disk; SQLite's default ``synchronous=FULL`` also synced the
WAL at every commit. All of it in Rasa's event loop, twice a message. The first time the store opens a
session, its engine gets ``orientbot.db.tune_tracker_engine``: a pool that keeps its connections
(``sqlite_connection_pool``, SQLAlchemy 2.0's default), each with ``synchronous=NORMAL`` when the file is in
WAL mode, as ``make run``'s workers use it (``sqlite_synchronous_normal``, ``scripts/workers.py``).

Then, on SQLite, the store's read and write run the SQL of Rasa's ORM query from SQLAlchemy Core statements
built once (``LATEST_SESSION_*``), where Rasa built, keyed and compiled the ORM query anew each time; a read
takes the events' stored text only (no ORM object per row) and a write inserts a message's events in one
statement (one ``INSERT`` each through the ORM). The same rows, the same order, the same trackers
(``tests/bot/test_tracker_store_patch.py`` compares them with Rasa's own methods). PostgreSQL goes through
Rasa's methods, untouched.

How it is applied: as ``validation_patch``, ``bot/components/__init__.py`` imports this module, and the Rasa
server imports ``bot.components`` when it loads the model, after it made its tracker store: the methods of
the class are replaced, so the store made before is covered. Nothing in the trained model changes.
``ORIENTBOT_TRACKER_STORE_TUNING=0`` leaves Rasa's methods in place (to measure the difference).
"""
from __future__ import annotations

import itertools
import json
import logging
import weakref
from typing import Any, Optional, Text

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from bot.components.switches import switched_off
from orientbot.db import tune_tracker_engine

ENV_SWITCH = "ORIENTBOT_TRACKER_STORE_TUNING"
ORIGINAL = SQLTrackerStore.__dict__["session_scope"]
ORIGINAL_SAVE = SQLTrackerStore.__dict__["save"]
ORIGINAL_RETRIEVE = SQLTrackerStore.__dict__["_retrieve"]
ORIGINAL_ADDITIONAL_EVENTS = SQLTrackerStore.__dict__["_additional_events"]
_tuned: "weakref.WeakSet[Any]" = weakref.WeakSet()  # engines already tuned
logger = logging.getLogger("rasa.core.tracker_store")  # Rasa's own lines, from Rasa's logger

EVENTS = SQLTrackerStore.SQLEvent.__table__


def _latest_session(*columns: Any) -> Any:
    """Rasa's ``SQLTrackerStore._event_query`` (latest session) in SQLAlchemy Core, built once for any sender.

    The same SQL: a conversation's events from its last ``session_started`` on (all of them without one), by id.
    """
    sender = sa.bindparam("sender_id")
    session_start = (
        sa.select(sa.func.max(EVENTS.c.timestamp).label("session_start"))
        .where(EVENTS.c.sender_id == sender, EVENTS.c.type_name == SessionStarted.type_name)
        .subquery()
    )
    return (
        sa.select(*columns)
        .where(EVENTS.c.sender_id == sender,
               sa.or_(EVENTS.c.timestamp >= session_start.c.session_start, session_start.c.session_start.is_(None)))
        .order_by(EVENTS.c.id)
    )


# Built once: SQLAlchemy then keys its cache of compiled statements on the same objects every time, where the
# ORM query of Rasa's was built, keyed and compiled anew for every read and every write.
LATEST_SESSION_DATA = _latest_session(EVENTS.c.data)
LATEST_SESSION_COUNT = sa.select(sa.func.count()).select_from(_latest_session(*EVENTS.c).subquery())
INSERT_EVENTS = EVENTS.insert()


def _sqlite(store: SQLTrackerStore) -> bool:
    return store.engine.dialect.name == "sqlite"


def session_scope(self: SQLTrackerStore) -> Any:
    """``SQLTrackerStore.session_scope``, once its engine is tuned (``tune_tracker_engine``)."""
    engine = self.engine
    if engine not in _tuned:
        tune_tracker_engine(engine)
        _tuned.add(engine)
    return ORIGINAL(self)


session_scope.orientbot_tuned = True  # type: ignore[attr-defined]


def _additional_events(self: SQLTrackerStore, session: Any, tracker: DialogueStateTracker) -> Any:
    """Rasa's: the tracker's events beyond those stored since the last session start (the same count)."""
    if not _sqlite(self):
        return ORIGINAL_ADDITIONAL_EVENTS(self, session, tracker)
    stored = session.execute(LATEST_SESSION_COUNT, {"sender_id": tracker.sender_id}).scalar()
    return itertools.islice(tracker.events, stored, len(tracker.events))


async def save(self: SQLTrackerStore, tracker: DialogueStateTracker) -> None:
    """Rasa's ``SQLTrackerStore.save``: the same rows, in the same order, in one statement instead of one each."""
    if not _sqlite(self):
        return await ORIGINAL_SAVE(self, tracker)
    await self.stream_events(tracker)

    with self.session_scope() as session:
        rows = []
        for event in self._additional_events(session, tracker):
            data = event.as_dict()
            rows.append({
                "sender_id": tracker.sender_id,
                "type_name": event.type_name,
                "timestamp": data.get("timestamp"),
                "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
                "action_name": data.get("name"),
                "data": json.dumps(data),
            })
        if rows:
            session.execute(INSERT_EVENTS, rows)
        session.commit()

    logger.debug(f"Tracker with sender_id '{tracker.sender_id}' stored to database")


async def _retrieve(self: SQLTrackerStore, sender_id: Text,
                    fetch_events_from_all_sessions: bool) -> Optional[DialogueStateTracker]:
    """Rasa's: the latest session's events, read as their stored text only (no ORM object per row)."""
    if fetch_events_from_all_sessions or not _sqlite(self):
        return await ORIGINAL_RETRIEVE(self, sender_id, fetch_events_from_all_sessions)
    with self.session_scope() as session:
        events = [json.loads(data) for data in session.execute(LATEST_SESSION_DATA, {"sender_id": sender_id}).scalars()]

        if self.domain and len(events) > 0:
            logger.debug(f"Recreating tracker from sender id '{sender_id}'")
            return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        logger.debug(f"Can't retrieve tracker matching sender id '{sender_id}' from SQL storage. "
                     f"Returning `None` instead.")
        return None


def install() -> bool:
    """Puts the patched methods in place (idempotent); False when switched off by the environment."""
    if switched_off(ENV_SWITCH):
        return False
    SQLTrackerStore.session_scope = session_scope  # type: ignore[assignment]
    SQLTrackerStore._additional_events = _additional_events  # type: ignore[assignment]
    SQLTrackerStore.save = save  # type: ignore[assignment]
    SQLTrackerStore._retrieve = _retrieve  # type: ignore[assignment]
    return True


def installed() -> bool:
    return getattr(SQLTrackerStore.__dict__["session_scope"], "orientbot_tuned", False)


install()
