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
* **a stream** (``?stream=true``, one JSON line per reply as Rasa writes them): the same, though a stream's status
  goes before its body. The message is handled first and the stream opens at its first reply, so a store that
  fails before (the lock, the conversation's read: where they fail) gets the same 503 and JSON list; one that
  fails after (the conversation's write) ends the stream with that French message as its last line, where Rasa's
  stream waited for ever. Another failure ends it with what was said so far, as without a stream;
* **a flood**: messages are limited per sender id (``chat.rest_messages_per_minute_per_sender``: one sender may
  write from many addresses) and per client address (``chat.rest_messages_per_minute_per_address``: one address,
  a school's NAT or an ENT's proxy, hides many pupils, so it is generous), counted in Redis with the chat
  channel's limits (``bot.channels.guard``); a kind French 429 in the person's register says to send the message
  again in a moment (it is not kept). Loopback, the machine's own tools, is counted by neither.

The rest is Rasa's and the bot's, as before: typed ``/intent`` commands are read by ``bot.actions.conversation``
(only the buttons' intents may be forced), Sanic refuses bodies past ``SANIC_REQUEST_MAX_SIZE`` (413), and a body
that is not JSON gets Sanic's 400.
"""
from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
from asyncio import CancelledError
from contextvars import ContextVar
from typing import Any, Awaitable, Callable, Dict, Optional, Set, Tuple, Union

import rasa.utils.endpoints
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import QueueOutputChannel
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


# Rasa's Redis lock store was not atomic across processes: when two messages of one conversation reached two workers
# at once, the first one's clean-up could delete the lock the second had just queued on, and the second raised
# LockError before handling anything (1 of 1,265 messages, `load.py open --sessions 600 --rate 20` on `make run`,
# 2026-12-06). ``bot.components.lock_store_patch`` now makes its steps atomic; should a lock still vanish (it expired,
# or a lock store without the patch), nothing was handled, so the message is offered again, on a fresh lock.
LOCK_RACE_ATTEMPTS = 3
LOCK_RACE_PAUSE_SECONDS = 0.05


def lost_its_lock(error: BaseException) -> bool:
    """Whether ``error`` is that race: the lock vanished while the message waited, no store failed."""
    from rasa.core.lock_store import LockError

    return (isinstance(error, LockError) and error.__cause__ is None and error.__context__ is None
            and "Could not acquire lock" in str(error))


async def offer(on_new_message: Callable[[UserMessage], Awaitable[Any]],
                message: Callable[[], UserMessage]) -> None:
    """Hand the bot one message; again, a few times, when it lost its lock to that race (nothing was handled)."""
    for attempt in range(1, LOCK_RACE_ATTEMPTS + 1):
        try:
            await on_new_message(message())
            return
        except Exception as error:
            if attempt == LOCK_RACE_ATTEMPTS or not lost_its_lock(error):
                raise
            logger.warning("a REST message lost its conversation's lock to another worker: offered again")
            await asyncio.sleep(LOCK_RACE_PAUSE_SECONDS)


def prepare_stores(app: Any) -> None:
    """The agent (and its tracker store) may have been loaded anew since the last message."""
    ping_tracker_store(app)
    strict_tracker_store(app)


def not_taken(sender_id: Any, text: Any, metadata: Any) -> Dict[str, Any]:
    """The one reply to a message no store could take (``fallback.not_taken_reply``), addressed as Rasa's are."""
    audience = metadata.get("audience") if isinstance(metadata, dict) else None
    return {"recipient_id": sender_id, **not_taken_reply(text, audience)}


_HANDLING: Set["asyncio.Task[None]"] = set()  # the streamed messages the bot is handling


class _Ended:
    """What the stream's queue holds after the bot's last reply: how the handling ended."""

    def __init__(self, error: Optional[BaseException] = None) -> None:
        self.error = error


def counted(address: str) -> bool:
    """Whether the REST limit counts this client address: not loopback (the machine's own tools)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return True
    mapped = getattr(ip, "ipv4_mapped", None)
    return not (mapped or ip).is_loopback


class GuardedRestInput(RasaRestInput):
    """Rasa's REST channel, with the 503 of a failed store (streamed or not) and limits per sender and address."""

    def __init__(self) -> None:
        self._limits: Tuple[Optional[SlidingWindow], Optional[SlidingWindow]] = (None, None)
        self._limits_ready = False

    def _sender_and_address_limits(self) -> Tuple[Optional[SlidingWindow], Optional[SlidingWindow]]:
        # Built on first use: nothing connects at import or start-up.
        if not self._limits_ready:
            from orientbot.settings import load_settings

            settings = load_settings()
            shared = shared_counts(settings.serve.lock_store_url, settings.database_url)
            per_sender = settings.chat.rest_messages_per_minute_per_sender
            per_address = settings.chat.rest_messages_per_minute_per_address
            self._limits = (SlidingWindow(per_sender, name="rest-sender", shared=shared) if per_sender > 0 else None,
                            SlidingWindow(per_address, name="rest-address", shared=shared) if per_address > 0 else None)
            self._limits_ready = True
        return self._limits

    def _refused(self, request: Request, sender_id: Any, text: Any, metadata: Any) -> Optional[HTTPResponse]:
        address = client_address(request)
        if not counted(address):
            return None
        by_sender, by_address = self._sender_and_address_limits()
        # The sender's own limit first: a message it refuses does not use up its address's (a whole class's) count.
        wait = by_sender.take(str(sender_id)) if by_sender is not None else None
        if wait is None and by_address is not None:
            wait = by_address.take(address)
        if wait is None:
            return None
        audience = metadata.get("audience") if isinstance(metadata, dict) else None
        return too_many(wait, text, audience, resend=True)

    async def _streamed(self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]], text: Any,
                        sender_id: Any, input_channel: str, metadata: Any) -> Union[ResponseStream, HTTPResponse]:
        """Rasa's stream, opened at the bot's first reply: a store that fails before it gets the 503 list."""
        prepare_stores(request.app)
        queue: asyncio.Queue = asyncio.Queue()
        collector = QueueOutputChannel(queue)

        async def handle() -> None:
            ended = _Ended()
            try:
                await offer(on_new_message, lambda: UserMessage(text, collector, sender_id,
                                                                input_channel=input_channel, metadata=metadata))
            except CancelledError:  # as without a stream: whatever was said so far
                logger.error("a REST message timed out")
                raise
            except Exception as error:  # read by the stream, which says it or logs it
                ended = _Ended(error)
            finally:  # always: the stream must not wait for ever (Rasa's did when the bot raised)
                queue.put_nowait(ended)

        strict = _STRICT.set(True)
        try:  # the task runs in a copy of this context: strict, as the message without a stream
            task = asyncio.ensure_future(handle())
        finally:
            _STRICT.reset(strict)
        _HANDLING.add(task)  # the loop holds its tasks weakly; the person may leave before the bot is done
        task.add_done_callback(_HANDLING.discard)

        def failed(ended: _Ended) -> bool:
            """Whether a store failed (the person is told); another failure is logged, as without a stream."""
            if ended.error is None:
                return False
            if store_failed(ended.error):
                logger.error("a REST message could not be taken, a store failed: %s: %s", type(ended.error).__name__,
                             ended.error)
                return True
            logger.error("the bot could not answer a REST message", exc_info=ended.error)
            return False

        first = await queue.get()
        if isinstance(first, _Ended) and failed(first):
            return response.json([not_taken(sender_id, text, metadata)], status=503)

        async def stream(resp: Any) -> None:
            item = first
            while not isinstance(item, _Ended):
                await resp.write(json.dumps(item) + "\n")  # as Rasa's stream_response writes each reply
                item = await queue.get()
            if item is not first and failed(item):
                await resp.write(json.dumps(not_taken(sender_id, text, metadata)) + "\n")

        return response.stream(stream, content_type="text/event-stream")

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        # Rasa's blueprint (its name, health route and webhook), with the webhook's differences.
        webhook = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)

        @webhook.listener("after_server_start")
        async def prepare_tracker_store(app: Any, _loop: Any) -> None:
            prepare_stores(app)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> Union[ResponseStream, HTTPResponse]:
            sender_id = await self._extract_sender(request)
            text = self._extract_message(request)
            input_channel = self._extract_input_channel(request)
            metadata = self.get_metadata(request)
            refused = self._refused(request, sender_id, text, metadata)
            if refused is not None:
                return refused
            if rasa.utils.endpoints.bool_arg(request, "stream", default=False):
                return await self._streamed(request, on_new_message, text, sender_id, input_channel, metadata)
            prepare_stores(request.app)
            collector = CollectingOutputChannel()
            strict = _STRICT.set(True)
            try:
                await offer(on_new_message, lambda: UserMessage(text, collector, sender_id,
                                                                input_channel=input_channel, metadata=metadata))
            except CancelledError:  # as Rasa: whatever was said so far (the person's words are not logged)
                logger.error("a REST message timed out")
            except Exception as error:
                if not store_failed(error):  # as Rasa: logged, and whatever was said so far
                    logger.exception("the bot could not answer a REST message")
                    return response.json(collector.messages)
                logger.error("a REST message could not be taken, a store failed: %s: %s", type(error).__name__, error)
                return response.json([not_taken(sender_id, text, metadata)], status=503)
            finally:
                _STRICT.reset(strict)
            return response.json(collector.messages)

        return webhook
