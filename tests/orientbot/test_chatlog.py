"""The chat log: erasing a conversation deletes it, its feedback, Rasa's copy, and the words of its tickets."""
from datetime import datetime, timezone

from sqlalchemy import create_engine, text

from orientbot import chatlog
from orientbot.db import ChatMessage, Feedback, Ticket, session_scope
from orientbot.tickets import ERASED_TEXT, NewTicket, TicketStore

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


def test_erasing_deletes_messages_and_feedback_and_redacts_tickets(engine, tmp_path):
    ticket = NewTicket(sender_id="conversation-a", priority="urgent", reason="distress", audience="eleve",
                       question="je n'en peux plus de ma classe", created_at=NOW.isoformat(), topic="vie scolaire",
                       transcript=[{"from": "user", "text": "je n'en peux plus de ma classe"}],
                       candidates=[{"kb_id": "x", "title": "Changer de classe"}])
    TicketStore(engine, tmp_path / "spool.jsonl").open_ticket(ticket)
    with session_scope(engine) as session:
        for sender in ("conversation-a", "conversation-b"):
            chatlog.append(session, sender_id=sender, author="user", text="bonjour", now=NOW)
            answer = chatlog.append(session, sender_id=sender, author="bot", text="Bonjour !", now=NOW,
                                    payload={"answer": {"kb_id": "salut"}})
            session.flush()
            chatlog.give_feedback(session, sender_id=sender, message_id=answer.id, value=-1, now=NOW)
        session.get(Ticket, ticket.id).contact_email = "eleve@example.org"
    with session_scope(engine) as session:
        erased = chatlog.erase(session, sender_id="conversation-a", now=NOW)
    assert (erased.messages, erased.feedback, erased.tickets) == (2, 1, 1)
    with session_scope(engine) as session:
        assert {m.sender_id for m in session.query(ChatMessage)} == {"conversation-b"}
        assert {f.sender_id for f in session.query(Feedback)} == {"conversation-b"}
        kept = session.get(Ticket, ticket.id)
        assert (kept.id, kept.reason, kept.priority, kept.topic, kept.created_at is not None) == (
            ticket.id, "distress", "urgent", "vie scolaire", True)
        assert kept.question == kept.summary == ERASED_TEXT
        assert kept.transcript == [{"from": "system", "text": ERASED_TEXT}]
        assert kept.candidates == [] and kept.contact_email is None
        assert "peux plus" not in repr([kept.question, kept.transcript, kept.summary])


def test_rasas_tracker_events_of_the_conversation_are_deleted(tmp_path):
    tracker = create_engine(f"sqlite:///{tmp_path / 'tracker.db'}")
    with tracker.begin() as connection:
        connection.execute(text("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255), "
                                "type_name VARCHAR(255), timestamp FLOAT, data TEXT)"))
        for sender in ("conversation-a", "conversation-a", "conversation-b"):
            connection.execute(text("INSERT INTO events (sender_id, type_name, timestamp, data) "
                                    "VALUES (:s, 'user', 1.0, '{\"text\": \"bonjour\"}')"), {"s": sender})
    assert chatlog.delete_tracker_events(tracker, ["conversation-a"]) == 2
    with tracker.connect() as connection:
        assert [r[0] for r in connection.execute(text("SELECT sender_id FROM events"))] == ["conversation-b"]
    # No tracker table yet (a fresh install): nothing to do, no error.
    assert chatlog.delete_tracker_events(create_engine(f"sqlite:///{tmp_path / 'empty.db'}"), ["x"]) == 0
