"""Issue 11: PostgreSQL and Redis crash mid-conversation (SIGKILL), then come back on the same port and data.

The stack is the production one on one machine (``scripts.servers.running_bot``): two Rasa workers on a Redis
lock store, Rasa's tracker store and the bot's database (chat log, tickets, KB) on PostgreSQL. Both stores are
private to this module (``scripts.private_stores``): the machine's shared PostgreSQL and Redis are never touched.

What the person is promised, and checked here:

* PostgreSQL down: a message from the chat window cannot be written, and the person is told so in French
  (503, ``stored: false``); the window keeps it in its outbox and sends it again with the same ``client_id``
  (``widget/orientbot-widget.js``), as ``resend`` does here. A hand-over asked on the REST channel is spooled
  (``orientbot.tickets``) and the person told it will be passed on. When PostgreSQL is back, with no server
  restarted: the resent messages get normal answers at the first try, each is in the history once, in order, as
  in Rasa's tracker; the spooled ticket is imported by itself, once.
* Redis down: the message is written but the bot cannot take the conversation's lock: the person is told in
  French that it is stored and to try again (distress gets the numbers at once); when Redis is back, the resent
  message is answered, once.
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
# After a store returns, the service must be back within this many seconds (the ticket spool is imported every
# 30 s: bot.actions.services.SPOOL_IMPORT_SECONDS).
RECOVERY_SECONDS = 60
QUESTION = "comment on s'inscrit en BTS par apprentissage ?"
ASK_COUNSELLOR = "je voudrais parler à un conseiller"
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
    bot, postgres, _, work = running_stack
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

    # The REST channel: the hand-over is spooled, the person told it will be passed on.
    replies = rest(bot, rest_sender, ASK_COUNSELLOR)
    told = " ".join(r.get("text") or "" for r in replies)
    assert_french_notice(told)
    assert "sera transmise" in told, told
    spooled = [r["custom"]["handoff"]["ticket_id"] for r in replies
               if isinstance(r.get("custom"), dict) and "handoff" in r["custom"]]
    assert len(spooled) == 1 and r_queued(replies), replies
    assert (work / "spool.jsonl").exists(), "the ticket was announced but not spooled"

    postgres.start()  # the same port and data directory; no bot process restarted
    back = time.time()

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

    # The spooled ticket is imported by itself, once, with the id the person was given.
    while time.time() - back < RECOVERY_SECONDS and not tickets_of(bot.database_url, rest_sender):
        time.sleep(1)
    assert tickets_of(bot.database_url, rest_sender) == [(spooled[0], True)]
    assert not (work / "spool.jsonl").exists()
    assert rest(bot, rest_sender, QUESTION)


def r_queued(replies: list) -> bool:
    return all(r["custom"]["handoff"]["queued"] for r in replies
               if isinstance(r.get("custom"), dict) and "handoff" in r["custom"])


def test_redis_killed_the_person_is_told_their_message_is_kept_and_service_resumes_by_itself(running_stack):
    bot, _, redis_server, _ = running_stack
    window = Window(bot.url)
    status, reply = window.send("bonjour")
    assert answered_normally(status, reply)

    redis_server.kill()

    status, reply = window.send(QUESTION, "m-question")
    assert status == 503 and reply.get("stored") is True, (status, reply)
    assert_french_notice(reply["error"])
    assert "répondre pour le moment" in reply["error"] and "bien enregistré" in reply["error"]
    assert [m["text"] for m in reply["messages"]] == [QUESTION]
    distress = "j'ai envie d'en finir avec la vie"
    status, reply = window.send(distress, "m-distress")
    assert status == 503 and reply.get("urgent") is True, (status, reply)
    for number in ("3114", "3018", "119", "112"):
        assert number in reply["error"], f"no {number} while Redis is down"

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

