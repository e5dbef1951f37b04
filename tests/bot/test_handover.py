"""The handoff says when a counsellor will answer: live during office hours, a promised time in the evening."""
from dataclasses import replace
from datetime import datetime, timezone

from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from bot.actions.handoff import ActionHandoff
from orientbot import pickup
from orientbot.db import Delivery, session_scope
from orientbot.pickup import PickupDesk
from orientbot.settings import PickupSettings
from orientbot.tickets import TicketStore
from tests.bot.conftest import RecordingTickets, make_tracker

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


class RecordingDesk:
    """The retrieval-code desk as the action sees it: a code for deferred tickets, what it was asked."""

    settings = PickupSettings(page_url="https://bot.lycee.fr/webhooks/chat/reponse", expiry_days=30)

    def __init__(self, fail=False):
        self.calls, self.fail = [], fail

    def after_handoff(self, *, ticket_id, mode, priority, now, new=True):
        if self.fail:
            raise OSError("base injoignable")
        self.calls.append((ticket_id, mode, priority))
        return "ABCD-EFGH" if mode == "deferred" else None


def test_in_the_evening_a_parent_gets_a_retrieval_code_and_the_page(services):
    desk = RecordingDesk()
    services = replace(services, now=lambda: FRIDAY_21H_PARIS, pickup=desk)
    messages, marker, ticket = handoff(services, "Je souhaiterais parler à un conseiller", audience="parent")
    [given] = [m for m in messages if m.get("response") == "utter_pickup_code"]
    assert given["code"] == "ABCD-EFGH" and given["url"] == "https://bot.lycee.fr/webhooks/chat/reponse"
    assert given["days"] == 30
    assert marker["pickup_code"] == "ABCD-EFGH" and marker["pickup_path"] == "/webhooks/chat/reponse"
    assert desk.calls == [(ticket.id, "deferred", "normal")]
    # The code comes after the promise, and the window's payload last.
    responses = [m.get("response") for m in messages]
    assert responses.index("utter_handoff_deferred") < responses.index("utter_pickup_code") == len(messages) - 2


def test_during_office_hours_there_is_no_code(services):
    services = replace(services, now=lambda: TUESDAY_10H_PARIS, pickup=RecordingDesk())
    messages, marker, _ = handoff(services, "je veux parler à un conseiller")
    assert "pickup_code" not in marker and not any(m.get("response") == "utter_pickup_code" for m in messages)


def test_an_urgent_evening_ticket_gets_its_code_after_the_numbers(services):
    desk = RecordingDesk()
    services = replace(services, now=lambda: FRIDAY_21H_PARIS, pickup=desk)
    messages, marker, ticket = handoff(services, "je veux en finir, je n'en peux plus", intent="distress")
    assert messages[0]["response"].startswith("utter_urgent_")
    assert desk.calls == [(ticket.id, "deferred", "urgent")] and marker["pickup_code"] == "ABCD-EFGH"


def test_without_a_written_ticket_or_a_working_desk_the_handoff_goes_on_without_a_code(services):
    spooled = replace(services, now=lambda: FRIDAY_21H_PARIS, pickup=RecordingDesk(),
                      tickets=RecordingTickets(stored=False))
    messages, marker, _ = handoff(spooled, "je veux parler à un conseiller")
    assert "pickup_code" not in marker and any(m.get("response") == "utter_handoff_spooled" for m in messages)
    broken = replace(services, now=lambda: FRIDAY_21H_PARIS, pickup=RecordingDesk(fail=True))
    messages, marker, _ = handoff(broken, "je veux parler à un conseiller")
    assert "pickup_code" not in marker and any(m.get("response") == "utter_handoff_deferred" for m in messages)


def test_the_code_given_reads_the_ticket_written(services, engine, tmp_path):
    key = b"k" * 32
    services = replace(services, now=lambda: FRIDAY_21H_PARIS, tickets=TicketStore(engine, tmp_path / "spool.jsonl"),
                       pickup=PickupDesk(engine, key, on_call=True))
    dispatcher = CollectingDispatcher()
    ActionHandoff(services).run(dispatcher, make_tracker("je veux en finir, je n'en peux plus", intent="distress",
                                                         confidence=0.99), {})
    [marker] = [m["custom"]["handoff"] for m in dispatcher.messages if "handoff" in (m.get("custom") or {})]
    with session_scope(engine) as session:
        found = pickup.answer_for(session, key=key, typed=marker["pickup_code"], now=FRIDAY_21H_PARIS)
        assert found is not None and not found.ready
        [alert] = session.execute(select(Delivery)).scalars().all()
        assert (alert.ticket_id, alert.channel) == (marker["ticket_id"], "on_call")


def _from_channel(tracker, channel):
    for event in tracker.events:
        if event.get("event") == "user":
            event["input_channel"] = channel
    return tracker


def test_the_ticket_carries_the_school_of_a_chat_window_conversation_only(services):
    from orientbot.schools import sender_for_school

    services = replace(services, now=lambda: TUESDAY_10H_PARIS)
    sender = sender_for_school("0751234A", "c" * 32)
    for channel, school in (("chat", "0751234A"), ("rest", None), (None, None)):
        tracker = _from_channel(make_tracker("je veux parler à un conseiller", intent="ask_human", confidence=0.99),
                                channel)
        tracker.sender_id = sender
        ActionHandoff(services).run(CollectingDispatcher(), tracker, {})
        assert services.tickets.tickets[-1].school == school, channel
    # A chat window's conversation of no school.
    tracker = _from_channel(make_tracker("je veux parler à un conseiller", intent="ask_human", confidence=0.99), "chat")
    ActionHandoff(services).run(CollectingDispatcher(), tracker, {})
    assert services.tickets.tickets[-1].school is None
