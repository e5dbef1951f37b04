"""Retention: what is older than the periods of docs/privacy.md is erased, with an injected clock."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import create_engine, text

from orientbot import chatlog, retention, workflow
from orientbot.db import ChatMessage, Delivery, Feedback, Ticket, TicketEvent, session_scope
from orientbot.tickets import ERASED_TEXT, NewTicket, TicketStore

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


def _conversation(engine, sender, when, *, answer=True):
    with session_scope(engine) as session:
        chatlog.append(session, sender_id=sender, author="user", text="les dates des épreuves du bac ?", now=when)
        if answer:
            bot = chatlog.append(session, sender_id=sender, author="bot", text="En juin.", now=when,
                                 payload={"answer": {"kb_id": "bac-dates"}})
            session.flush()
            chatlog.give_feedback(session, sender_id=sender, message_id=bot.id, value=1, now=when)


def _ticket(engine, tmp_path, sender, when, *, closed_at=None):
    ticket = NewTicket(sender_id=sender, priority="normal", reason="personal_case", audience="eleve",
                       question="mon dossier a été refusé, que faire ?", created_at=when.isoformat(),
                       transcript=[{"from": "user", "text": "mon dossier a été refusé, que faire ?"}],
                       topic="parcoursup")
    TicketStore(engine, tmp_path / "spool.jsonl").open_ticket(ticket)
    if closed_at is not None:
        with session_scope(engine) as session:
            workflow.close(session, ticket_id=ticket.id, counsellor_id=None, now=closed_at)
    return ticket.id


def _tracker(tmp_path, rows):
    tracker = create_engine(f"sqlite:///{tmp_path / 'tracker.db'}")
    with tracker.begin() as connection:
        connection.execute(text("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, "
                                "type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255), "
                                "action_name VARCHAR(255), data TEXT)"))
        for sender, when in rows:
            connection.execute(text("INSERT INTO events (sender_id, type_name, timestamp, data) "
                                    "VALUES (:s, 'user', :t, '{}')"), {"s": sender, "t": when.timestamp()})
    return tracker


def _senders(engine, model):
    with session_scope(engine) as session:
        return sorted({row.sender_id for row in session.query(model).all()})


def test_conversations_older_than_the_period_are_erased_and_recent_ones_kept(engine, tmp_path):
    _conversation(engine, "old-conversation", NOW - timedelta(days=31))
    _conversation(engine, "recent-conversation", NOW - timedelta(days=29))
    old_ticket = _ticket(engine, tmp_path, "old-conversation", NOW - timedelta(days=31),
                         closed_at=NOW - timedelta(days=31))
    tracker = _tracker(tmp_path, [("old-conversation", NOW - timedelta(days=31)),
                                  ("recent-conversation", NOW - timedelta(days=29)),
                                  ("rest-conversation", NOW - timedelta(days=40))])

    report = retention.purge(engine, now=NOW, conversation_days=30, ticket_days=365, tracker_engine=tracker)

    # the question, the answer, and the "handed back" notice the live ticket left when it was closed
    assert (report.conversations, report.messages, report.feedback) == (1, 3, 1)
    assert _senders(engine, ChatMessage) == ["recent-conversation"]
    assert _senders(engine, Feedback) == ["recent-conversation"]
    with session_scope(engine) as session:
        ticket = session.get(Ticket, old_ticket)
        assert ticket.question == ERASED_TEXT and ticket.topic == "parcoursup" and ticket.reason == "personal_case"
    with tracker.connect() as connection:
        left = sorted(row[0] for row in connection.execute(text("SELECT DISTINCT sender_id FROM events")))
    assert left == ["recent-conversation"] and report.tracker_events == 2
    # The same clock a second time: nothing more to do.
    again = retention.purge(engine, now=NOW, conversation_days=30, ticket_days=365, tracker_engine=tracker)
    assert (again.conversations, again.tracker_events, again.tickets_deleted) == (0, 0, 0)


def test_a_conversation_with_an_open_ticket_is_kept_whatever_its_age(engine, tmp_path):
    _conversation(engine, "waiting-conversation", NOW - timedelta(days=90))
    ticket_id = _ticket(engine, tmp_path, "waiting-conversation", NOW - timedelta(days=90))
    report = retention.purge(engine, now=NOW, conversation_days=30, ticket_days=365)
    assert report.conversations == 0 and _senders(engine, ChatMessage) == ["waiting-conversation"]
    with session_scope(engine) as session:
        assert session.get(Ticket, ticket_id).question.startswith("mon dossier")


def test_closed_tickets_older_than_their_period_are_deleted_with_their_history(engine, tmp_path):
    old = _ticket(engine, tmp_path, "conversation-a", NOW - timedelta(days=400), closed_at=NOW - timedelta(days=366))
    young = _ticket(engine, tmp_path, "conversation-b", NOW - timedelta(days=400), closed_at=NOW - timedelta(days=300))
    with session_scope(engine) as session:  # its answer went out by e-mail (orientbot.delivery's outbox)
        session.add(Delivery(ticket_id=old, channel="email", status="sent", attempts=1))
    report = retention.purge(engine, now=NOW, conversation_days=30, ticket_days=365)
    assert report.tickets_deleted == 1
    with session_scope(engine) as session:
        assert session.get(Ticket, old) is None
        assert session.query(TicketEvent).filter(TicketEvent.ticket_id == old).count() == 0
        assert session.query(Delivery).filter(Delivery.ticket_id == old).count() == 0
        kept = session.get(Ticket, young)
        assert kept is not None and kept.question == ERASED_TEXT  # its words went with the conversation


def test_the_command_reads_the_periods_from_the_settings(engine, tmp_path, capsys):
    _conversation(engine, "old-conversation", NOW - timedelta(days=8))
    environ = {"ORIENTBOT_DATABASE_URL": str(engine.url), "ORIENTBOT_PRIVACY_CONVERSATION_DAYS": "7",
               "ORIENTBOT_CONFIG": str(tmp_path / "absent.yml"), "TRACKER_DB": str(tmp_path / "absent.db")}
    assert retention.main([], environ=environ, clock=lambda: NOW) == 0
    assert "conversations=1" in capsys.readouterr().out
    assert _senders(engine, ChatMessage) == []


def test_the_marks_of_erased_conversations_go_after_the_conversation_period(engine):
    from orientbot.db import ErasedConversation

    with session_scope(engine) as session:
        chatlog.erase(session, sender_id="long-ago", now=NOW - timedelta(days=31))
        chatlog.erase(session, sender_id="yesterday", now=NOW - timedelta(days=1))
    retention.purge(engine, now=NOW, conversation_days=30, ticket_days=365)
    with session_scope(engine) as session:
        left = {row.sender_hash for row in session.query(ErasedConversation).all()}
    assert left == {ErasedConversation.key_of("yesterday")}
    assert "yesterday" not in str(left)  # only a hash of the id is kept
