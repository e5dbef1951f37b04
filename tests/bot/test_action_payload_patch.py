"""Rasa's calls to the action server with the latest events only (bot/components/action_payload_patch.py, issue 13)."""
from __future__ import annotations

from rasa.core.actions.action import RemoteAction
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa.utils.endpoints import EndpointConfig
from rasa_sdk import Tracker

import bot.components  # noqa: F401  (what the Rasa server imports when it loads the model)
from bot.actions.conversation import MAX_TRANSCRIPT_EVENTS, previous_question, transcript
from bot.components import action_payload_patch
from orientbot.settings import load_settings

DOMAIN = Domain.from_yaml("""
version: "3.1"
intents: [faq]
slots:
  audience:
    type: text
    mappings: [{type: custom}]
actions: [action_answer]
""")
QUESTIONS = ["c quoi parcoursup", "ok merci", "et le bts ?", "jpeux faire une prepa apres un bac pro", "merci",
             "et l'alternance ?", "les bourses crous c'est quand", "stage de seconde c'est obligatoire ?"]


def long_conversation(turns: int = 40) -> DialogueStateTracker:
    events = [SlotSet("audience", "eleve")]
    for turn in range(turns):
        events += [ActionExecuted("action_listen"),
                   UserUttered(f"{QUESTIONS[turn % len(QUESTIONS)]} ({turn})", {"name": "faq", "confidence": 0.9}),
                   ActionExecuted("action_answer"), BotUttered(f"réponse {turn}"), SlotSet("clarification_pending", False)]
    events.append(ActionExecuted("action_listen"))
    events.append(UserUttered("et en apprentissage ?", {"name": "faq", "confidence": 0.8}))
    return DialogueStateTracker.from_events("eleve-1", events, slots=DOMAIN.slots)


def action(selective: bool) -> RemoteAction:
    return RemoteAction("action_answer", EndpointConfig("http://127.0.0.1:1/webhook", enable_selective_domain=selective))


def test_the_patch_is_in_place_once_the_components_are_imported():
    assert action_payload_patch.installed()


def test_a_call_carries_rasas_state_with_only_the_latest_events():
    tracker = long_conversation()
    sent = load_settings().serve.action_events_sent
    assert len(tracker.events) > sent  # the conversation is longer than what is sent
    call = action(selective=True)._action_call_format(tracker, DOMAIN)
    full = action_payload_patch.ORIGINAL(action(selective=True), tracker, DOMAIN)
    assert call["tracker"]["events"] == full["tracker"]["events"][-sent:]
    assert {k: v for k, v in call["tracker"].items() if k != "events"} == \
           {k: v for k, v in tracker.current_state(EventVerbosity.ALL).items() if k != "events"}
    assert {k: v for k, v in call.items() if k != "tracker"} == {k: v for k, v in full.items() if k != "tracker"}


def test_the_actions_read_the_same_from_the_shorter_call():
    tracker = long_conversation()
    call = action(selective=True)._action_call_format(tracker, DOMAIN)
    full = action_payload_patch.ORIGINAL(action(selective=True), tracker, DOMAIN)
    shorter, whole = Tracker.from_dict(call["tracker"]), Tracker.from_dict(full["tracker"])
    assert MAX_TRANSCRIPT_EVENTS <= load_settings().serve.action_events_sent
    assert transcript(shorter) == transcript(whole) and len(transcript(whole)) > 10
    assert previous_question(shorter) == previous_question(whole) != ""
    assert shorter.get_slot("audience") == "eleve" and shorter.latest_message["text"] == "et en apprentissage ?"


def test_the_domain_goes_only_where_rasa_would_send_it():
    tracker = long_conversation(turns=2)
    assert "domain" not in action(selective=True)._action_call_format(tracker, DOMAIN)
    assert action(selective=False)._action_call_format(tracker, DOMAIN)["domain"] == DOMAIN.as_dict()


def test_switched_off_rasas_own_call_comes_back(monkeypatch):
    monkeypatch.setenv("ORIENTBOT_SERVE_ACTION_EVENTS_SENT", "0")
    try:
        assert action_payload_patch.install() is False
        assert RemoteAction.__dict__["_action_call_format"] is action_payload_patch.ORIGINAL
    finally:
        monkeypatch.delenv("ORIENTBOT_SERVE_ACTION_EVENTS_SENT")
        assert action_payload_patch.install() is True
