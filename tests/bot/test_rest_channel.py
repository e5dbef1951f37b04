"""Our REST channel (``bot.channels.rest``) on a Sanic server of its own, with a stand-in for the agent.

Rasa's ``RestInput`` is served beside it (``/webhooks/rasa/…``) on the same stand-in: with the stores fine both
answer alike; a failed lock store or tracker store gets our French 503 where Rasa's answered ``[]`` or went on
with an empty conversation. The real stack, with real stores killed, is ``tests/e2e/test_store_faults.py``.
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
                                      else None, headers=headers or {}) as reply:
                        answers.append((reply.status, await reply.json(content_type=None), dict(reply.headers)))
        finally:
            server.close()
            await server.wait_closed()
        return answers

    return asyncio.run(run())


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
    assert "merci de patienter" in refused["error"] and 1 <= int(headers["Retry-After"]) <= 60


@pytest.mark.parametrize("address, is_counted", [
    ("127.0.0.1", False), ("127.0.0.53", False), ("::1", False), ("::ffff:127.0.0.1", False),
    ("203.0.113.7", True), ("10.0.0.1", True), ("2001:db8::1", True), ("?", True)])
def test_only_loopback_is_not_counted(address, is_counted):
    assert counted(address) is is_counted
