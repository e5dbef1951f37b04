"""Issue 11: PostgreSQL and Redis crash mid-conversation (SIGKILL), then come back on the same port and data.

The stack is the production one on one machine (``scripts.servers.running_bot``): two Rasa workers on a Redis
lock store, Rasa's tracker store and the bot's database (chat log, tickets, KB) on PostgreSQL. Both stores are
private to this module (``scripts.private_stores``): the machine's shared PostgreSQL and Redis are never touched.

What the person is promised, and checked here:

* PostgreSQL down: a message from the chat window cannot be written, and the person is told so in French
  (503, ``stored: false``); the window keeps it in its outbox and sends it again with the same ``client_id``
  (``widget/orientbot-widget.js``), as ``resend`` does here. When PostgreSQL is back, with no server restarted:
  the resent messages get normal answers at the first try, each is in the history once, in order, as in Rasa's
  tracker.
* Redis down: the message is written but the bot cannot take the conversation's lock: the person is told in
  French that it is stored and to try again (distress gets the numbers at once); when Redis is back, the resent
  message is answered, once.
* The REST channel (``bot/channels/rest.py``), with either store down: a French 503 in the person's register, the
  message not taken (never answered from an empty conversation, never ``[]``), the emergency numbers at once for
  distress; when the store is back, the message sent again is answered at the first try, on the whole
  conversation, and Rasa's tracker holds only the messages it took.
"""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from typing import List, Optional, Tuple

import pytest

from scripts import private_stores
from scripts.servers import MODEL, running_bot
from tests.conftest import stack_risk_model

pytestmark = pytest.mark.e2e

WORKERS = 2
# After a store returns, the service must be back within this many seconds.
RECOVERY_SECONDS = 60
QUESTION = "comment on s'inscrit en BTS par apprentissage ?"
ASK_COUNSELLOR = "je voudrais parler à un conseiller"
DISTRESS = "j'ai envie d'en finir avec la vie"
NUMBERS = ("3114", "3018", "119", "112")
ENGLISH = ("Internal Server Error", "Traceback", "exception", "error occurred")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    for reason in (private_stores.postgres_unavailable(), private_stores.redis_unavailable()):
        if reason:
            pytest.skip(f"private stores unavailable here: {reason}")
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: `make test` trains it first (make train)")
    work = tmp_path_factory.mktemp("store-faults")
    with private_stores.private_postgres() as postgres, private_stores.private_redis() as redis_server, \
            pytest.MonkeyPatch.context() as patch:
        # Never the machine's shared PostgreSQL (:5432) nor Redis (:6379): CI and other work use them.
        assert postgres.port != 5432 and redis_server.port != 6379
        # scripts/workers.py reads the lock store's address from the settings, as `make run` does.
        patch.setenv("ORIENTBOT_SERVE_LOCK_STORE_URL", redis_server.url)
        with running_bot(work, workers=WORKERS, database_url=postgres.url,
                         risk_model=stack_risk_model(work)) as bot:
            # running_bot returns when one worker answers; the other may still be loading its model, and a store
            # killed then would test a worker that never saw it up.
            deadline = time.time() + 240
            while (work / "servers.log").read_text(errors="replace").count("Rasa server is up and running") < WORKERS:
                assert time.time() < deadline, "the second Rasa worker did not start"
                time.sleep(1)
            yield bot, postgres, redis_server, work


@pytest.fixture
def running_stack(stack):
    """The stack with both stores up (a failed test may have left one down)."""
    bot, postgres, redis_server, work = stack
    if not postgres.running:
        postgres.start()
    if not redis_server.running:
        redis_server.start()
    return stack


class Window:
    """What the chat window does: a conversation of its own, and messages with their client_id."""

    def __init__(self, url: str):
        self.url = url
        started = self._call("/start", {})[1]
        self.sender, self.token = started["sender"], started["token"]

    def _call(self, path: str, body: Optional[dict] = None) -> Tuple[int, dict]:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json", **({"X-Orientbot-Token": self.token}
                                                           if getattr(self, "token", None) else {})}
        request = urllib.request.Request(f"{self.url}/webhooks/chat{path}", data=data, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=90) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            raw = error.read()
            try:
                return error.code, json.loads(raw)
            except ValueError:
                return error.code, {"error": raw.decode("utf-8", "replace")}

    def send(self, text: str, client_id: Optional[str] = None) -> Tuple[int, dict]:
        return self._call("/message", {"sender": self.sender, "text": text, "metadata": {"audience": "eleve"},
                                       "client_id": client_id or uuid.uuid4().hex})

    def resend(self, text: str, client_id: str) -> Tuple[int, dict, int]:
        """The outbox: the same message, again, until the server takes it; (status, reply, attempts)."""
        deadline, attempts = time.time() + RECOVERY_SECONDS, 0
        while True:
            attempts += 1
            status, reply = self.send(text, client_id)
            if status == 200 or time.time() > deadline:
                return status, reply, attempts
            time.sleep(1)

    def history(self) -> Tuple[int, dict]:
        return self._call(f"/history?sender={self.sender}")


def said(reply: dict) -> str:
    return " ".join([reply.get("error", "")] +
                    [m["text"] for m in reply.get("messages", []) if m["author"] != "user"])


def answered_normally(status: int, reply: dict) -> bool:
    text = said(reply)
    return (status == 200 and reply["messages"][0]["author"] == "user" and bool(text.strip())
            and "répondre pour le moment" not in text)


def assert_french_notice(text: str) -> None:
    assert text.strip(), "silence"
    for word in ENGLISH:
        assert word.lower() not in text.lower(), f"not a message for the person: {text[:300]}"


def rest(bot, sender: str, text: str) -> list:
    return bot.ask(text, sender=sender)


def rest_raw(bot, sender: str, text: str, audience: str = "eleve") -> Tuple[int, object]:
    """(status, reply) of the REST channel, whatever the status."""
    status, raw = bot.post_raw(json.dumps({"sender": sender, "message": text,
                                           "metadata": {"audience": audience}}).encode())
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw


def assert_rest_not_taken(bot, sender: str) -> None:
    """While a store is down: a French 503 in the person's register (tu, vous), the numbers at once for distress."""
    send_again = {"eleve": ("ton message", "envoie-le"), "parent": ("votre message", "le renvoyer")}
    for text, audience in ((QUESTION, "eleve"), (ASK_COUNSELLOR, "parent"), (DISTRESS, "eleve")):
        status, reply = rest_raw(bot, sender, text, audience)
        assert status == 503 and isinstance(reply, list) and len(reply) == 1, (status, reply)
        told = reply[0]["text"]
        assert_french_notice(told)
        assert "pas pu être reçu" in told, told
        assert all(words in told.lower() for words in send_again[audience]), (audience, told)
        assert ("votre" if audience == "eleve" else "ton message") not in told, (audience, told)
        assert "answer" not in reply[0]["custom"] and "handoff" not in reply[0]["custom"]
        if text == DISTRESS:
            assert reply[0]["custom"]["urgent"] is True
            for number in NUMBERS:
                assert number in told, f"no {number} on the REST channel while a store is down"
        else:
            assert not any(number in told for number in ("3114", "3018")), told


def rest_answered(bot, sender: str, text: str) -> list:
    """After the store is back: the message sent again is answered, at the first try."""
    status, reply = rest_raw(bot, sender, text)
    assert status == 200 and isinstance(reply, list) and reply, (status, reply)
    told = " ".join(r.get("text") or "" for r in reply)
    assert told.strip() and "pas pu être reçu" not in told, reply
    return reply


def tracker_user_texts(database_url: str, sender: str) -> List[str]:
    from sqlalchemy import text

    from orientbot.db import make_engine

    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT data FROM events WHERE sender_id = :s AND type_name = 'user' "
                                           "ORDER BY id"), {"s": sender}).scalars().all()
    finally:
        engine.dispose()
    return [json.loads(row).get("text") for row in rows]


def tickets_of(database_url: str, sender: str) -> List[Tuple[str, bool]]:
    from sqlalchemy import select

    from orientbot.db import Ticket, make_engine

    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(
                select(Ticket.id, Ticket.spooled).where(Ticket.sender_id == sender)).all()]
    finally:
        engine.dispose()


def handoff_ids(messages: list) -> List[str]:
    return [m["payload"]["handoff"]["ticket_id"] for m in messages
            if isinstance(m.get("payload"), dict) and "handoff" in m["payload"]]


def test_postgresql_killed_mid_conversation_loses_nothing_and_service_resumes_by_itself(running_stack):
    bot, postgres, _, _ = running_stack
    window = Window(bot.url)
    rest_sender = f"storefault-rest-{uuid.uuid4().hex[:12]}"
    status, reply = window.send("bonjour")
    assert answered_normally(status, reply)
    assert rest(bot, rest_sender, "bonjour")

    postgres.kill()

    # The chat window: told in French that the message is not stored yet and will go again by itself.
    pending = [(QUESTION, "m-question"), (ASK_COUNSELLOR, "m-counsellor")]
    for text, client_id in pending:
        status, reply = window.send(text, client_id)
        assert status == 503 and reply.get("stored") is False, (status, reply)
        assert_french_notice(reply["error"])
        assert "indisponible" in reply["error"] and "pas encore pu être enregistré" in reply["error"]
        assert "repartira tout seul" in reply["error"]
    status, reply = window.history()  # the window's resync while the database is down: French, not a 500
    assert status == 503 and "indisponible" in reply["error"], (status, reply)

    # The REST channel: not taken (Rasa's answered from an empty conversation kept in memory), said in French.
    assert_rest_not_taken(bot, rest_sender)

    postgres.start()  # the same port and data directory; no bot process restarted

    # The outbox goes again, in order: the first try is answered (no dead pooled connection), each once.
    answers = []
    for text, client_id in pending:
        status, reply, attempts = window.resend(text, client_id)
        assert answered_normally(status, reply), (status, reply)
        assert attempts == 1, f"« {text} » needed {attempts} tries after PostgreSQL came back"
        answers.append(reply)
    announced = handoff_ids(answers[1]["messages"])
    assert len(announced) == 1, answers[1]
    status, reply = window.send("merci")
    assert answered_normally(status, reply)

    sent = ["bonjour", QUESTION, ASK_COUNSELLOR, "merci"]
    status, reply = window.history()
    assert status == 200
    assert [m["text"] for m in reply["messages"] if m["author"] == "user"] == sent
    # Rasa's copy too: nothing written out of place by a worker that read the conversation on a dead connection.
    assert tracker_user_texts(bot.database_url, window.sender) == sent
    assert tickets_of(bot.database_url, window.sender) == [(announced[0], False)]

    # The REST conversation goes on where it was: the hand-over sent again opens its ticket, and Rasa's tracker
    # holds what it took, before and after, and nothing of what it refused.
    replies = rest_answered(bot, rest_sender, ASK_COUNSELLOR)
    ticket = [r["custom"]["handoff"]["ticket_id"] for r in replies
              if isinstance(r.get("custom"), dict) and "handoff" in r["custom"]]
    assert len(ticket) == 1, replies
    assert tickets_of(bot.database_url, rest_sender) == [(ticket[0], False)]
    assert tracker_user_texts(bot.database_url, rest_sender) == ["bonjour", ASK_COUNSELLOR]


def test_redis_killed_the_person_is_told_their_message_is_kept_and_service_resumes_by_itself(running_stack):
    bot, _, redis_server, _ = running_stack
    window = Window(bot.url)
    rest_sender = f"storefault-rest-{uuid.uuid4().hex[:12]}"
    status, reply = window.send("bonjour")
    assert answered_normally(status, reply)
    assert rest(bot, rest_sender, "bonjour")

    redis_server.kill()

    status, reply = window.send(QUESTION, "m-question")
    assert status == 503 and reply.get("stored") is True, (status, reply)
    assert_french_notice(reply["error"])
    assert "répondre pour le moment" in reply["error"] and "bien enregistré" in reply["error"]
    assert [m["text"] for m in reply["messages"]] == [QUESTION]
    distress = DISTRESS
    status, reply = window.send(distress, "m-distress")
    assert status == 503 and reply.get("urgent") is True, (status, reply)
    for number in NUMBERS:
        assert number in reply["error"], f"no {number} while Redis is down"
    # The REST channel: not taken (Rasa's answered [], nothing said), said in French.
    assert_rest_not_taken(bot, rest_sender)

    redis_server.start()  # the same port; no bot process restarted

    for text, client_id in ((QUESTION, "m-question"), (distress, "m-distress")):
        status, reply, attempts = window.resend(text, client_id)
        assert answered_normally(status, reply), (status, reply)
        assert attempts == 1, f"« {text} » needed {attempts} tries after Redis came back"
    status, reply = window.send("merci")
    assert status == 200 and said(reply)

    sent = ["bonjour", QUESTION, distress, "merci"]
    status, reply = window.history()
    assert [m["text"] for m in reply["messages"] if m["author"] == "user"] == sent
    assert tracker_user_texts(bot.database_url, window.sender) == sent

    rest_answered(bot, rest_sender, QUESTION)
    assert tracker_user_texts(bot.database_url, rest_sender) == ["bonjour", QUESTION]

