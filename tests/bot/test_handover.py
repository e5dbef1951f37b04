"""The handoff says when a counsellor will answer: live during office hours, a promised time in the evening."""
import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone

from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from bot.actions.handoff import ActionHandoff
from orientbot import pickup
from orientbot.db import Delivery, PickupCode, Ticket, create_schema, make_engine, session_scope
from orientbot.pickup import PickupDesk, Promise
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
    services = replace(services, now=lambda: TUESDAY_10H_PARIS, waiting_tickets=lambda school=None: 5)
    messages, marker, ticket = handoff(services, "je veux parler à un conseiller")
    assert ticket.due_at == "2026-12-01T11:00:00+01:00"  # six tickets of 10 minutes, this one included
    [live] = [m for m in messages if m.get("response") == "utter_handoff_live"]
    assert live["when"] == "aujourd'hui avant 11 h"


class RecordingDesk:
    """The retrieval-code desk as the action sees it: a code for deferred tickets, what it was asked."""

    settings = PickupSettings(page_url="https://bot.lycee.fr/webhooks/chat/reponse", expiry_days=30)

    def __init__(self, fail=False):
        self.calls, self.fail = [], fail

    def promise(self, *, mode, priority, now):
        if self.fail:
            raise OSError("clé illisible")
        self.calls.append((mode, priority))
        if mode != "deferred":
            return None
        return Promise(code="ABCD-EFGH", digest="d" * 64, expires_at=now + timedelta(days=30),
                       alert_on_call=priority == "urgent")


def test_in_the_evening_a_parent_gets_a_retrieval_code_and_the_page(services):
    desk = RecordingDesk()
    services = replace(services, now=lambda: FRIDAY_21H_PARIS, pickup=desk)
    messages, marker, ticket = handoff(services, "Je souhaiterais parler à un conseiller", audience="parent")
    [given] = [m for m in messages if m.get("response") == "utter_pickup_code"]
    assert given["code"] == "ABCD-EFGH" and given["url"] == "https://bot.lycee.fr/webhooks/chat/reponse"
    assert given["days"] == 30
    assert marker["pickup_code"] == "ABCD-EFGH" and marker["pickup_path"] == "/webhooks/chat/reponse"
    assert desk.calls == [("deferred", "normal")]
    assert ticket.pickup_hash == "d" * 64 and ticket.pickup_expires_at.startswith("2027-01-03") and not ticket.alert_on_call
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
    assert desk.calls == [("deferred", "urgent")] and marker["pickup_code"] == "ABCD-EFGH"
    assert ticket.alert_on_call  # written with the ticket, wherever it is written


def test_a_spooled_ticket_still_gets_its_code_and_without_a_working_desk_the_handoff_goes_on(services):
    spooled = replace(services, now=lambda: FRIDAY_21H_PARIS, pickup=RecordingDesk(),
                      tickets=RecordingTickets(stored=False))
    messages, marker, ticket = handoff(spooled, "je veux parler à un conseiller")
    assert any(m.get("response") == "utter_handoff_spooled" for m in messages)
    assert marker["queued"] and marker["pickup_code"] == "ABCD-EFGH" and ticket.pickup_hash == "d" * 64
    broken = replace(services, now=lambda: FRIDAY_21H_PARIS, pickup=RecordingDesk(fail=True))
    messages, marker, ticket = handoff(broken, "je veux parler à un conseiller")
    assert "pickup_code" not in marker and any(m.get("response") == "utter_handoff_deferred" for m in messages)
    assert ticket.pickup_hash is None


def test_a_ticket_written_nowhere_gives_no_code_but_the_numbers_and_the_promise(services):
    lost = replace(services, now=lambda: FRIDAY_21H_PARIS, pickup=RecordingDesk(), tickets=RecordingTickets(fail=True))
    dispatcher = CollectingDispatcher()
    ActionHandoff(lost).run(dispatcher, make_tracker("je veux en finir, je n'en peux plus", intent="distress",
                                                     confidence=0.99), {})
    responses = [m.get("response") for m in dispatcher.messages]
    assert responses[0].startswith("utter_urgent_") and "utter_handoff_spooled" in responses
    assert "utter_pickup_code" not in responses


def test_the_code_given_reads_the_ticket_written(services, engine, tmp_path):
    key = b"k" * 32
    services = replace(services, now=lambda: FRIDAY_21H_PARIS, tickets=TicketStore(engine, tmp_path / "spool.jsonl"),
                       pickup=PickupDesk(key, on_call=True))
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


def test_the_promised_time_counts_the_queue_of_the_conversations_own_school(services):
    from orientbot.schools import sender_for_school

    queues = {"0751234A": 5, "0931234B": 0, None: 2}
    asked = []

    def waiting(school=None):
        asked.append(school)
        return queues[school]

    services = replace(services, now=lambda: TUESDAY_10H_PARIS, waiting_tickets=waiting)
    tracker = _from_channel(make_tracker("je veux parler à un conseiller", intent="ask_human", confidence=0.99), "chat")
    tracker.sender_id = sender_for_school("0751234A", "c" * 32)
    ActionHandoff(services).run(CollectingDispatcher(), tracker, {})
    assert services.tickets.tickets[-1].due_at == "2026-12-01T11:00:00+01:00"  # five of its school before it
    tracker.sender_id = sender_for_school("0931234B", "d" * 32)
    ActionHandoff(services).run(CollectingDispatcher(), tracker, {})
    assert services.tickets.tickets[-1].due_at == "2026-12-01T10:30:00+01:00"  # the other school's queue is empty
    assert asked == ["0751234A", "0931234B"]


def test_a_family_of_a_school_with_its_own_page_is_sent_there(services):
    from orientbot.schools import sender_for_school

    desk = RecordingDesk()
    desk.settings = replace(desk.settings, page_urls={"0751234A": "https://ent.lycee-jaures.fr/orientation/reponse"})
    services = replace(services, now=lambda: FRIDAY_21H_PARIS, pickup=desk)
    pages = []
    for school in ("0751234A", "0931234B"):
        dispatcher = CollectingDispatcher()
        tracker = _from_channel(make_tracker("je veux parler à un conseiller", intent="ask_human", confidence=0.99), "chat")
        tracker.sender_id = sender_for_school(school, "e" * 32)
        ActionHandoff(services).run(dispatcher, tracker, {})
        pages += [m["url"] for m in dispatcher.messages if m.get("response") == "utter_pickup_code"]
    assert pages == ["https://ent.lycee-jaures.fr/orientation/reponse", "https://bot.lycee.fr/webhooks/chat/reponse"]


def test_a_ticket_spooled_while_the_database_is_down_keeps_its_code_and_its_on_call_alert(services, tmp_path):
    """Issue 14: the family's code reads the ticket once the spool is imported, and on-call is alerted then."""
    key, spool = b"k" * 32, tmp_path / "spool.jsonl"
    down = make_engine(f"sqlite:///{tmp_path}/missing/dir/db.sqlite")  # cannot be opened
    services = replace(services, now=lambda: FRIDAY_21H_PARIS, tickets=TicketStore(down, spool),
                       pickup=PickupDesk(key, on_call=True))
    dispatcher = CollectingDispatcher()
    ActionHandoff(services).run(dispatcher, make_tracker("je veux en finir, je n'en peux plus", intent="distress",
                                                         confidence=0.99, audience="parent"), {})
    [marker] = [m["custom"]["handoff"] for m in dispatcher.messages if "handoff" in (m.get("custom") or {})]
    responses = [m.get("response") for m in dispatcher.messages]
    assert marker["queued"] and responses[0].startswith("utter_urgent_") and "utter_handoff_spooled" in responses
    code = marker["pickup_code"]
    [given] = [m for m in dispatcher.messages if m.get("response") == "utter_pickup_code"]
    assert given["code"] == code
    [line] = spool.read_text(encoding="utf-8").splitlines()
    assert code not in line and code.replace("-", "") not in line  # only its hash is written down
    assert json.loads(line)["pickup_hash"] == pickup.code_hash(key, pickup.normalise(code))

    up = make_engine(f"sqlite:///{tmp_path}/db.sqlite")  # the database is back
    create_schema(up)
    assert TicketStore(up, spool).flush() == 1
    with session_scope(up) as session:
        found = pickup.answer_for(session, key=key, typed=code, now=FRIDAY_21H_PARIS + timedelta(hours=3))
        assert found is not None and found.audience == "parent" and not found.ready
        assert session.get(Ticket, marker["ticket_id"]).spooled
        [alert] = session.execute(select(Delivery)).scalars().all()
        assert (alert.ticket_id, alert.channel, alert.status) == (marker["ticket_id"], "on_call", "queued")
        [row] = session.execute(select(PickupCode)).scalars().all()
        assert row.expires_at.date().isoformat() == "2027-01-03"  # 30 days from the handoff, not the import
    assert TicketStore(up, spool).flush() == 0  # imported once: one code, one alert
    with session_scope(up) as session:
        assert len(session.execute(select(Delivery)).scalars().all()) == 1
