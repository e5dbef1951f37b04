"""The chat window's channel: ``/webhooks/chat/…`` on the Rasa server.

Owns the HTTP API the ENT widget talks to (documented in README.md): send a
message, read the conversation, wait for a counsellor's messages (long
polling: works through proxies and after a phone wakes up), give feedback,
leave a contact, erase; and it serves the widget's files.  Registered in
``credentials.yml``; the database work is in ``bot.channels.conversations``.
"""
from __future__ import annotations

import asyncio
import json
import logging
from functools import partial
from pathlib import Path
from typing import Any, Awaitable, Callable, Optional

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.conversations import BadRequest, ChatStore, parse_incoming, parse_sender
from orientbot.chatlog import MAX_MESSAGE_CHARS

logger = logging.getLogger(__name__)

WIDGET_DIR = Path(__file__).resolve().parents[2] / "widget"
BOT_TIMEOUT_SECONDS = 60


def _error(message: str, status: int = 400, **extra: Any) -> HTTPResponse:
    return response.json({"error": message, **extra}, status=status)


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

    def _ready(self) -> ChatStore:
        # Built on first use: nothing connects at import or start-up.
        if self._store is None:
            from orientbot.db import create_schema, make_engine
            from orientbot.settings import load_settings

            self._settings = load_settings()
            engine = make_engine(self._settings.database_url)
            create_schema(engine)
            self._store = ChatStore(engine)
        return self._store

    async def _run(self, function: Callable, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(None, partial(function, *args))

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        chat = Blueprint("orientbot_chat", __name__)

        @chat.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @chat.route("/message", methods=["POST"])
        async def message(request: Request) -> HTTPResponse:
            store = await self._run(self._ready)
            try:
                incoming = parse_incoming(_json_body(request), max_chars=MAX_MESSAGE_CHARS)
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
            try:
                sender = parse_sender(request.args.get("sender"))
            except BadRequest as error:
                return _error(str(error))
            messages = await self._run(store.messages_after, sender, 0)
            return response.json({"messages": messages, "state": await self._run(store.state, sender)})

        @chat.route("/events", methods=["GET"])
        async def events(request: Request) -> HTTPResponse:
            store = await self._run(self._ready)
            try:
                sender = parse_sender(request.args.get("sender"))
                after = int(request.args.get("after", "0"))
                wait = min(max(int(request.args.get("wait", self._settings.chat.long_poll_seconds)), 0),
                           self._settings.chat.long_poll_seconds)
            except (BadRequest, ValueError):
                return _error("Paramètres invalides.")
            state = await self._run(store.state, sender)
            for _ in range(wait + 1):
                messages = await self._run(store.messages_after, sender, after)
                current = await self._run(store.state, sender)
                if messages or current != state or not wait:
                    return response.json({"messages": messages, "state": current})
                await asyncio.sleep(1)
            return response.json({"messages": [], "state": state})

        async def apply(request: Request, action: Callable[[ChatStore], Callable[[Any], Any]]) -> HTTPResponse:
            store = await self._run(self._ready)
            try:
                result = await self._run(action(store), _json_body(request))
            except BadRequest as error:
                return _error(str(error))
            return response.json({"ok": True, **({"state": result} if isinstance(result, dict) else {})})

        @chat.route("/feedback", methods=["POST"])
        async def feedback(request: Request) -> HTTPResponse:
            return await apply(request, lambda store: store.feedback)

        @chat.route("/contact", methods=["POST"])
        async def contact(request: Request) -> HTTPResponse:
            return await apply(request, lambda store: store.contact)

        @chat.route("/erase", methods=["POST"])
        async def erase(request: Request) -> HTTPResponse:
            return await apply(request, lambda store: store.erase)

        @chat.route("/widget/<name:path>", methods=["GET"])
        async def widget_file(_: Request, name: str) -> HTTPResponse:
            path = (WIDGET_DIR / name).resolve()
            if WIDGET_DIR.resolve() not in path.parents or not path.is_file() or "node_modules" in path.parts:
                return _error("Fichier introuvable.", status=404)
            return await response.file(path, headers={"Cache-Control": "no-cache"})

        return chat
