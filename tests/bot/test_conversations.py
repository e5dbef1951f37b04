"""The chat window's channel without HTTP: nothing lost, nothing answered twice, the bot paused during a live handoff."""
import os
import stat
from datetime import datetime, timezone
from pathlib import Path

import pytest

from bot.channels.conversations import BadRequest, ChatStore, merge_bot_outputs, parse_incoming
from bot.channels.guard import ConversationTokens, RateLimits, load_or_create_key
from orientbot import workflow
from orientbot.db import Counsellor, Feedback, Ticket, session_scope
from orientbot.tickets import ERASED_TEXT, NewTicket, TicketStore

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
SENDER = "conversation-0001"


def incoming(text="cb de voeux sur psup ?", client_id="m1", **extra):
    return parse_incoming({"sender": SENDER, "text": text, "client_id": client_id, **extra}, max_chars=5000)


@pytest.fixture
def store(engine):
    return ChatStore(engine, now=lambda: NOW)


@pytest.mark.parametrize("body, fragment", [
    ([], "objet JSON"),
    ({"sender": "x", "text": "bonjour"}, "Identifiant de conversation"),
    ({"sender": SENDER, "text": 42}, "du texte"),
    ({"sender": SENDER, "text": "   \x00 "}, "vide"),
    ({"sender": SENDER, "text": "a" * 5001}, "trop long"),
    ({"sender": SENDER, "text": "ok", "client_id": "<script>"}, "Identifiant de message"),
    ({"sender": "'; DROP TABLE tickets; --", "text": "ok"}, "Identifiant de conversation"),
])
def test_bad_requests_get_a_clear_french_reason(body, fragment):
    with pytest.raises(BadRequest, match=fragment):
        parse_incoming(body, max_chars=5000)


def test_a_button_shows_its_title_and_sends_its_payload():
    message = parse_incoming({"sender": SENDER, "text": '/choose_kb{"kb_id": "x"}', "display": "Combien de vœux ?",
                              "metadata": {"audience": "parent"}}, max_chars=5000)
    assert (message.text, message.display, message.audience) == ('/choose_kb{"kb_id": "x"}', "Combien de vœux ?", "parent")


def test_custom_payloads_join_the_text_they_belong_to():
    merged = merge_bot_outputs([
        {"text": "Tu peux faire 10 vœux.", "custom": {"answer": {"kb_id": "voeux", "sources": []}}},
        {"text": "Je transmets ta demande.", "buttons": [{"title": "Oui", "payload": "/affirm"}]},
        {"custom": {"handoff": {"ticket_id": "t1", "priority": "normal"}}},
    ])
    assert [m["text"] for m in merged] == ["Tu peux faire 10 vœux.", "Je transmets ta demande."]
    assert merged[0]["payload"]["answer"]["kb_id"] == "voeux"
    assert merged[1]["payload"]["handoff"]["ticket_id"] == "t1"
    assert merged[1]["payload"]["buttons"] == [{"title": "Oui", "payload": "/affirm"}]


def test_the_message_is_stored_before_the_bot_answers_and_a_retry_is_answered_once(store):
    first = store.receive(incoming())
    assert first.earlier_replies is None and not first.paused
    assert store.messages_after(SENDER) == [first.message]
    replies = store.record_replies(SENDER, [{"text": "Jusqu'à 10 vœux.", "custom": {"answer": {"kb_id": "v"}}}])
    again = store.receive(incoming())
    assert again.message["id"] == first.message["id"]
    assert again.earlier_replies == replies
    assert len(store.messages_after(SENDER)) == 2


def test_a_message_the_bot_never_answered_is_answered_when_sent_again(store):
    first = store.receive(incoming())
    retry = store.receive(incoming())
    assert retry.earlier_replies is None and retry.message["id"] == first.message["id"]
    assert len(store.messages_after(SENDER)) == 1


def test_two_messages_stored_while_the_bot_was_down_each_get_their_own_replies(store):
    # Both written, neither answered (Redis down); resent in order, the first one's replies follow the second.
    first, second = store.receive(incoming("c'est quoi un BTS ?", "m1")), store.receive(incoming("et un BUT ?", "m2"))
    assert store.receive(incoming("c'est quoi un BTS ?", "m1")).earlier_replies is None
    replies = store.record_replies(SENDER, [{"text": "Un BTS se prépare en deux ans."}], first.message["id"])
    assert store.receive(incoming("et un BUT ?", "m2")).earlier_replies is None  # still to answer, not the BTS's
    assert store.receive(incoming("c'est quoi un BTS ?", "m1")).earlier_replies == replies  # answered once
    later = store.record_replies(SENDER, [{"text": "Un BUT se prépare en trois ans."}], second.message["id"])
    assert store.receive(incoming("et un BUT ?", "m2")).earlier_replies == later


def test_when_the_database_is_down_the_person_is_told_the_message_is_not_stored_yet():
    from bot.channels.chat import unstored_reply

    plain = unstored_reply("c'est quand les résultats d'affelnet", "eleve")
    assert "pas encore pu être enregistré" in plain["text"] and "ton message" in plain["text"]
    assert "bien enregistré" not in plain["text"] and "3114" not in plain["text"]
    assert "votre message" in unstored_reply("et pour le BTS ?", "parent")["text"]
    urgent = unstored_reply("je pense à me tuer depuis la rentrée", "eleve")
    assert urgent["custom"]["urgent"] and "3114" in urgent["text"] and "enregistré" not in urgent["text"]


def test_no_reply_from_the_bot_is_recorded_as_a_system_notice(store):
    store.receive(incoming())
    [notice] = store.record_replies(SENDER, [])
    assert notice["author"] == "system" and notice["payload"] == {"kind": "no_reply"}


def _live_ticket(engine, tmp_path: Path, priority="normal"):
    ticket = NewTicket(sender_id=SENDER, priority=priority, reason="asked_for_human", audience="eleve",
                       question="je veux un conseiller", created_at=NOW.isoformat(), mode="live",
                       due_at=NOW.isoformat())
    TicketStore(engine, tmp_path / "spool.jsonl").open_ticket(ticket)
    return ticket.id


def test_during_a_live_handoff_the_bot_is_paused_and_the_counsellor_reads_everything(store, engine, tmp_path):
    ticket_id = _live_ticket(engine, tmp_path)
    received = store.receive(incoming("j'ai une autre question", client_id="m2"))
    assert received.paused
    with session_scope(engine) as session:
        session.add(Counsellor(username="anne", display_name="Anne", password_hash="x"))
    with session_scope(engine) as session:
        workflow.take(session, ticket_id=ticket_id, counsellor_id=1, now=NOW)
        workflow.reply(session, ticket_id=ticket_id, counsellor_id=1, text="Je t'écoute.", now=NOW)
    after = store.messages_after(SENDER, received.message["id"])
    assert [(m["author"], m["text"]) for m in after] == [("counsellor", "Je t'écoute.")]
    assert store.state(SENDER)["status"] == "answered"
    assert store.receive(incoming("merci", client_id="m3")).paused
    assert store.state(SENDER)["status"] == "reopened"
    with session_scope(engine) as session:
        workflow.close(session, ticket_id=ticket_id, counsellor_id=1, now=NOW)
    assert not store.receive(incoming("et les bourses ?", client_id="m4")).paused
    assert store.state(SENDER)["ticket_id"] is None


def test_distress_written_to_a_paused_conversation_makes_the_ticket_urgent(store, engine, tmp_path):
    ticket_id = _live_ticket(engine, tmp_path)
    store.receive(incoming("en fait je veux en finir, je n'en peux plus", client_id="m2"))
    with session_scope(engine) as session:
        assert session.get(Ticket, ticket_id).priority == "urgent"
    assert store.messages_after(SENDER)[-1]["payload"] == {"kind": "urgent"}
    assert store.state(SENDER)["priority"] == "urgent"


def test_feedback_on_an_answer_is_stored_once_per_answer(store, engine):
    store.receive(incoming())
    [answer] = store.record_replies(SENDER, [{"text": "Jusqu'à 10 vœux.", "custom": {"answer": {"kb_id": "voeux"}}}])
    store.feedback({"sender": SENDER, "message_id": answer["id"], "value": 1})
    store.feedback({"sender": SENDER, "message_id": answer["id"], "value": -1})
    with session_scope(engine) as session:
        [row] = session.query(Feedback).all()
        assert (row.kb_id, row.value) == ("voeux", -1)
    for bad in ({"sender": SENDER, "message_id": answer["id"], "value": 5},
                {"sender": SENDER, "message_id": "1", "value": 1},
                {"sender": "autre-conversation", "message_id": answer["id"], "value": 1},
                {"sender": SENDER, "message_id": 99999, "value": 1}):
        with pytest.raises(BadRequest):
            store.feedback(bad)


def test_a_contact_needs_consent_for_an_email(store, engine, tmp_path):
    ticket_id = _live_ticket(engine, tmp_path)
    with pytest.raises(BadRequest, match="accord"):
        store.contact({"sender": SENDER, "ticket_id": ticket_id, "channel": "email", "email": "a@b.fr"})
    with pytest.raises(BadRequest, match="valide"):
        store.contact({"sender": SENDER, "ticket_id": ticket_id, "channel": "email", "email": "pas une adresse",
                       "consent": True})
    state = store.contact({"sender": SENDER, "ticket_id": ticket_id, "channel": "email", "email": "a@b.fr",
                           "consent": True})
    assert state["contact_channel"] == "email"


def test_erasing_deletes_the_conversation_and_keeps_only_the_facts_of_its_ticket(store, engine, tmp_path):
    ticket_id = _live_ticket(engine, tmp_path)
    store.receive(incoming("bonjour, je suis en seconde au lycée", client_id="m9"))
    [answer] = store.record_replies(SENDER, [{"text": "Bonjour !", "custom": {"answer": {"kb_id": "salut"}}}])
    store.feedback({"sender": SENDER, "message_id": answer["id"], "value": 1})
    erased = store.erase({"sender": SENDER})
    assert erased == {"sender": SENDER, "messages": 2, "feedback": 1, "tickets": 1}
    assert store.messages_after(SENDER) == []
    from orientbot import chatlog
    with session_scope(engine) as session:
        assert chatlog.for_ticket(session, ticket_id=ticket_id, sender_id=SENDER) == []
        assert session.query(Feedback).count() == 0
        ticket = session.get(Ticket, ticket_id)
        assert ticket.question == ERASED_TEXT and ticket.reason == "asked_for_human"
        assert "seconde" not in str(ticket.transcript) + ticket.summary


def test_erasing_deletes_rasas_tracker_events_in_its_own_table(tmp_path):
    """The table of Rasa's SQLTrackerStore is the one ``delete_tracker_events`` empties."""
    import asyncio

    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from orientbot.chatlog import TRACKER_EVENTS_TABLE, delete_tracker_events

    assert SQLTrackerStore.SQLEvent.__tablename__ == TRACKER_EVENTS_TABLE
    tracker_store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "tracker.db"))
    for sender in (SENDER, "another-conversation"):
        asyncio.run(tracker_store.save(DialogueStateTracker.from_events(sender, [UserUttered("mon adresse est …")])))
    assert delete_tracker_events(tracker_store.engine, [SENDER]) >= 1
    assert asyncio.run(tracker_store.retrieve(SENDER)) is None
    assert asyncio.run(tracker_store.retrieve("another-conversation")) is not None


# ---- the conversation's token and the rate limits (bot/channels/guard.py) ---------------------------------

def test_a_token_opens_its_own_conversation_only():
    tokens = ConversationTokens(b"k" * 32)
    sender = tokens.new_sender()
    token = tokens.issue(sender)
    assert tokens.check(sender, token)
    assert not tokens.check(tokens.new_sender(), token)  # another conversation
    assert not tokens.check(sender, None) and not tokens.check(sender, "") and not tokens.check(sender, token[:-1])
    assert not ConversationTokens(b"z" * 32).check(sender, token)  # another server key


def test_the_key_is_generated_once_with_mode_600_unless_configured(tmp_path):
    key_file = tmp_path / "var" / "chat-token-key"
    key = load_or_create_key("", key_file)
    assert len(key) >= 32 and stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert load_or_create_key("", key_file) == key
    assert load_or_create_key("une-cle-configuree-par-l-etablissement", key_file) == b"une-cle-configuree-par-l-etablissement"


def test_the_sliding_window_counts_the_last_minute_per_sender_and_per_address():
    clock = [0.0]
    limits = RateLimits(messages_per_sender=3, messages_per_address=5, reads_per_sender=2, reads_per_address=100,
                        now=lambda: clock[0])
    assert [limits.check("message", sender="a", address="10.0.0.1") for _ in range(4)] == [None, None, None, 60]
    # The refused one did not count for the address: two more pupils of the same class may write, not a third.
    assert limits.check("message", sender="b", address="10.0.0.1") is None
    assert limits.check("message", sender="c", address="10.0.0.1") is None
    assert limits.check("message", sender="e", address="10.0.0.1") is not None
    assert limits.check("message", sender="d", address="10.0.0.2") is None
    assert [limits.check("read", sender="a", address="10.0.0.1") for _ in range(3)][-1] is not None
    clock[0] = 61.0  # a minute later, everyone may write again
    assert limits.check("message", sender="a", address="10.0.0.1") is None
    assert limits.check("read", sender="a", address="10.0.0.1") is None


def test_when_the_bot_cannot_answer_the_person_is_told_and_distress_still_gets_the_numbers():
    from bot.channels.chat import unanswered_reply

    plain = unanswered_reply("c'est quand les résultats d'affelnet", "parent")
    assert plain["text"].startswith("Je ne parviens pas à vous répondre") and "3114" not in plain["text"]
    urgent = unanswered_reply("je pense à me tuer depuis la rentrée", "eleve")
    assert urgent["custom"]["urgent"] and "te répondre" in urgent["text"]
    for number in ("3114", "3018", "119", "114", "0 800 235 236", "112"):
        assert number in urgent["text"]
    assert "3020" not in urgent["text"]


# --- a conversation of a school (POST /start {"school": …}; orientbot.schools) ---------------------------------

@pytest.mark.parametrize("body, school", [
    (b'{"school": "0751234A"}', "0751234A"),
    (b'{"school": " 0751234a "}', "0751234A"),
    (b'{"school": "Lyc\\u00e9e Jean Jaur\\u00e8s"}', None),
    (b'{"school": "0751234A\\"; --"}', None),
    (b'{"school": 751234}', None),
    (b'{}', None), (b"", None), (None, None), (b"pas du json", None), (b'["0751234A"]', None),
])
def test_start_takes_a_well_formed_school_and_ignores_anything_else(body, school):
    from bot.channels.chat import requested_school

    assert requested_school(body, {}) == school


def test_start_with_a_list_of_known_schools_ignores_the_others():
    from bot.channels.chat import requested_school

    known = {"0751234A": "Lycée Jean Jaurès"}
    assert requested_school(b'{"school": "0751234A"}', known) == "0751234A"
    assert requested_school(b'{"school": "0931234B"}', known) is None


def test_the_school_is_part_of_the_signed_sender_and_cannot_be_forged():
    from bot.channels.conversations import parse_sender
    from orientbot.schools import school_of_sender

    tokens = ConversationTokens(b"k" * 32)
    sender = ConversationTokens.new_sender("0751234A")
    assert parse_sender(sender) == sender and school_of_sender(sender) == "0751234A"
    assert school_of_sender(ConversationTokens.new_sender()) is None
    token = tokens.issue(sender)
    assert tokens.check(sender, token)
    # Another school, with the same random part and the same token: the token no longer matches.
    forged = sender.replace("0751234A", "0931234B")
    assert parse_sender(forged) == forged and school_of_sender(forged) == "0931234B"
    assert not tokens.check(forged, token)
    # Nor does a conversation of no school become one of a school by adding the code.
    plain = ConversationTokens.new_sender()
    assert not tokens.check("e-0751234A-" + plain[2:], tokens.issue(plain))
