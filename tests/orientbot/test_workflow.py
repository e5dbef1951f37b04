import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from orientbot import chatlog, workflow
from orientbot.db import ChatMessage, Ticket, TicketEvent, session_scope
from orientbot.office_hours import OfficeHours
from tests.factories import MONDAY_10H, add_account, add_ticket

LATER = MONDAY_10H + timedelta(minutes=5)


@pytest.fixture
def staff(engine):
    with session_scope(engine) as session:
        return add_account(session, "alice", display_name="Alice Martin").id, add_account(session, "bruno").id


def test_lifecycle_new_taken_answered_reopened_closed(engine, staff):
    alice, _ = staff
    with session_scope(engine) as session:
        ticket_id = add_ticket(session, question="je voudrais parler a un conseiller").id
    with session_scope(engine) as session:
        assert workflow.take(session, ticket_id=ticket_id, counsellor_id=alice, now=LATER).status == "taken"
    with session_scope(engine) as session:
        message = workflow.reply(session, ticket_id=ticket_id, counsellor_id=alice, text="Bonjour, je suis là.", now=LATER)
        assert message.author == "counsellor" and message.sender_id == "eleve-1"
        ticket = workflow.get(session, ticket_id=ticket_id)
        assert ticket.status == "answered" and workflow.as_utc(ticket.first_reply_at) == LATER
    with session_scope(engine) as session:  # the person writes again after the answer
        ticket = workflow.get(session, ticket_id=ticket_id)
        said = chatlog.append(session, sender_id="eleve-1", author="user", text="merci, et pour l'internat ?", now=LATER)
        workflow.person_wrote(session, ticket=ticket, message=said, now=LATER)
        assert ticket.status == "reopened" and said.ticket_id == ticket_id
    with session_scope(engine) as session:  # the owner keeps it and answers again
        workflow.reply(session, ticket_id=ticket_id, counsellor_id=alice, text="Pour l'internat…", now=LATER)
        closed = workflow.close(session, ticket_id=ticket_id, counsellor_id=alice, now=LATER)
        assert closed.status == "closed" and closed.resolution == "handed_back"
    with session_scope(engine) as session:
        kinds = list(session.execute(select(TicketEvent.kind).where(TicketEvent.ticket_id == ticket_id)
                                     .order_by(TicketEvent.id)).scalars())
        assert kinds == ["taken", "reply", "reopened", "person_wrote", "taken", "reply", "handed_back"]
        messages = list(session.execute(select(ChatMessage).where(ChatMessage.sender_id == "eleve-1")
                                        .order_by(ChatMessage.id)).scalars())
        # Nothing deleted: both answers, the person's message and the hand-back marker are all kept.
        assert [m.author for m in messages] == ["counsellor", "user", "counsellor", "system"]
        assert messages[-1].payload == {"kind": "handed_back"}
        assert session.get(Ticket, ticket_id) is not None


def test_closed_ticket_can_be_reopened_and_nothing_is_lost(engine, staff):
    alice, _ = staff
    with session_scope(engine) as session:
        ticket_id = add_ticket(session, question="question", mode="deferred").id
        workflow.close(session, ticket_id=ticket_id, counsellor_id=alice, now=LATER, resolution="dismissed")
    with session_scope(engine) as session:
        with pytest.raises(workflow.WorkflowError, match="clos"):
            workflow.reply(session, ticket_id=ticket_id, counsellor_id=alice, text="trop tard ?", now=LATER)
    with session_scope(engine) as session:
        assert workflow.reopen(session, ticket_id=ticket_id, now=LATER).status == "reopened"
        # A deferred ticket never paused the bot: no hand-back marker was written.
        assert session.execute(select(func.count(ChatMessage.id))).scalar_one() == 0


def test_second_counsellor_gets_a_french_refusal(engine, staff):
    alice, bruno = staff
    with session_scope(engine) as session:
        ticket_id = add_ticket(session, question="aide").id
        workflow.take(session, ticket_id=ticket_id, counsellor_id=alice, now=LATER)
    with session_scope(engine) as session:
        with pytest.raises(workflow.AlreadyTaken, match="déjà pris par Alice Martin"):
            workflow.take(session, ticket_id=ticket_id, counsellor_id=bruno, now=LATER)
        with pytest.raises(workflow.AlreadyTaken, match="suivi par Alice Martin"):
            workflow.reply(session, ticket_id=ticket_id, counsellor_id=bruno, text="moi aussi", now=LATER)
        with pytest.raises(workflow.AlreadyTaken):
            workflow.close(session, ticket_id=ticket_id, counsellor_id=bruno, now=LATER)
    with session_scope(engine) as session:  # taking one's own ticket again is harmless
        assert workflow.take(session, ticket_id=ticket_id, counsellor_id=alice, now=LATER).owner_id == alice


def test_empty_reply_and_unknown_ticket_are_refused(engine, staff):
    alice, _ = staff
    with session_scope(engine) as session:
        ticket_id = add_ticket(session, question="aide").id
        with pytest.raises(workflow.WorkflowError, match="vide"):
            workflow.reply(session, ticket_id=ticket_id, counsellor_id=alice, text="   ", now=LATER)
        with pytest.raises(workflow.WorkflowError, match="n'existe pas"):
            workflow.take(session, ticket_id="nope", counsellor_id=alice, now=LATER)


def test_queue_urgent_first_then_by_due_time(engine, staff):
    alice, _ = staff
    with session_scope(engine) as session:
        late_normal = add_ticket(session, question="bourse", due_in=timedelta(hours=5)).id
        soon_normal = add_ticket(session, question="stage", due_in=timedelta(minutes=10)).id
        urgent = add_ticket(session, question="harcèlement", priority="urgent", reason="distress",
                            due_in=timedelta(hours=9)).id
        no_promise = add_ticket(session, question="autre", due_in=None).id
        closed = add_ticket(session, question="fini", due_in=timedelta(minutes=1)).id
        workflow.close(session, ticket_id=closed, counsellor_id=alice, now=LATER)
    with session_scope(engine) as session:
        assert [t.id for t in workflow.queue(session)] == [urgent, soon_normal, late_normal, no_promise]
        assert [t.id for t in workflow.queue(session, statuses=("closed",))] == [closed]
        assert workflow.waiting_ahead(session, ticket=session.get(Ticket, late_normal)) == 2


def test_the_position_counts_only_the_waiting_tickets_of_the_persons_own_school(engine, staff):
    alice, _ = staff
    with session_scope(engine) as session:
        for question in ("bourse", "stage", "internat"):  # another school's queue, ahead of everyone
            add_ticket(session, question=question, school="0931234B", due_in=timedelta(minutes=5))
        add_ticket(session, question="rest", sender_id="rest-1", due_in=timedelta(minutes=5))  # of no school
        add_ticket(session, question="bts", school="0751234A", due_in=timedelta(minutes=10))
        taken = add_ticket(session, question="cap", school="0751234A", due_in=timedelta(minutes=10)).id
        workflow.take(session, ticket_id=taken, counsellor_id=alice, now=LATER)
        mine = add_ticket(session, question="b", sender_id="me", school="0751234A", due_in=timedelta(minutes=20)).id
        rest = add_ticket(session, question="r", sender_id="rest-2", due_in=timedelta(minutes=20)).id
    with session_scope(engine) as session:
        assert workflow.waiting_ahead(session, ticket=session.get(Ticket, mine)) == 1
        assert workflow.conversation_state(session, sender_id="me").waiting_ahead == 1
        assert workflow.waiting_ahead(session, ticket=session.get(Ticket, rest)) == 1  # among the tickets of no school
        # What a new ticket waits for, by school (the promised time of a live handoff).
        assert workflow.waiting_count(session, school="0751234A") == 2
        assert workflow.waiting_count(session, school="0931234B") == 3
        assert workflow.waiting_count(session) == 2
        assert workflow.waiting_count(session, school="0131234C") == 0


def test_queue_filters(engine):
    with session_scope(engine) as session:
        parent = add_ticket(session, question="Notre fils cherche un employeur pour son CAP en alternance", audience="parent").id
        eleve = add_ticket(session, question="combien de voeux sur parcoursup", reason="not_understood").id
    with session_scope(engine) as session:
        assert [t.id for t in workflow.queue(session, audience="parent")] == [parent]
        assert [t.id for t in workflow.queue(session, reason="not_understood")] == [eleve]
        assert [t.id for t in workflow.queue(session, topic="Parcoursup")] == [eleve]
        assert [t.id for t in workflow.queue(session, topic="Apprentissage et alternance")] == [parent]
        assert workflow.queue(session, statuses=("taken",)) == []


def test_two_counsellors_taking_at_once_one_wins(engine, staff):
    """Real threads, each with its own connection, released together: exactly one take succeeds."""
    alice, bruno = staff
    with session_scope(engine) as session:
        ticket_ids = [add_ticket(session, question=f"question {n}").id for n in range(5)]
    for ticket_id in ticket_ids:
        start, results = threading.Barrier(2), {}

        def attempt(counsellor_id):
            start.wait()
            try:
                with session_scope(engine) as session:
                    workflow.take(session, ticket_id=ticket_id, counsellor_id=counsellor_id, now=LATER)
                results[counsellor_id] = "won"
            except workflow.AlreadyTaken:
                results[counsellor_id] = "refused"

        threads = [threading.Thread(target=attempt, args=(who,)) for who in (alice, bruno)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert sorted(results.values()) == ["refused", "won"]
        with session_scope(engine) as session:
            ticket = session.get(Ticket, ticket_id)
            winner = next(who for who, result in results.items() if result == "won")
            assert ticket.owner_id == winner
            taken = session.execute(select(func.count(TicketEvent.id)).where(
                TicketEvent.ticket_id == ticket_id, TicketEvent.kind == "taken")).scalar_one()
            assert taken == 1


def test_conversation_state_for_the_chat_window(engine, staff):
    with session_scope(engine) as session:
        add_ticket(session, question="a", sender_id="other", due_in=timedelta(minutes=5))
        ticket_id = add_ticket(session, question="b", sender_id="me", due_in=timedelta(minutes=20)).id
    with session_scope(engine) as session:
        state = workflow.conversation_state(session, sender_id="me")
        assert state.ticket_id == ticket_id and state.mode == "live" and state.waiting_ahead == 1
        assert workflow.bot_paused_for(session, sender_id="me").id == ticket_id
        assert workflow.conversation_state(session, sender_id="nobody").ticket_id is None
        assert state.timezone == "Europe/Paris"
    with session_scope(engine) as session:  # a school in Nouvelle-Calédonie: the window shows its time
        workflow.save_office_hours(session, hours=OfficeHours(timezone="Pacific/Noumea"))
    with session_scope(engine) as session:
        assert workflow.conversation_state(session, sender_id="me").to_json()["timezone"] == "Pacific/Noumea"
