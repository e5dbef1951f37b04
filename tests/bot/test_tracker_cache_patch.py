"""Trackers kept between a conversation's messages, checked against the SQLite store (bot/components/tracker_cache_patch.py).

Two tracker stores on one WAL file stand for ``make run``'s two workers: the conversation's messages go to
either, and each read, kept or not, must give the tracker Rasa's read gives at that moment, state for state.
"""
from __future__ import annotations

import asyncio
import random
import sqlite3

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    FollowupAction,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

import bot.components  # noqa: F401  (what the Rasa server imports when it loads the model)
from bot.components import tracker_cache_patch, tracker_store_patch
from orientbot.chatlog import delete_tracker_events

DOMAIN = Domain.from_yaml("""
version: "3.1"
intents: [faq, greet]
slots:
  audience:
    type: text
    mappings: [{type: custom}]
  clarification_pending:
    type: bool
    initial_value: false
    mappings: [{type: custom}]
forms:
  a_form:
    required_slots: [audience]
actions: [action_answer]
""")


def rasas_read(store, sender):
    """Rasa's read as the server does it without the kept trackers (tracker_store_patch's, else Rasa's own)."""
    return asyncio.run(tracker_cache_patch._PREVIOUS_RETRIEVE(store, sender, False))


def without_time(event):
    """An event as a dict; the time left out (Rasa's empty latest message and bot utterance are made at each read)."""
    return {k: v for k, v in event.as_dict().items() if k != "timestamp"}


def state(tracker):
    """Everything the processor reads from a tracker."""
    if tracker is None:
        return None
    found = tracker.current_state(EventVerbosity.ALL)
    found.update(paused=tracker._paused, followup=tracker.followup_action, loop=repr(tracker.active_loop),
                 latest_bot=without_time(tracker.latest_bot_utterance), latest_message=without_time(tracker.latest_message),
                 slots={name: (type(slot).__name__, slot.value, slot.has_been_set) for name, slot in tracker.slots.items()},
                 attributes=sorted(k for k in vars(tracker) if k != tracker_cache_patch.RECENT_MEMO),
                 events_type=type(tracker.events), maxlen=tracker.events.maxlen)
    return found


@pytest.fixture()
def workers(tmp_path):
    path = tmp_path / "tracker.db"
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=WAL")  # scripts/workers.py, before the workers start
    connection.close()
    stores = [SQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(path)) for _ in range(2)]
    yield stores
    for store in stores:
        store.engine.dispose()


def message_events(rng, turn):
    at = 1000.0 + turn
    events = [UserUttered(f"question {turn}", {"name": rng.choice(["faq", "greet"]), "confidence": 0.9},
                          parse_data={"text": f"question {turn}", "intent": {"name": "faq", "confidence": 0.9},
                                      "entities": []}, timestamp=at),
              ActionExecuted("action_answer", timestamp=at + 0.1),
              BotUttered(f"réponse {turn}", {"custom": {"answer": {"kb_id": "k"}}}, timestamp=at + 0.2)]
    if rng.random() < 0.4:
        events.append(SlotSet("clarification_pending", rng.random() < 0.5, timestamp=at + 0.3))
    if rng.random() < 0.1:
        events.append(FollowupAction("action_answer", timestamp=at + 0.3))
    if rng.random() < 0.1:
        events += [ActiveLoop("a_form", timestamp=at + 0.3), ActionExecuted("a_form", timestamp=at + 0.35)]
    if rng.random() < 0.1:
        events.append(ActiveLoop(None, timestamp=at + 0.4))
    events.append(ActionExecuted("action_listen", timestamp=at + 0.5))
    return events


def test_the_patch_is_in_place_once_the_components_are_imported():
    assert tracker_cache_patch.installed()
    assert tracker_cache_patch._PREVIOUS_RETRIEVE is tracker_store_patch._retrieve


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_two_workers_read_rasas_tracker_at_every_message(workers, seed):
    rng = random.Random(seed)
    senders = [f"s{seed}-{i}" for i in range(3)]
    for sender in senders:
        assert asyncio.run(workers[0].retrieve(sender)) is None
    for turn in range(40):
        sender = rng.choice(senders)
        store = rng.choice(workers)  # any worker takes any message
        tracker = asyncio.run(store.retrieve(sender))
        assert state(tracker) == state(rasas_read(store, sender))
        if tracker is None:
            tracker = DialogueStateTracker(sender, DOMAIN.slots)
            for event in [ActionExecuted("action_session_start", timestamp=999.0), SessionStarted(timestamp=999.0),
                          ActionExecuted("action_listen", timestamp=999.0)]:
                tracker.update(event)
        if turn == 25:  # a new session in the middle: Rasa reads from it on
            for event in [ActionExecuted("action_session_start", timestamp=1500.0), SessionStarted(timestamp=1500.0),
                          SlotSet("audience", "parent", timestamp=1500.0), ActionExecuted("action_listen", timestamp=1500.0)]:
                tracker.update(event)
        for event in message_events(rng, turn + (600 if turn >= 25 else 0)):
            tracker.update(event)
        tracker.clear_followup_action()  # as the processor does, without an event
        asyncio.run(store.save(tracker))
        for each in workers:
            assert state(asyncio.run(each.retrieve(sender))) == state(rasas_read(each, sender))
    assert any(len(asyncio.run(workers[0].retrieve(s)).events) > 40 for s in senders)


def test_a_tracker_changed_and_not_saved_is_not_served_again(workers):
    store = workers[0]
    tracker = DialogueStateTracker("x", DOMAIN.slots)
    for event in message_events(random.Random(0), 0):
        tracker.update(event)
    asyncio.run(store.save(tracker))
    first = asyncio.run(store.retrieve("x"))
    first.update(UserUttered("jamais enregistré", {"name": "faq", "confidence": 1.0}))  # an error before the save
    first.update(SlotSet("audience", "parent"))
    first.slots["clarification_pending"].value = True
    again = asyncio.run(store.retrieve("x"))
    assert state(again) == state(rasas_read(store, "x"))
    assert again.get_slot("audience") is None and len(again.events) == len(tracker.events)


def test_an_erased_conversation_is_read_again_not_served_from_memory(workers):
    store, other = workers
    tracker = DialogueStateTracker("e", DOMAIN.slots)
    for event in message_events(random.Random(1), 0):
        tracker.update(event)
    asyncio.run(store.save(tracker))
    assert asyncio.run(store.retrieve("e")) is not None  # kept
    assert delete_tracker_events(other.engine, ["e"]) > 0  # orientbot.chatlog's erasure, by another process
    assert asyncio.run(store.retrieve("e")) is None
    fresh = DialogueStateTracker("e", DOMAIN.slots)
    for event in message_events(random.Random(2), 1):
        fresh.update(event)
    asyncio.run(other.save(fresh))
    assert state(asyncio.run(store.retrieve("e"))) == state(rasas_read(store, "e"))


def test_a_worker_keeps_at_most_its_limit_of_events(workers, monkeypatch):
    monkeypatch.setattr(tracker_cache_patch.install, "limit", 7)
    store = workers[0]
    for i in range(6):
        tracker = DialogueStateTracker(f"l{i}", DOMAIN.slots)
        for event in [UserUttered(f"m{i}", {"name": "faq", "confidence": 1.0}), ActionExecuted("action_listen")]:
            tracker.update(event)
        asyncio.run(store.save(tracker))
        asyncio.run(store.retrieve(f"l{i}"))
    kept = tracker_cache_patch._kept(store)
    assert list(kept) == ["l3", "l4", "l5"] and kept.events == 6  # the least recently read went first
    asyncio.run(store.retrieve("l0"))  # read again: kept again, the oldest out
    assert list(kept) == ["l4", "l5", "l0"] and kept.events == 6
    assert state(asyncio.run(store.retrieve("l0"))) == state(rasas_read(store, "l0"))


def test_a_conversation_idle_for_a_quarter_of_an_hour_leaves_the_workers_memory():
    kept = tracker_cache_patch.KeptTrackers()

    def entry():
        return tracker_cache_patch.Kept(None, DOMAIN, (1, 1, 1), None)

    kept.put("erased-while-kept", entry(), limit=1000, now=0.0)
    kept.put("active", entry(), limit=1000, now=tracker_cache_patch.IDLE_SECONDS - 1)
    assert list(kept) == ["erased-while-kept", "active"]
    kept.put("another", entry(), limit=1000, now=tracker_cache_patch.IDLE_SECONDS + 1)
    assert list(kept) == ["active", "another"]


def test_every_session_and_other_databases_go_through_rasas_read(workers, monkeypatch):
    calls = []

    async def previous(self, sender_id, fetch_all):
        calls.append(fetch_all)

    monkeypatch.setattr(tracker_cache_patch, "_PREVIOUS_RETRIEVE", previous)
    asyncio.run(workers[0].retrieve_full_tracker("nobody"))
    assert calls == [True]
    store = SQLTrackerStore.__new__(SQLTrackerStore)  # never connected (no server needed)
    store.engine = sa.create_engine("postgresql://bot:secret@127.0.0.1:1/tracker")
    store.domain = DOMAIN
    asyncio.run(tracker_cache_patch._retrieve(store, "p", False))
    assert calls == [True, False]


def test_the_switch_leaves_rasas_read(monkeypatch):
    monkeypatch.setenv(tracker_cache_patch.ENV_SWITCH, "0")
    try:
        assert tracker_cache_patch.install() is False
        assert SQLTrackerStore.__dict__["_retrieve"] is tracker_store_patch._retrieve
    finally:
        monkeypatch.delenv(tracker_cache_patch.ENV_SWITCH)
        assert tracker_cache_patch.install() is True
    assert tracker_cache_patch.installed()
