"""A person's request about their data: find their conversation, export it whole, erase it."""
from datetime import timedelta

import pytest
from sqlalchemy import text

from orientbot import chatlog, subject_access
from orientbot.db import ChatMessage, make_engine, session_scope
from orientbot.subject_access import RequestError
from tests.factories import MONDAY_10H, add_ticket

NOW = MONDAY_10H + timedelta(days=3)


@pytest.fixture
def two_people(engine):
    with session_scope(engine) as session:
        for sender, words in (("conv-a", "mon fils voudrait faire un CAP cuisine"), ("conv-b", "quelles dates pour Affelnet ?")):
            chatlog.append(session, sender_id=sender, author="user", text=words, now=MONDAY_10H)
            chatlog.append(session, sender_id=sender, author="bot", text="Voici ce que je sais.", now=MONDAY_10H)
        ticket = add_ticket(session, question="mon fils voudrait faire un CAP cuisine", sender_id="conv-a", audience="parent")
        ticket.contact_email, ticket.contact_channel = "Famille.Exemple@example.org", "email"
    return engine


def test_a_conversation_is_found_by_its_id_its_address_or_the_words_written(two_people):
    with session_scope(two_people) as session:
        assert [f.sender_id for f in subject_access.find(session, sender_id="conv-a")] == ["conv-a"]
        assert [f.sender_id for f in subject_access.find(session, email="famille.exemple@EXAMPLE.org")] == ["conv-a"]
        found = subject_access.find(session, text="cap cuisine")
        assert [f.sender_id for f in found] == ["conv-a"] and found[0].messages == 2 and found[0].tickets == 1
        assert subject_access.find(session, text="100%_") == []  # wildcards are searched as text


def test_a_search_that_would_match_everyone_is_refused(two_people):
    with session_scope(two_people) as session, pytest.raises(RequestError):
        subject_access.find(session, text="le")
    with session_scope(two_people) as session, pytest.raises(RequestError):
        subject_access.find(session)


def test_the_export_holds_everything_about_the_conversation_and_nothing_of_the_others(two_people):
    with session_scope(two_people) as session:
        document = subject_access.export(session, sender_id="conv-a", now=NOW)
    assert [m["text"] for m in document["messages"]] == ["mon fils voudrait faire un CAP cuisine", "Voici ce que je sais."]
    assert document["tickets"][0]["contact_email"] == "Famille.Exemple@example.org"
    assert "Affelnet" not in str(document)


def test_erasing_leaves_nothing_to_find_or_export_and_keeps_the_others(two_people, tmp_path):
    tracker = make_engine(f"sqlite:///{tmp_path / 'tracker.db'}")  # Rasa's tracker store, a database of its own
    with tracker.begin() as connection:
        connection.execute(text("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255), timestamp FLOAT)"))
        connection.execute(text("INSERT INTO events (sender_id, timestamp) VALUES ('conv-a', 1), ('conv-b', 1)"))
    with session_scope(two_people) as session:
        counts = subject_access.erase(session, sender_id="conv-a", now=NOW, tracker_engine=tracker)
    assert counts["messages"] == 2 and counts["tickets"] == 1 and counts["tracker_events"] == 1
    with session_scope(two_people) as session:
        assert subject_access.find(session, text="cap cuisine") == []
        assert subject_access.find(session, email="famille.exemple@example.org") == []
        document = subject_access.export(session, sender_id="conv-a", now=NOW)  # the redacted ticket remains
        assert document["messages"] == [] and "cuisine" not in str(document)
        assert session.query(ChatMessage).filter_by(sender_id="conv-b").count() == 2
    with tracker.connect() as connection:
        assert [row[0] for row in connection.execute(text("SELECT sender_id FROM events"))] == ["conv-b"]
    tracker.dispose()
