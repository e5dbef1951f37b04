"""A conversation's tracker kept between its messages, brought up to date from the SQLite store (issue 13).

Rasa 3.6 reads a conversation's tracker for every message: every event of its latest session, each turned
from JSON into an ``Event`` and replayed onto a new tracker (``DialogueStateTracker.from_dict``). Its cost
grows with the conversation: at 375 events (45 messages) a read cost 12.0 ms of CPU, read here 0.86 ms
(in-process, the same conversation read 30 times each way, 2026-12-06, a busy machine); load.py's closed loop
keeps one sender per client, so its conversations grow to 40-100 messages.

Here each Rasa worker keeps, per conversation, a tracker of its own built the way Rasa builds it (the same
``from_dict`` on the same rows, never handed out) and the store's ids it was built from. For each message it
checks the rows it read are still the store's (their count, first and last ids: one query on the sender's
index), reads only the rows added since (by the other worker, or by this one), turns
those into events and replays them onto its tracker, as ``from_dict`` would have done after the others, and
hands out a copy (``copy_tracker``: its own list of the same events, its own slots, loop and latest action,
which is what Rasa's own ``tracker.copy()`` shares and does not). Anything else goes through Rasa's read: a
conversation not kept, a new session among the new rows (a session start changes which rows Rasa reads), rows
deleted (a conversation erased, ``orientbot.chatlog.delete_tracker_events``), a store other than SQLite
(PostgreSQL assigns ids out of commit order), a read of every session, another domain. The same tracker as
Rasa's read, event for event and state for state (``tests/bot/test_tracker_cache_patch.py``).

Two workers share the store (``make run``, WAL mode): a conversation's messages are handled one at a time
under Rasa's Redis lock, each worker's copy is checked against the store at each read, and a row another
worker wrote is read from the store like any other. A worker keeps trackers of at most
``ORIENTBOT_TRACKER_CACHE`` events in all (default ``DEFAULT_EVENTS``, ~180 MB; the least recently read
conversations go first, and any not read for ``IDLE_SECONDS``); ``ORIENTBOT_TRACKER_CACHE=0`` leaves Rasa's
read in place, to measure. What an erased conversation leaves in a worker's memory is never served (its rows'
count no longer matches) and goes when it is read again, pushed out, or idle for ``IDLE_SECONDS``.

How it is applied: as ``tracker_store_patch``, through ``bot/components/__init__.py``; it imports
``tracker_store_patch`` first, whose read (or Rasa's, when that one is switched off) is the one it falls back on.
"""
from __future__ import annotations

import copy
import dataclasses
import json
import logging
import os
import time
from collections import OrderedDict
from typing import Any, Optional, Text

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core import events as rasa_events
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker

from bot.components import tracker_store_patch  # noqa: F401  (installed first: its read is the one this one falls back on)
from bot.components.switches import OFF

ENV_SWITCH = "ORIENTBOT_TRACKER_CACHE"
# Events kept per worker: ~3 kB each (tracemalloc, 19 conversations of 350-450 events read from var/tracker.db after
# load.py runs, 2026-12-06), so ~180 MB; 600 conversations of 10 messages (~100 events) fit.
DEFAULT_EVENTS = 60_000
# A conversation not read for this long leaves the worker's memory at its next message: the words of one erased
# while kept (never served: its rows no longer match) do not stay in memory long (docs/privacy.md).
IDLE_SECONDS = 15 * 60
logger = logging.getLogger(__name__)
RECENT_MEMO = "_orientbot_applied_fold"  # recent_states_patch.MEMO (not imported: either works without the other)

EVENTS = SQLTrackerStore.SQLEvent.__table__
_sender = sa.bindparam("sender_id")
_last = sa.bindparam("last_id")
_upto = sa.bindparam("upto_id")

# The rows a kept tracker was built from, as they are now: their count, first and last id (the index on sender_id).
ROWS_UP_TO = (sa.select(sa.func.count(), sa.func.min(EVENTS.c.id), sa.func.max(EVENTS.c.id))
              .where(EVENTS.c.sender_id == _sender, EVENTS.c.id <= _last))
# The same over every row of the conversation (the snapshot a full read is then limited to).
ROWS_ALL = (sa.select(sa.func.count(), sa.func.min(EVENTS.c.id), sa.func.max(EVENTS.c.id))
            .where(EVENTS.c.sender_id == _sender))
ROWS_AFTER = (sa.select(EVENTS.c.id, EVENTS.c.type_name, EVENTS.c.timestamp, EVENTS.c.data)
              .where(EVENTS.c.sender_id == _sender, EVENTS.c.id > _last).order_by(EVENTS.c.id))
_session_start = (sa.select(sa.func.max(EVENTS.c.timestamp).label("session_start"))
                  .where(EVENTS.c.sender_id == _sender, EVENTS.c.id <= _upto,
                         EVENTS.c.type_name == SessionStarted.type_name)
                  .scalar_subquery())
# Rasa's read of the latest session (``SQLTrackerStore._event_query``), limited to the rows up to ``upto_id``.
SESSION_START_UP_TO = sa.select(_session_start)
LATEST_SESSION_UP_TO = (sa.select(EVENTS.c.data)
                        .where(EVENTS.c.sender_id == _sender, EVENTS.c.id <= _upto,
                               sa.or_(EVENTS.c.timestamp >= _session_start, _session_start.is_(None)))
                        .order_by(EVENTS.c.id))


class Kept:
    """A conversation's tracker as Rasa's read builds it from the rows up to ``last_id``, never handed out."""

    __slots__ = ("tracker", "domain", "count", "first_id", "last_id", "session_start", "size", "read_at")

    def __init__(self, tracker: Optional[DialogueStateTracker], domain: Any, rows: Any, session_start: Any) -> None:
        self.tracker = tracker
        self.domain = domain
        self.count, self.first_id, self.last_id = rows
        self.session_start = session_start
        self.size = 0
        self.read_at = 0.0

    def rows(self) -> tuple:
        return self.count, self.first_id, self.last_id


def copy_tracker(tracker: DialogueStateTracker) -> DialogueStateTracker:
    """A tracker in the same state, sharing the events (as Rasa's ``tracker.copy()`` does), not the state.

    What the processor changes in place on the tracker it is given: its list of events, its slots (each slot
    object), its active loop (a dataclass), its latest action (a dict). Everything else is replaced, not changed.
    """
    new = DialogueStateTracker.__new__(DialogueStateTracker)
    new.__dict__.update(tracker.__dict__)
    new.__dict__.pop(RECENT_MEMO, None)  # recent_states_patch's memo, for the kept tracker's list of events
    new.events = copy.copy(tracker.events)  # a deque with the same maxlen
    slots = tracker.slots.__class__()
    for name, slot in tracker.slots.items():
        slots[name] = copy.copy(slot)
    new.slots = slots
    new.active_loop = dataclasses.replace(tracker.active_loop) if tracker.active_loop is not None else None
    new.latest_action = dict(tracker.latest_action) if tracker.latest_action is not None else None
    return new


def _limit() -> int:
    raw = os.environ.get(ENV_SWITCH, "").strip().lower()
    if raw in ("", "1", "true", "yes", "on"):
        return DEFAULT_EVENTS
    if raw in OFF:
        return 0
    return max(0, int(raw))


class KeptTrackers(OrderedDict):
    """A worker's kept trackers by conversation, the least recently read first, and how many events they hold."""

    events = 0

    def take(self, sender_id: Text) -> Optional[Kept]:
        entry = self.pop(sender_id, None)
        if entry is not None:
            self.events -= entry.size
        return entry

    def put(self, sender_id: Text, entry: Kept, limit: int, now: Optional[float] = None) -> None:
        entry.size = len(entry.tracker.events) if entry.tracker is not None else 0
        entry.read_at = time.monotonic() if now is None else now
        self[sender_id] = entry
        self.events += entry.size
        # The least recently read go first: past the limit, or idle for IDLE_SECONDS.
        while len(self) > 1 and (self.events > limit or next(iter(self.values())).read_at < entry.read_at - IDLE_SECONDS):
            _, gone = self.popitem(last=False)
            self.events -= gone.size


def _kept(store: SQLTrackerStore) -> KeptTrackers:
    kept = store.__dict__.get("_orientbot_kept")
    if kept is None:
        kept = store.__dict__["_orientbot_kept"] = KeptTrackers()
    return kept


def _build(store: SQLTrackerStore, session: Any, sender_id: Text) -> Optional[Kept]:
    """Rasa's read (the latest session, ``from_dict``) on the conversation's rows as they are now; None: no row."""
    rows = tuple(session.execute(ROWS_ALL, {"sender_id": sender_id}).one())
    if not rows[0]:
        return None
    params = {"sender_id": sender_id, "upto_id": rows[2]}
    session_start = session.execute(SESSION_START_UP_TO, params).scalar()
    events = [json.loads(data) for data in session.execute(LATEST_SESSION_UP_TO, params).scalars()]
    tracker = DialogueStateTracker.from_dict(sender_id, events, store.domain.slots) if events else None
    return Kept(tracker, store.domain, rows, session_start)


def _bring_up_to_date(store: SQLTrackerStore, session: Any, sender_id: Text, kept: Kept) -> bool:
    """The rows added since ``kept`` was built, replayed onto its tracker; False when Rasa's read must decide."""
    now = tuple(session.execute(ROWS_UP_TO, {"sender_id": sender_id, "last_id": kept.last_id}).one())
    if now != kept.rows():
        return False  # rows deleted (or the conversation erased and written again): read it again
    added = session.execute(ROWS_AFTER, {"sender_id": sender_id, "last_id": kept.last_id}).all()
    if not added:
        return True
    if any(row.type_name == SessionStarted.type_name for row in added):
        return False  # a new session: Rasa reads from it on
    start = kept.session_start
    fresh = [json.loads(row.data) for row in added if start is None or (row.timestamp is not None and row.timestamp >= start)]
    if fresh:
        if kept.tracker is None:
            kept.tracker = DialogueStateTracker.from_dict(sender_id, fresh, store.domain.slots)
        else:
            for event in rasa_events.deserialise_events(fresh):
                kept.tracker.update(event)  # as ``from_events`` does, one event after the other
    kept.count += len(added)
    kept.last_id = added[-1].id
    return True


def retrieve_with_kept(store: SQLTrackerStore, sender_id: Text) -> Optional[DialogueStateTracker]:
    """The latest session's tracker, from the kept one brought up to date, else from Rasa's read."""
    kept = _kept(store)
    with store.session_scope() as session:
        entry = kept.take(sender_id)
        if entry is None or entry.domain is not store.domain or not _bring_up_to_date(store, session, sender_id, entry):
            entry = _build(store, session, sender_id)
        if entry is None:
            return None  # no row: a new conversation (or one erased), nothing kept
        kept.put(sender_id, entry, install.limit)  # type: ignore[attr-defined]
    if entry.tracker is None:
        return None
    return copy_tracker(entry.tracker)


_PREVIOUS_RETRIEVE: Any = None


async def _retrieve(self: SQLTrackerStore, sender_id: Text,
                    fetch_events_from_all_sessions: bool) -> Optional[DialogueStateTracker]:
    """``SQLTrackerStore._retrieve``: the kept tracker for the latest session on SQLite, else the previous read."""
    if fetch_events_from_all_sessions or self.engine.dialect.name != "sqlite" or not self.domain:
        return await _PREVIOUS_RETRIEVE(self, sender_id, fetch_events_from_all_sessions)
    return retrieve_with_kept(self, sender_id)


_retrieve.orientbot_kept = True  # type: ignore[attr-defined]


def install() -> bool:
    """Puts the kept trackers' read in place (idempotent); False when ``ORIENTBOT_TRACKER_CACHE=0``."""
    global _PREVIOUS_RETRIEVE
    install.limit = _limit()  # type: ignore[attr-defined]
    current = SQLTrackerStore.__dict__["_retrieve"]
    if install.limit <= 0:  # type: ignore[attr-defined]
        if getattr(current, "orientbot_kept", False):
            SQLTrackerStore._retrieve = _PREVIOUS_RETRIEVE  # type: ignore[assignment]
        return False
    if not getattr(current, "orientbot_kept", False):
        _PREVIOUS_RETRIEVE = current
        SQLTrackerStore._retrieve = _retrieve  # type: ignore[assignment]
    return True


def installed() -> bool:
    return getattr(SQLTrackerStore.__dict__["_retrieve"], "orientbot_kept", False)


install()
