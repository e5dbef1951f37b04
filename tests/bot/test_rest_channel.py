"""Our REST channel (``bot.channels.rest``) on a Sanic server of its own, with a stand-in for the agent.

Rasa's ``RestInput`` is served beside it (``/webhooks/rasa/…``) on the same stand-in: with the stores fine both
answer alike, streamed or not; a failed lock store or tracker store gets our French 503 where Rasa's answered
``[]``, went on with an empty conversation, or (streamed) never ended. The real stack, with real stores killed, is
``tests/e2e/test_store_faults.py``.
"""
from __future__ import annotations

import asyncio
import json
import uuid
from types import SimpleNamespace

import aiohttp
import pytest
from rasa.core.channels.rest import RestInput as RasaRestInput
from rasa.core.lock_store import LockError
from rasa.core.tracker_store import FailSafeTrackerStore, InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from sanic import Sanic

from bot.channels.rest import GuardedRestInput, counted
from scripts.servers import free_port

ENGLISH = ("Internal Server Error", "Traceback", "error", "exception")


class BrokenStore(InMemoryTrackerStore):
    """A tracker store whose database is down."""

    async def retrieve(self, sender_id):
        raise ConnectionRefusedError("connection to server at 127.0.0.1 refused")

    async def save(self, tracker):
        raise ConnectionRefusedError("connection to server at 127.0.0.1 refused")


def lock_store_down():
    # As Rasa raises it when Redis does not answer (LockStore.issue_ticket).
    import redis

    try:
        raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
    except redis.ConnectionError as error:
        raise LockError(f"Error while acquiring lock. Error:\n{error}")


def serve_and_post(agent, handler, requests, *, real_ip_header=False):
    """Start both channels on ``agent``, send ``requests`` [(path, body, headers)], return [(status, json, headers)]."""
    async def run():
        app = Sanic(f"rest-test-{uuid.uuid4().hex[:8]}")
        if real_ip_header:
            app.config.REAL_IP_HEADER = "x-real-ip"
        app.ctx.agent = agent
        app.blueprint(GuardedRestInput().blueprint(handler), url_prefix="/webhooks/rest")
        app.blueprint(RasaRestInput().blueprint(handler), url_prefix="/webhooks/rasa")
        port = free_port()
        server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
        await server.startup()
        await server.after_start()
        answers = []
        try:
            async with aiohttp.ClientSession() as session:
                for path, body, headers in requests:
                    method = session.post if body is not None else session.get
                    async with method(f"http://127.0.0.1:{port}{path}", data=json.dumps(body) if body is not None
                                      else None, headers=headers or {},
                                      timeout=aiohttp.ClientTimeout(total=10)) as reply:
                        answers.append((reply.status, parsed(reply, await reply.text()), dict(reply.headers)))
        finally:
            server.close()
            await server.wait_closed()
        return answers

    return asyncio.run(run())


def parsed(reply, body):
    """A JSON reply, or a stream's lines (one JSON reply each, as Rasa's ``stream_response`` writes them)."""
    if reply.content_type == "text/event-stream":
        return [json.loads(line) for line in body.splitlines()]
    return json.loads(body)


def message(text, audience="eleve", sender="s-1"):
    return {"sender": sender, "message": text, "metadata": {"audience": audience}}


def agent_with(store=None):
    return SimpleNamespace(tracker_store=FailSafeTrackerStore(store or InMemoryTrackerStore(Domain.empty())))


@pytest.fixture(autouse=True)
def memory_limits(monkeypatch):
    monkeypatch.setenv("ORIENTBOT_SERVE_LOCK_STORE_URL", "")  # counted in memory: this test's own
    # Sanic rewrites its request handler at each app's start, and cannot twice in one process but in test mode.
    monkeypatch.setattr(Sanic, "test_mode", True)


def test_with_the_stores_fine_it_answers_as_rasa_does():
    async def handler(incoming):
        await incoming.output_channel.send_response(incoming.sender_id, {
            "text": "10 vœux", "custom": {"answer": {"kb_id": "kb-1", "confidence": 0.9, "sources": []}}})

    answers = serve_and_post(agent_with(), handler, [
        ("/webhooks/rest/webhook", message("cb de voeux ?"), None),
        ("/webhooks/rasa/webhook", message("cb de voeux ?"), None),
        ("/webhooks/rest/", None, None)])
    (ours, ours_body, _), (rasa, rasa_body, _), (health, health_body, _) = answers
    assert ours == rasa == 200 and ours_body == rasa_body
    assert [m.get("text") or m["custom"]["answer"]["kb_id"] for m in ours_body] == ["10 vœux", "kb-1"]
    assert health == 200 and health_body == {"status": "ok"}


def test_another_failure_than_a_store_is_left_as_rasa_leaves_it():
    async def handler(incoming):
        raise ValueError("a bug, not a store")

    (ours, ours_body, _), (rasa, rasa_body, _) = serve_and_post(agent_with(), handler, [
        ("/webhooks/rest/webhook", message("bonjour"), None), ("/webhooks/rasa/webhook", message("bonjour"), None)])
    assert (ours, ours_body) == (rasa, rasa_body) == (200, [])


def assert_french_not_taken(status, body, *, register):
    assert status == 503 and len(body) == 1, body
    said = body[0]["text"]
    for word in ENGLISH:
        assert word.lower() not in said.lower(), said
    assert "pas pu être reçu" in said and body[0]["custom"]["unstored"] is True
    if register == "tu":
        assert "ton message" in said and "Renvoie-le" in said and "votre" not in said
    else:
        assert "votre message" in said and "le renvoyer" in said and "ton " not in said


def test_with_the_lock_store_down_it_says_so_in_french_where_rasa_said_nothing():
    async def handler(incoming):
        lock_store_down()

    answers = serve_and_post(agent_with(), handler, [
        ("/webhooks/rest/webhook", message("c'est quoi la cvec ?"), None),
        ("/webhooks/rest/webhook", message("Quand ouvre Parcoursup ?", audience="parent"), None),
        ("/webhooks/rest/webhook", {"sender": "s-2", "message": "c'est quoi la cvec ?"}, None),
        ("/webhooks/rest/webhook", message("j'ai envie d'en finir avec la vie"), None),
        ("/webhooks/rasa/webhook", message("c'est quoi la cvec ?"), None)])
    assert_french_not_taken(*answers[0][:2], register="tu")
    assert_french_not_taken(*answers[1][:2], register="vous")
    assert_french_not_taken(*answers[2][:2], register="tu")  # no audience: spoken to as a pupil
    status, urgent, _ = answers[3]
    assert status == 503 and urgent[0]["custom"]["urgent"] is True
    said = urgent[0]["text"]
    assert said.index("3114") < said.index("pas pu être reçu")  # the numbers first
    for number in ("3114", "3018", "119", "112"):
        assert number in said
    assert answers[4][:2] == (200, [])  # Rasa's own channel: nothing said


def test_a_message_whose_lock_another_worker_removed_is_offered_again():
    calls = []

    async def handler(incoming):
        calls.append(incoming.text)
        if len(calls) == 1:  # as Rasa's LockStore._acquire_lock raises it when the lock vanished
            raise LockError(f"Could not acquire lock for conversation_id '{incoming.sender_id}'.")
        await incoming.output_channel.send_response(incoming.sender_id, {"text": "10 vœux"})

    [(status, body, _)] = serve_and_post(agent_with(), handler, [("/webhooks/rest/webhook", message("cb de voeux ?"), None)])
    assert (status, [m["text"] for m in body]) == (200, ["10 vœux"]) and calls == ["cb de voeux ?"] * 2

    async def always_lost(incoming):
        calls.append(incoming.text)
        raise LockError(f"Could not acquire lock for conversation_id '{incoming.sender_id}'.")

    calls.clear()
    [(status, body, _)] = serve_and_post(agent_with(), always_lost, [("/webhooks/rest/webhook", message("cb ?"), None)])
    assert status == 503 and len(calls) == 3  # a few tries, then the French "send it again"


def test_with_the_tracker_store_down_the_message_is_not_handled_on_an_empty_conversation(caplog):
    handled = []

    async def handler(incoming):
        # What Rasa's processor does first: read the conversation (FailSafeTrackerStore.retrieve).
        tracker = await agent.tracker_store.retrieve(incoming.sender_id)
        handled.append((incoming.input_channel, tracker))
        await incoming.output_channel.send_response(incoming.sender_id, {"text": "Bonjour !"})

    agent = agent_with(BrokenStore(Domain.empty()))
    answers = serve_and_post(agent, handler, [
        ("/webhooks/rest/webhook", message("je veux parler à un conseiller", audience="parent"), None),
        ("/webhooks/rasa/webhook", message("je veux parler à un conseiller"), None)])
    assert_french_not_taken(*answers[0][:2], register="vous")
    # Rasa's channel on the same store went on with an empty conversation, as before; ours stopped the message.
    assert answers[1][:2] == (200, [{"recipient_id": "s-1", "text": "Bonjour !"}])
    assert handled == [("rest", None)]


def test_messages_are_limited_per_client_address_but_not_from_loopback(monkeypatch):
    monkeypatch.setenv("ORIENTBOT_CHAT_REST_MESSAGES_PER_MINUTE_PER_ADDRESS", "2")

    async def handler(incoming):
        await incoming.output_channel.send_response(incoming.sender_id, {"text": "Bonjour !"})

    remote, other, loopback = ({"X-Real-IP": address} for address in ("203.0.113.7", "203.0.113.8", "127.0.0.1"))
    answers = serve_and_post(agent_with(), handler, [
        *[("/webhooks/rest/webhook", message("bonjour", sender=f"s-{i}"), remote) for i in range(3)],
        ("/webhooks/rest/webhook", message("bonjour"), other),
        *[("/webhooks/rest/webhook", message("bonjour", sender=f"l-{i}"), loopback) for i in range(4)]],
        real_ip_header=True)
    assert [status for status, _, _ in answers] == [200, 200, 429, 200, 200, 200, 200, 200]
    _, refused, headers = answers[2]
    assert "n'a pas pu être reçu" in refused["error"] and 1 <= int(headers["Retry-After"]) <= 60


STREAM = "/webhooks/rest/webhook?stream=true"


def test_a_stream_with_the_stores_fine_answers_as_rasa_streams():
    async def handler(incoming):
        await incoming.output_channel.send_response(incoming.sender_id, {"text": "10 vœux"})
        await incoming.output_channel.send_response(incoming.sender_id, {"text": "Autre chose ?"})

    (ours, ours_lines, ours_headers), (rasa, rasa_lines, _) = serve_and_post(agent_with(), handler, [
        (STREAM, message("cb de voeux ?"), None),
        ("/webhooks/rasa/webhook?stream=true", message("cb de voeux ?"), None)])
    assert ours == rasa == 200 and ours_lines == rasa_lines
    assert [line["text"] for line in ours_lines] == ["10 vœux", "Autre chose ?"]
    assert ours_headers["Content-Type"].startswith("text/event-stream")


def test_a_stream_with_a_store_down_gets_the_same_french_503_before_it_opens():
    async def lock_down(incoming):
        lock_store_down()

    answers = serve_and_post(agent_with(), lock_down, [
        (STREAM, message("c'est quoi la cvec ?"), None),
        (STREAM, message("Quand ouvre Parcoursup ?", audience="parent"), None),
        (STREAM, message("j'ai envie d'en finir avec la vie"), None)])
    assert_french_not_taken(*answers[0][:2], register="tu")
    assert_french_not_taken(*answers[1][:2], register="vous")
    status, urgent, headers = answers[2]
    assert status == 503 and urgent[0]["custom"]["urgent"] is True and "3114" in urgent[0]["text"]
    assert headers["Content-Type"].startswith("application/json")  # the JSON list, not a stream

    handled = []

    async def reads_the_conversation(incoming):
        handled.append(await agent.tracker_store.retrieve(incoming.sender_id))
        await incoming.output_channel.send_response(incoming.sender_id, {"text": "Bonjour !"})

    agent = agent_with(BrokenStore(Domain.empty()))
    [(status, body, _)] = serve_and_post(agent, reads_the_conversation, [
        (STREAM, message("je veux parler à un conseiller", audience="parent"), None)])
    assert_french_not_taken(status, body, register="vous")
    assert handled == []  # not handled on an empty conversation, as without a stream


def test_a_store_failing_mid_stream_ends_it_with_the_french_message():
    async def saves_the_conversation(incoming):
        await incoming.output_channel.send_response(incoming.sender_id, {"text": "10 vœux"})
        # What Rasa's processor does last: write the conversation (FailSafeTrackerStore.save).
        await agent.tracker_store.save(SimpleNamespace(sender_id=incoming.sender_id))

    agent = agent_with(BrokenStore(Domain.empty()))
    [(status, lines, _)] = serve_and_post(agent, saves_the_conversation, [(STREAM, message("cb de voeux ?"), None)])
    assert status == 200 and [line.get("text") for line in lines[:1]] == ["10 vœux"] and len(lines) == 2
    last = lines[-1]
    assert last["recipient_id"] == "s-1" and last["custom"]["unstored"] is True
    assert "pas pu être reçu" in last["text"] and "Renvoie-le" in last["text"]

    async def a_bug_after_a_reply(incoming):  # not a store: ends with what was said, where Rasa's stream hung
        await incoming.output_channel.send_response(incoming.sender_id, {"text": "10 vœux"})
        raise ValueError("a bug, not a store")

    [(status, lines, _)] = serve_and_post(agent_with(), a_bug_after_a_reply, [(STREAM, message("cb ?"), None)])
    assert (status, [line["text"] for line in lines]) == (200, ["10 vœux"])


def test_messages_are_limited_per_sender_whatever_its_address_but_not_from_loopback(monkeypatch):
    monkeypatch.setenv("ORIENTBOT_CHAT_REST_MESSAGES_PER_MINUTE_PER_SENDER", "3")
    handled = []

    async def handler(incoming):
        handled.append(incoming.sender_id)
        await incoming.output_channel.send_response(incoming.sender_id, {"text": "Bonjour !"})

    def at(address):
        return {"X-Real-IP": address}

    answers = serve_and_post(agent_with(), handler, [
        *[("/webhooks/rest/webhook", message("bonjour", sender="flood"), at(f"203.0.113.{i}")) for i in range(1, 5)],
        ("/webhooks/rest/webhook", message("bonjour", sender="flood", audience="parent"), at("203.0.113.9")),
        ("/webhooks/rest/webhook", message("j'ai envie de mourir", sender="flood"), at("203.0.113.9")),
        (STREAM, message("bonjour", sender="flood"), at("203.0.113.9")),
        ("/webhooks/rest/webhook", message("bonjour", sender="other"), at("203.0.113.1")),
        *[("/webhooks/rest/webhook", message("bonjour", sender="tool"), at("127.0.0.1")) for _ in range(5)]],
        real_ip_header=True)
    assert [status for status, _, _ in answers] == [200] * 3 + [429] * 4 + [200] * 6
    assert handled == ["flood"] * 3 + ["other"] + ["tool"] * 5  # a refused message is not handled

    _, pupil, headers = answers[3]
    assert set(pupil) == {"error", "retry_after"} and 1 <= pupil["retry_after"] == int(headers["Retry-After"]) <= 60
    said = pupil["error"]
    assert "ton message n'a pas pu être reçu" in said and "Renvoie-le dans " in said and "vous" not in said
    parent = answers[4][1]["error"]
    assert "votre message n'a pas pu être reçu" in parent and "Merci de le renvoyer dans " in parent
    assert " ton " not in parent and "Renvoie" not in parent
    urgent = answers[5][1]
    assert urgent["urgent"] is True and urgent["error"].index("3114") < urgent["error"].index("pas pu être reçu")
    for text in (said, parent, urgent["error"]):
        for word in ENGLISH:
            assert word.lower() not in text.lower(), text


@pytest.mark.parametrize("address, is_counted", [
    ("127.0.0.1", False), ("127.0.0.53", False), ("::1", False), ("::ffff:127.0.0.1", False),
    ("203.0.113.7", True), ("10.0.0.1", True), ("2001:db8::1", True), ("?", True)])
def test_only_loopback_is_not_counted(address, is_counted):
    assert counted(address) is is_counted
