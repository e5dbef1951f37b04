"""The admins' page for a person's request: find the conversation, export it, erase it."""
import json

from orientbot import chatlog
from orientbot.db import ChatMessage, session_scope
from tests.factories import MONDAY_10H, add_ticket


def _conversation(engine, sender="conv-privee", words="je voudrais changer de lycée en cours d'année",
                  email="parent.test@example.org"):
    with session_scope(engine) as session:
        chatlog.append(session, sender_id=sender, author="user", text=words, now=MONDAY_10H)
        ticket = add_ticket(session, question=words, sender_id=sender, audience="parent")
        ticket.contact_email = email


def test_an_admin_finds_exports_and_erases_one_conversation(admin, engine):
    _conversation(engine)
    _conversation(engine, sender="conv-autre", words="quelles dates pour le brevet ?", email="autre@example.org")
    page = admin.get("/admin/personnes?email=parent.test@example.org")
    assert page.status == 200 and "conv-privee" in page.text and "conv-autre" not in page.text
    assert "changer de lycée" not in page.text  # the search shows counts and dates, not the words
    exported = admin.get("/admin/personnes/conv-privee/export")
    assert exported.status == 200 and "attachment" in exported.headers["Content-Disposition"]
    assert json.loads(exported.text)["messages"][0]["text"] == "je voudrais changer de lycée en cours d'année"
    refused = admin.post("/admin/personnes/conv-privee/erase", {"confirm": "autre-chose"})
    assert refused.status == 400 and "recopiez" in refused.text
    done = admin.post("/admin/personnes/conv-privee/erase", {"confirm": "conv-privee"})
    assert done.status == 303 and "Conversation effacée" in admin.follow(done).text
    with session_scope(engine) as session:
        assert session.query(ChatMessage).filter_by(sender_id="conv-privee").count() == 0
        assert session.query(ChatMessage).filter_by(sender_id="conv-autre").count() == 1
    assert "0 conversation" in admin.get("/admin/personnes?text=changer de lycée").text


def test_a_counsellor_cannot_reach_the_page_and_a_short_search_is_refused(alice, admin, engine):
    _conversation(engine)
    assert alice.get("/admin/personnes?conversation=conv-privee").status == 403
    assert alice.post("/admin/personnes/conv-privee/erase", {"confirm": "conv-privee"}).status == 403
    assert admin.get("/admin/personnes?text=ly").status == 400
    assert admin.post("/admin/personnes/conv-privee/erase", {"confirm": "conv-privee"}, csrf=False).status in (400, 403)
    with session_scope(engine) as session:
        assert session.query(ChatMessage).filter_by(sender_id="conv-privee").count() == 1
