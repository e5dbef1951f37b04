"""The handoff says when a counsellor will answer: live during office hours, a promised time in the evening."""
from dataclasses import replace
from datetime import datetime, timezone

from rasa_sdk.executor import CollectingDispatcher

from bot.actions.handoff import ActionHandoff
from tests.bot.conftest import make_tracker

TUESDAY_10H_PARIS = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
FRIDAY_21H_PARIS = datetime(2026, 12, 4, 20, 0, tzinfo=timezone.utc)


def handoff(services, text, intent="ask_human", audience="eleve"):
    dispatcher = CollectingDispatcher()
    ActionHandoff(services).run(dispatcher, make_tracker(text, intent=intent, confidence=0.99, audience=audience), {})
    marker = next(m["custom"]["handoff"] for m in dispatcher.messages if "handoff" in (m.get("custom") or {}))
    return dispatcher.messages, marker, services.tickets.tickets[-1]


def test_during_office_hours_the_ticket_is_live_and_due_soon(services):
    services = replace(services, now=lambda: TUESDAY_10H_PARIS)
    messages, marker, ticket = handoff(services, "je veux parler à un conseiller")
    assert ticket.mode == marker["mode"] == "live"
    assert ticket.due_at == marker["due_at"] == "2026-12-01T10:30:00+01:00"
    [live] = [m for m in messages if m.get("response") == "utter_handoff_live"]
    assert live["when"] == "aujourd'hui avant 10 h 30"
    assert ticket.summary.startswith("Un élève (demande à parler à un conseiller)")


def test_on_a_friday_evening_the_answer_is_promised_for_monday(services):
    services = replace(services, now=lambda: FRIDAY_21H_PARIS)
    messages, marker, ticket = handoff(services, "Je souhaiterais parler à un conseiller", audience="parent")
    assert ticket.mode == marker["mode"] == "deferred"
    assert ticket.due_at.startswith("2026-12-07T13:00")
    [deferred] = [m for m in messages if m.get("response") == "utter_handoff_deferred"]
    assert deferred["when"] == "lundi 7 décembre avant 13 h"
    assert ticket.audience == "parent"


def test_distress_in_the_evening_is_urgent_with_numbers_and_first_thing_in_the_morning(services):
    services = replace(services, now=lambda: FRIDAY_21H_PARIS)
    messages, marker, ticket = handoff(services, "je veux en finir, je n'en peux plus", intent="distress")
    assert marker["priority"] == ticket.priority == "urgent"
    assert messages[0]["response"].startswith("utter_urgent_")
    assert any(m.get("response") == "utter_handoff_urgent_deferred" for m in messages)
    assert ticket.due_at.startswith("2026-12-07T09:15")
    assert ticket.topic == "Mal-être et danger"


def test_a_long_queue_pushes_the_promised_time_back(services):
    services = replace(services, now=lambda: TUESDAY_10H_PARIS, waiting_tickets=lambda: 5)
    messages, marker, ticket = handoff(services, "je veux parler à un conseiller")
    assert ticket.due_at == "2026-12-01T11:00:00+01:00"  # six tickets of 10 minutes, this one included
    [live] = [m for m in messages if m.get("response") == "utter_handoff_live"]
    assert live["when"] == "aujourd'hui avant 11 h"
