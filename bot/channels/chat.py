"""The chat window's channel: ``/webhooks/chat/…`` on the Rasa server.

Owns the HTTP API the ENT widget talks to (documented in README.md): send a
message, read the conversation, wait for a counsellor's messages (long
polling: works through proxies and after a phone wakes up), give feedback,
leave a contact, erase; and it serves the widget's files.  Registered in
``credentials.yml``; the database work is in ``bot.channels.conversations``.

A conversation belongs to the window that started it: ``POST /start`` gives a
sender id and its token, and every other call must carry that token in the
``X-Orientbot-Token`` header (``bot.channels.guard``), else 403.  Messages and
reads are rate-limited per sender and per client address (429).
"""
from __future__ import annotations

import asyncio
import json
import logging
from functools import partial
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Optional, Tuple

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.conversations import BadRequest, ChatStore, parse_incoming, parse_sender
from bot.channels.guard import TOKEN_HEADER, ConversationTokens, RateLimits, load_or_create_key
from orientbot import emergency
from orientbot.chatlog import MAX_MESSAGE_CHARS, delete_tracker_events

logger = logging.getLogger(__name__)

WIDGET_DIR = Path(__file__).resolve().parents[2] / "widget"
WIDGET_SCRIPT = (WIDGET_DIR / "orientbot-widget.js").resolve()
EMERGENCY_SLOT = "/*ORIENTBOT_EMERGENCY*/[]"


def widget_script() -> str:
    """The chat window's script with the emergency numbers of ``orientbot.emergency`` written in (one source)."""
    source = WIDGET_SCRIPT.read_text(encoding="utf-8")
    return source.replace(EMERGENCY_SLOT, json.dumps(emergency.as_payload(), ensure_ascii=False), 1)
BOT_TIMEOUT_SECONDS = 60


def _error(message: str, status: int = 400, **extra: Any) -> HTTPResponse:
    return response.json({"error": message, **extra}, status=status)


FORBIDDEN = ("Accès refusé : cette conversation ne peut être lue ou continuée que depuis la fenêtre de discussion "
             "qui l'a commencée. Une nouvelle conversation peut être ouverte à tout moment.")


def _too_many(retry_after: int) -> HTTPResponse:
    wait = "une minute" if retry_after >= 50 else f"{retry_after} seconde{'s' if retry_after > 1 else ''}"
    return response.json(
        {"error": f"Beaucoup de messages en peu de temps : merci de patienter {wait} avant de réessayer. "
                  "Rien de ce qui a été écrit n'est perdu.", "retry_after": retry_after},
        status=429, headers={"Retry-After": str(retry_after)})


def _address(request: Request) -> str:
    # remote_addr is the forwarded client address only when Sanic is told to trust a proxy; else the peer's.
    return request.remote_addr or request.ip or "?"


def _tracker_engine(request: Request) -> Any:
    """The SQL engine of Rasa's tracker store (endpoints.yml), or None for another kind of store."""
    store = getattr(getattr(request.app.ctx, "agent", None), "tracker_store", None)
    for _ in range(3):  # AwaitableTrackerStore wraps the SQLTrackerStore
        if store is None:
            return None
        if getattr(store, "engine", None) is not None:
            return store.engine
        store = getattr(store, "_tracker_store", None)
    return None


def _json_body(request: Request) -> Any:
    try:
        return json.loads(request.body or b"")
    except (ValueError, UnicodeDecodeError) as error:
        raise BadRequest("La requête doit être du JSON valide.") from error


class ChatInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "chat"

    def __init__(self) -> None:
        self._store: Optional[ChatStore] = None
        self._settings = None
        self._tokens: Optional[ConversationTokens] = None
        self._limits: Optional[RateLimits] = None

    def _ready(self) -> ChatStore:
        # Built on first use: nothing connects at import or start-up.
        if self._store is None:
            from orientbot.db import create_schema, make_engine
            from orientbot.settings import load_settings

            settings = load_settings()
            self._tokens = ConversationTokens(
                load_or_create_key(settings.privacy.token_key, settings.privacy.token_key_file))
            self._limits = RateLimits(
                messages_per_sender=settings.chat.messages_per_minute_per_sender,
                messages_per_address=settings.chat.messages_per_minute_per_address,
                reads_per_sender=settings.chat.reads_per_minute_per_sender,
                reads_per_address=settings.chat.reads_per_minute_per_address)
            self._settings = settings
            engine = make_engine(settings.database_url)
            create_schema(engine)
            self._store = ChatStore(engine)
        return self._store

    def _guarded_body(self, request: Request) -> Tuple[Dict[str, Any], Optional[HTTPResponse]]:
        """A posted JSON object from a conversation's owner, or the refusal to send back."""
        try:
            body = _json_body(request)
            if not isinstance(body, dict):
                raise BadRequest("La requête doit être un objet JSON.")
        except BadRequest as error:
            return {}, _error(str(error))
        return body, self._guard(request, body.get("sender"), "message")

    def _guard(self, request: Request, sender: Any, kind: Optional[str] = None) -> Optional[HTTPResponse]:
        """None when ``sender`` is a valid id, the request carries its token and is within the limits."""
        try:
            sender = parse_sender(sender)
        except BadRequest as error:
            return _error(str(error))
        if not self._tokens.check(sender, request.headers.get(TOKEN_HEADER)):
            return _error(FORBIDDEN, status=403)
        if kind is not None:
            wait = self._limits.check(kind, sender=sender, address=_address(request))
            if wait is not None:
                return _too_many(wait)
        return None

    async def _run(self, function: Callable, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(None, partial(function, *args))

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        chat = Blueprint("orientbot_chat", __name__)

        @chat.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @chat.route("/start", methods=["POST"])
        async def start(request: Request) -> HTTPResponse:
            await self._run(self._ready)
            wait = self._limits.check_address("message", _address(request))
            if wait is not None:
                return _too_many(wait)
            sender = ConversationTokens.new_sender()
            return response.json({"sender": sender, "token": self._tokens.issue(sender)})

        @chat.route("/message", methods=["POST"])
        async def message(request: Request) -> HTTPResponse:
            store = await self._run(self._ready)
            body, refused = self._guarded_body(request)
            if refused is not None:
                return refused
            try:
                incoming = parse_incoming(body, max_chars=MAX_MESSAGE_CHARS)
                received = await self._run(store.receive, incoming)
            except BadRequest as error:
                return _error(str(error))
            if received.earlier_replies is not None or received.paused:
                state = await self._run(store.state, incoming.sender)
                return response.json({"messages": [received.message] + (received.earlier_replies or []), "state": state})
            collector = CollectingOutputChannel()
            try:
                await asyncio.wait_for(
                    on_new_message(UserMessage(incoming.text, collector, incoming.sender, input_channel=self.name(),
                                               metadata={"audience": incoming.audience})),
                    timeout=BOT_TIMEOUT_SECONDS,
                )
            except Exception:  # the message is stored: the window says so and retries later
                logger.exception("the bot could not answer a chat message")
                return _error("Le bot n'a pas pu répondre pour le moment ; ton message est bien enregistré.",
                              status=503, stored=True, messages=[received.message])
            replies = await self._run(store.record_replies, incoming.sender, collector.messages)
            state = await self._run(store.state, incoming.sender)
            return response.json({"messages": [received.message] + replies, "state": state})

        @chat.route("/history", methods=["GET"])
        async def history(request: Request) -> HTTPResponse:
            store = await self._run(self._ready)
            sender = request.args.get("sender")
            refused = self._guard(request, sender, "read")
            if refused is not None:
                return refused
            messages = await self._run(store.messages_after, sender, 0)
            return response.json({"messages": messages, "state": await self._run(store.state, sender)})

        @chat.route("/events", methods=["GET"])
        async def events(request: Request) -> HTTPResponse:
            store = await self._run(self._ready)
            sender = request.args.get("sender")
            refused = self._guard(request, sender, "read")
            if refused is not None:
                return refused
            try:
                after = int(request.args.get("after", "0"))
                wait = min(max(int(request.args.get("wait", self._settings.chat.long_poll_seconds)), 0),
                           self._settings.chat.long_poll_seconds)
            except ValueError:
                return _error("Paramètres invalides.")
            state = await self._run(store.state, sender)
            for _ in range(wait + 1):
                messages = await self._run(store.messages_after, sender, after)
                current = await self._run(store.state, sender)
                if messages or current != state or not wait:
                    return response.json({"messages": messages, "state": current})
                await asyncio.sleep(1)
            return response.json({"messages": [], "state": state})

        async def apply(request: Request, action: Callable[[ChatStore], Callable[[Any], Any]]) -> Any:
            store = await self._run(self._ready)
            body, refused = self._guarded_body(request)
            if refused is not None:
                return refused
            try:
                return await self._run(action(store), body)
            except BadRequest as error:
                return _error(str(error))

        def answer(result: Any) -> HTTPResponse:
            if isinstance(result, HTTPResponse):
                return result
            return response.json({"ok": True, **({"state": result} if isinstance(result, dict) else {})})

        @chat.route("/feedback", methods=["POST"])
        async def feedback(request: Request) -> HTTPResponse:
            return answer(await apply(request, lambda store: store.feedback))

        @chat.route("/contact", methods=["POST"])
        async def contact(request: Request) -> HTTPResponse:
            return answer(await apply(request, lambda store: store.contact))

        @chat.route("/erase", methods=["POST"])
        async def erase(request: Request) -> HTTPResponse:
            erased = await apply(request, lambda store: store.erase)
            if isinstance(erased, HTTPResponse):
                return erased
            tracker = _tracker_engine(request)
            if tracker is not None:  # Rasa's own copy of the conversation
                erased["tracker_events"] = await self._run(delete_tracker_events, tracker, [erased["sender"]])
            return response.json({"ok": True, "erased": erased})

        @chat.route("/widget/<name:path>", methods=["GET"])
        async def widget_file(_: Request, name: str) -> HTTPResponse:
            path = (WIDGET_DIR / name).resolve()
            if WIDGET_DIR.resolve() not in path.parents or not path.is_file() or "node_modules" in path.parts:
                return _error("Fichier introuvable.", status=404)
            if path == WIDGET_SCRIPT:
                return response.text(widget_script(), content_type="application/javascript; charset=utf-8",
                                     headers={"Cache-Control": "no-cache"})
            return await response.file(path, headers={"Cache-Control": "no-cache"})

        return chat
