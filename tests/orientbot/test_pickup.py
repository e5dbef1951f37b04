"""Retrieval codes: an evening question's answer read with a code, without an address; only a hash is kept,
the code expires, says nothing when wrong, and goes with the conversation."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from orientbot import chatlog, pickup, retention, workflow
from orientbot.db import Delivery, PickupCode, session_scope
from orientbot.settings import PickupSettings
from orientbot.tickets import NewTicket, TicketStore
from tests.factories import add_account, add_ticket

KEY = b"k" * 32
EVENING = datetime(2026, 12, 7, 20, 0, tzinfo=timezone.utc)  # Monday 21:00 in Paris
MORNING = datetime(2026, 12, 8, 8, 30, tzinfo=timezone.utc)
QUESTION = "Mon fils hésite entre un CAP et une seconde générale, que faire ?"
ANSWER = "Bonjour, il peut demander une seconde générale ; parlez-en à son professeur principal."


@pytest.fixture
def deferred(engine):
    """A parent's evening ticket and the code the bot gave."""
    with session_scope(engine) as session:
        ticket = add_ticket(session, question=QUESTION, sender_id="parent-durand", audience="parent",
                            reason="personal_case", mode="deferred", created=EVENING, due_in=timedelta(hours=16))
        code = pickup.issue(session, key=KEY, ticket_id=ticket.id, now=EVENING)
        return ticket.id, code


def read(engine, typed, now=MORNING):
    with session_scope(engine) as session:
        return pickup.answer_for(session, key=KEY, typed=typed, now=now)


def test_a_code_is_short_unambiguous_and_random():
    codes = {pickup.new_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(len(code) == 8 and not set(code) & set("0O1IL") for code in codes)
    assert pickup.shown("ABCDEFGH") == "ABCD-EFGH"
    assert pickup.normalise(" abcd-efgh ") == "ABCDEFGH" == pickup.normalise("ABCD EFGH")
    assert pickup.normalise("ABCD-EFG0") is None and pickup.normalise("ABC") is None and pickup.normalise(42) is None


def test_only_a_keyed_hash_of_the_code_is_stored(engine, deferred):
    ticket_id, code = deferred
    with session_scope(engine) as session:
        [row] = session.execute(select(PickupCode)).scalars().all()
        assert row.ticket_id == ticket_id and row.code_hash == pickup.code_hash(KEY, pickup.normalise(code))
        assert pickup.normalise(code) not in row.code_hash and row.code_hash != pickup.code_hash(b"x" * 32, code)
        assert row.expires_at.replace(tzinfo=timezone.utc) == EVENING + timedelta(days=30)


def test_before_the_answer_it_says_when_and_after_it_shows_the_question_and_the_answer(engine, deferred):
    ticket_id, code = deferred
    waiting = read(engine, code.lower())
    assert waiting is not None and not waiting.ready and not waiting.closed
    assert waiting.question == QUESTION and waiting.due_at == EVENING + timedelta(hours=16)
    with session_scope(engine) as session:
        counsellor = add_account(session, "alice").id
        chatlog.append(session, sender_id="parent-durand", author="user", text="Autre chose, sans rapport", now=EVENING)
        workflow.reply(session, ticket_id=ticket_id, counsellor_id=counsellor, text=ANSWER, now=MORNING)
    found = read(engine, code, now=MORNING + timedelta(minutes=5))
    assert found.ready and found.audience == "parent"
    assert [text for text, _ in found.answers] == [ANSWER]  # nothing else of the conversation
    with session_scope(engine) as session:
        row = session.execute(select(PickupCode)).scalars().one()
        assert row.reads == 2 and row.last_used_at is not None


def test_a_closed_ticket_without_an_answer_says_so(engine, deferred):
    ticket_id, code = deferred
    with session_scope(engine) as session:
        workflow.close(session, ticket_id=ticket_id, counsellor_id=None, now=MORNING, resolution="dismissed")
    found = read(engine, code)
    assert found.closed and not found.ready


@pytest.mark.parametrize("typed", ["", "ABCD-EFGH", "ABCD-EFG", None, "x" * 1000, "<script>"])
def test_a_wrong_code_gets_nothing(engine, deferred, typed):
    assert read(engine, typed) is None


def test_an_expired_code_gets_nothing(engine, deferred):
    _, code = deferred
    assert read(engine, code, now=EVENING + timedelta(days=29)) is not None
    assert read(engine, code, now=EVENING + timedelta(days=30)) is None


def test_another_key_reads_nothing(engine, deferred):
    _, code = deferred
    with session_scope(engine) as session:
        assert pickup.answer_for(session, key=b"y" * 32, typed=code, now=MORNING) is None


def test_erasing_the_conversation_deletes_its_codes(engine, deferred):
    _, code = deferred
    with session_scope(engine) as session:
        chatlog.erase(session, sender_id="parent-durand", now=MORNING)
    assert read(engine, code) is None
    with session_scope(engine) as session:
        assert session.execute(select(PickupCode)).first() is None


def test_retention_deletes_expired_codes_and_those_of_deleted_tickets(engine, deferred):
    ticket_id, code = deferred
    with session_scope(engine) as session:
        other = add_ticket(session, question="q", sender_id="eleve-2", mode="deferred", created=EVENING)
        pickup.issue(session, key=KEY, ticket_id=other.id, now=EVENING - timedelta(days=40))
    report = retention.purge(engine, now=MORNING, conversation_days=30, ticket_days=365)
    assert report.pickup_codes == 1
    assert read(engine, code) is not None
    with session_scope(engine) as session:
        workflow.close(session, ticket_id=ticket_id, counsellor_id=None, now=MORNING, resolution="dismissed")
    retention.purge(engine, now=MORNING + timedelta(days=400), conversation_days=30, ticket_days=365)
    with session_scope(engine) as session:
        assert session.execute(select(PickupCode)).first() is None


def test_the_desk_promises_a_code_to_deferred_tickets_only_and_the_store_writes_it_with_the_alert(engine, tmp_path):
    desk = pickup.PickupDesk(KEY, settings=PickupSettings(expiry_days=7), on_call=True)
    assert desk.promise(mode="live", priority="urgent", now=EVENING) is None
    store = TicketStore(engine, tmp_path / "spool.jsonl")

    def hand_over(promise, **values):
        ticket = NewTicket(audience="eleve", question="q", mode="deferred", created_at=EVENING.isoformat(),
                           pickup_hash=promise.digest, pickup_expires_at=promise.expires_at.isoformat(),
                           alert_on_call=promise.alert_on_call,
                           **{"priority": "normal", "reason": "asked_for_human", **values})
        return store.open_ticket(ticket).ticket_id

    evening = desk.promise(mode="deferred", priority="normal", now=EVENING)
    assert pickup.normalise(evening.code) and not evening.alert_on_call
    evening_id = hand_over(evening, sender_id="eleve-2")
    assert read(engine, evening.code, now=EVENING).question == "q"
    assert read(engine, evening.code, now=EVENING + timedelta(days=7)) is None  # the setting's expiry
    urgent = desk.promise(mode="deferred", priority="urgent", now=EVENING)
    assert urgent.alert_on_call
    urgent_id = hand_over(urgent, sender_id="eleve-3", priority="urgent", reason="distress")
    with session_scope(engine) as session:
        alerts = session.execute(select(Delivery)).scalars().all()
        assert [(row.ticket_id, row.channel, row.status) for row in alerts] == [(urgent_id, "on_call", "queued")]
    # The same request resent moments later joins its ticket: the new code reads it too, on-call is not told twice.
    again = desk.promise(mode="deferred", priority="urgent", now=EVENING)
    assert hand_over(again, sender_id="eleve-3", priority="urgent", reason="distress") == urgent_id
    assert read(engine, again.code, now=EVENING) is not None and read(engine, urgent.code, now=EVENING) is not None
    with session_scope(engine) as session:
        assert len(session.execute(select(Delivery)).scalars().all()) == 1
    assert evening_id != urgent_id
    quiet = pickup.PickupDesk(KEY, on_call=False)
    assert not quiet.promise(mode="deferred", priority="urgent", now=EVENING).alert_on_call


def test_a_code_drawn_twice_is_withdrawn_rather_than_read_by_another_person(engine, deferred):
    """A clash can only be met once the code is given (a spooled ticket): neither person reads the other's answer."""
    ticket_id, code = deferred
    with session_scope(engine) as session:
        other = add_ticket(session, question="autre", sender_id="eleve-9", mode="deferred", created=EVENING).id
        digest = pickup.code_hash(KEY, pickup.normalise(code))
        assert pickup.record(session, ticket_id=ticket_id, digest=digest, created_at=EVENING,
                             expires_at=EVENING + timedelta(days=1))  # the same ticket's code, imported again
        assert not pickup.record(session, ticket_id=other, digest=digest, created_at=EVENING,
                                 expires_at=EVENING + timedelta(days=1))
    assert read(engine, code) is None
