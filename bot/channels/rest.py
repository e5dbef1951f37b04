"""The REST channel (``POST /webhooks/rest/webhook``), which says so when a store cannot take a message.

Owns the endpoint the evaluation and trusted clients use: Rasa's ``RestInput`` (same name ``rest``, so the same
URL, request ``{"sender", "message", "metadata": {"audience"}}`` and reply list with its ``custom.answer`` /
``custom.handoff`` payloads), registered in ``credentials.yml`` in its place, and what it does differently:

* **a store fails**. Rasa's channel answered ``[]`` while the lock store (Redis) was down (the lock's error is
  logged and swallowed), and from an empty conversation while the tracker store (PostgreSQL) was down: Rasa wraps
  the tracker store in a ``FailSafeTrackerStore`` whose ``retrieve`` logs the error and returns None (the bot
  then starts a new conversation) and whose ``save`` writes to an ``InMemoryTrackerStore`` instead. Here the
  message is not handled at all and the answer is HTTP 503 with one French message in the person's register
  (``metadata.audience``): it could not be taken, send it again; every emergency number at once when it shows
  distress (``bot.channels.fallback``);
* **a flood**: messages are limited per client address (``chat.rest_messages_per_minute_per_address``), counted
  in Redis with the chat channel's limits (``bot.channels.guard``); loopback, the machine's own tools, is not.

The rest is Rasa's and the bot's, as before: typed ``/intent`` commands are read by ``bot.actions.conversation``
(only the buttons' intents may be forced), Sanic refuses bodies past ``SANIC_REQUEST_MAX_SIZE`` (413), a body that
is not JSON gets Sanic's 400, and ``?stream=true`` streams as Rasa does (without the 503).
"""
from __future__ import annotations

import asyncio
import ipaddress
import logging
from asyncio import CancelledError
from contextvars import ContextVar
from typing import Any, Awaitable, Callable, Optional, Union

import rasa.utils.endpoints
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput as RasaRestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse, ResponseStream

from bot.channels.fallback import client_address, not_taken_reply, ping_tracker_store, too_many, tracker_store_chain
from bot.channels.guard import SlidingWindow, shared_counts

logger = logging.getLogger(__name__)

# True while this channel handles a message: the tracker store's failure then fails the message (below) instead of
# handing the bot an empty conversation. Other channels (the chat window's, socket.io) keep Rasa's behaviour.
_STRICT: ContextVar[bool] = ContextVar("orientbot_rest_strict_tracker_store", default=False)


class TrackerStoreUnavailable(Exception):
    """Rasa's tracker store failed while the REST channel was handling a message: the message is not taken."""


def _on_tracker_store_error(error: Exception) -> None:
    """The ``FailSafeTrackerStore``'s callback (its ``on_tracker_store_error``), called from its retrieve and save."""
    if _STRICT.get():
        raise TrackerStoreUnavailable(str(error)) from error
    # What Rasa logs without a callback: the conversation is then read empty, or kept in memory only.
    logger.error("Rasa's tracker store failed, this message uses a conversation kept in memory: %s", error)


def strict_tracker_store(app: Any) -> None:
    """Give Rasa's ``FailSafeTrackerStore`` our callback; again after a model reload (a new agent, a new store).

    The agent makes the wrapper itself (``Agent._create_tracker_store``) with no callback, so the attribute its
    constructor would set is the only way in.
    """
    from rasa.core.tracker_store import FailSafeTrackerStore

    for store in tracker_store_chain(app):
        if isinstance(store, FailSafeTrackerStore) and store._on_tracker_store_error is not _on_tracker_store_error:
            store._on_tracker_store_error = _on_tracker_store_error


def store_failed(error: Optional[BaseException]) -> bool:
    """Whether ``error`` (or what caused it) is a store failing: the lock store, the tracker store, a database."""
    from rasa.core.lock_store import LockError
    from rasa.shared.exceptions import ConnectionException
    from redis.exceptions import RedisError
    from sqlalchemy.exc import SQLAlchemyError

    failures = (TrackerStoreUnavailable, LockError, ConnectionException, RedisError, SQLAlchemyError)
    seen = set()
    # Rasa re-raises the lock store's errors as LockError without "from": the cause is in __context__.
    while error is not None and id(error) not in seen:
        if isinstance(error, failures):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


# Rasa's Redis lock store is not atomic across processes: when two messages of one conversation reach two workers at
# once, the first one's clean-up can delete the lock the second has just queued on, and the second raises LockError
# before handling anything (1 of 1,265 messages, `load.py open --sessions 600 --rate 20` on `make run`, 2026-12-06).
# Nothing was handled, so the message is offered again, on a fresh lock.
LOCK_RACE_ATTEMPTS = 3
LOCK_RACE_PAUSE_SECONDS = 0.05


def lost_its_lock(error: BaseException) -> bool:
    """Whether ``error`` is that race: the lock vanished while the message waited, no store failed."""
    from rasa.core.lock_store import LockError

    return (isinstance(error, LockError) and error.__cause__ is None and error.__context__ is None
            and "Could not acquire lock" in str(error))


def counted(address: str) -> bool:
    """Whether the REST limit counts this client address: not loopback (the machine's own tools)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return True
    mapped = getattr(ip, "ipv4_mapped", None)
    return not (mapped or ip).is_loopback


class GuardedRestInput(RasaRestInput):
    """Rasa's REST channel, with the 503 of a failed store and a limit per client address."""

    def __init__(self) -> None:
        self._limit: Optional[SlidingWindow] = None
        self._limit_ready = False

    def _address_limit(self) -> Optional[SlidingWindow]:
        # Built on first use: nothing connects at import or start-up.
        if not self._limit_ready:
            from orientbot.settings import load_settings

            settings = load_settings()
            per_minute = settings.chat.rest_messages_per_minute_per_address
            if per_minute > 0:
                self._limit = SlidingWindow(per_minute, name="rest-address",
                                            shared=shared_counts(settings.serve.lock_store_url, settings.database_url))
            self._limit_ready = True
        return self._limit

    def _refused(self, request: Request) -> Optional[HTTPResponse]:
        address = client_address(request)
        limit = self._address_limit()
        if limit is None or not counted(address):
            return None
        wait = limit.take(address)
        return too_many(wait) if wait is not None else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        # Rasa's blueprint (its name, health route and webhook), with the webhook's two differences.
        webhook = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)

        @webhook.listener("after_server_start")
        async def prepare_tracker_store(app: Any, _loop: Any) -> None:
            ping_tracker_store(app)
            strict_tracker_store(app)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> Union[ResponseStream, HTTPResponse]:
            refused = self._refused(request)
            if refused is not None:
                return refused
            sender_id = await self._extract_sender(request)
            text = self._extract_message(request)
            input_channel = self._extract_input_channel(request)
            metadata = self.get_metadata(request)
            if rasa.utils.endpoints.bool_arg(request, "stream", default=False):
                return response.stream(self.stream_response(on_new_message, text, sender_id, input_channel, metadata),
                                       content_type="text/event-stream")
            # The agent (and its tracker store) may have been loaded anew since the last message.
            ping_tracker_store(request.app)
            strict_tracker_store(request.app)
            collector = CollectingOutputChannel()
            strict = _STRICT.set(True)
            try:
                for attempt in range(1, LOCK_RACE_ATTEMPTS + 1):
                    try:
                        await on_new_message(UserMessage(text, collector, sender_id, input_channel=input_channel,
                                                         metadata=metadata))
                        break
                    except Exception as error:
                        if attempt == LOCK_RACE_ATTEMPTS or not lost_its_lock(error):
                            raise
                        logger.warning("a REST message lost its conversation's lock to another worker: offered again")
                        await asyncio.sleep(LOCK_RACE_PAUSE_SECONDS)
            except CancelledError:  # as Rasa: whatever was said so far (the person's words are not logged)
                logger.error("a REST message timed out")
            except Exception as error:
                if not store_failed(error):  # as Rasa: logged, and whatever was said so far
                    logger.exception("the bot could not answer a REST message")
                    return response.json(collector.messages)
                logger.error("a REST message could not be taken, a store failed: %s: %s", type(error).__name__, error)
                audience = metadata.get("audience") if isinstance(metadata, dict) else None
                return response.json([{"recipient_id": sender_id, **not_taken_reply(text, audience)}], status=503)
            finally:
                _STRICT.reset(strict)
            return response.json(collector.messages)

        return webhook
