"""What the chat window's channel does with the database, without HTTP.

Owns the order of things for one message from the window: the person's message
is written first (so nothing is lost if the bot fails), a message sent twice
is answered once, a conversation with a live ticket goes to the counsellor
instead of the bot, and the bot's replies are written as the window shows them.
Synchronous and injected with an engine: the channel runs it in a thread, tests
call it directly.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Dict, List, Optional, Sequence

from sqlalchemy.engine import Engine

from orientbot import chatlog, workflow
from orientbot.db import ChatMessage, session_scope
from orientbot.safety import detect_distress

SENDER_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
AUDIENCES = ("eleve", "parent")
# The payload key of a reply naming the person's message it answers (``ChatStore.record_replies``).
REPLY_TO = "reply_to"


class BadRequest(ValueError):
    """The request cannot be taken; the message is French and shown to the person."""


@dataclass(frozen=True)
class Incoming:
    sender: str
    text: str  # what the bot reads (a button's payload)
    display: str  # what the conversation shows (the button's title)
    client_id: Optional[str]
    audience: str


def parse_incoming(body: Any, *, max_chars: int) -> Incoming:
    if not isinstance(body, dict):
        raise BadRequest("La requête doit être un objet JSON.")
    sender, text = body.get("sender"), body.get("text")
    if not isinstance(sender, str) or not SENDER_ID.match(sender):
        raise BadRequest("Identifiant de conversation invalide.")
    if not isinstance(text, str):
        raise BadRequest("Le message doit être du texte.")
    text = text.replace("\x00", "").strip()
    if not text:
        raise BadRequest("Le message est vide : écris ta question, ou choisis une proposition.")
    if len(text) > max_chars:
        raise BadRequest(f"Le message est trop long ({len(text)} caractères, {max_chars} au plus) : peux-tu le raccourcir ?")
    display = body.get("display")
    display = display.strip()[:max_chars] if isinstance(display, str) and display.strip() else text
    client_id = body.get("client_id")
    if client_id is not None and (not isinstance(client_id, str) or not CLIENT_ID.match(client_id)):
        raise BadRequest("Identifiant de message invalide.")
    metadata = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
    audience = metadata.get("audience") if metadata.get("audience") in AUDIENCES else "eleve"
    return Incoming(sender, text, display, client_id, audience)


def parse_sender(value: Any) -> str:
    if not isinstance(value, str) or not SENDER_ID.match(value):
        raise BadRequest("Identifiant de conversation invalide.")
    return value


@dataclass
class Received:
    message: Dict[str, Any]
    # The replies already given to this message (it was sent twice), or None.
    earlier_replies: Optional[List[Dict[str, Any]]]
    # True when a counsellor has the conversation: the bot must not answer.
    paused: bool


def merge_bot_outputs(outputs: Sequence[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Rasa's output messages as the window shows them: a ``custom`` payload joins the text it belongs to."""
    merged: List[Dict[str, Any]] = []
    for output in outputs:
        text = output.get("text") or ""
        payload: Dict[str, Any] = {}
        if output.get("buttons"):
            payload["buttons"] = [
                {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))} for b in output["buttons"]
            ]
        if isinstance(output.get("custom"), dict):
            payload.update(output["custom"])
        if not text and merged:
            merged[-1]["payload"].update(payload)
        else:
            merged.append({"text": text, "payload": payload})
    return merged


class ChatStore:
    def __init__(self, engine: Engine, now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> None:
        self._engine = engine
        self._now = now

    def receive(self, incoming: Incoming) -> Received:
        now = self._now()
        with session_scope(self._engine) as session:
            existing = (
                chatlog.find_by_client_id(session, sender_id=incoming.sender, client_id=incoming.client_id)
                if incoming.client_id else None
            )
            if existing is not None:
                replies = _replies_to(chatlog.replies_to(session, sender_id=incoming.sender, message=existing),
                                      existing.id)
                if replies or existing.ticket_id:
                    return Received(chatlog.to_json(existing), [chatlog.to_json(m) for m in replies], paused=False)
                message = existing  # stored earlier, never answered (the bot was down): answer it now
            else:
                message = chatlog.append(
                    session, sender_id=incoming.sender, author="user", text=incoming.display, now=now,
                    client_id=incoming.client_id, payload={"audience": incoming.audience},
                )
            ticket = workflow.bot_paused_for(session, sender_id=incoming.sender)
            if ticket is not None:
                workflow.person_wrote(session, ticket=ticket, message=message, now=now)
                if ticket.priority != "urgent" and detect_distress(incoming.text) is not None:
                    ticket.priority = "urgent"
                    workflow.record(session, ticket_id=ticket.id, kind="escalated_urgent", now=now)
                    chatlog.append(session, sender_id=incoming.sender, author="system", text="", now=now,
                                   payload={"kind": "urgent"}, ticket_id=ticket.id)
            session.flush()
            return Received(chatlog.to_json(message), None, paused=ticket is not None)

    def record_replies(self, sender: str, outputs: Sequence[Dict[str, Any]],
                       reply_to: Optional[int] = None) -> List[Dict[str, Any]]:
        """The bot's replies, written after everything; ``reply_to``: the id of the person's message they answer."""
        now = self._now()
        merged = merge_bot_outputs(outputs) or [{"text": "", "payload": {"kind": "no_reply"}}]
        with session_scope(self._engine) as session:
            stored = []
            for item in merged:
                author = "bot" if item["text"] or "kind" not in item["payload"] else "system"
                if reply_to is not None:
                    # Two messages stored while the bot was down are answered in the order they are resent:
                    # the replies to the first then come after the second, and must not pass for its replies.
                    item["payload"][REPLY_TO] = reply_to
                stored.append(chatlog.append(session, sender_id=sender, author=author, text=item["text"],
                                             payload=item["payload"], now=now))
            session.flush()
            return [chatlog.to_json(m) for m in stored]

    def messages_after(self, sender: str, after_id: int = 0) -> List[Dict[str, Any]]:
        with session_scope(self._engine) as session:
            return [chatlog.to_json(m) for m in chatlog.history(session, sender_id=sender, after_id=after_id)]

    def state(self, sender: str) -> Dict[str, Any]:
        with session_scope(self._engine) as session:
            return workflow.conversation_state(session, sender_id=sender).to_json()

    def feedback(self, body: Any) -> None:
        if not isinstance(body, dict):
            raise BadRequest("La requête doit être un objet JSON.")
        sender = parse_sender(body.get("sender"))
        message_id, value = body.get("message_id"), body.get("value")
        if not isinstance(message_id, int) or isinstance(message_id, bool) or value not in (1, -1):
            raise BadRequest("Avis invalide.")
        with session_scope(self._engine) as session:
            try:
                chatlog.give_feedback(session, sender_id=sender, message_id=message_id, value=value, now=self._now())
            except LookupError as error:
                raise BadRequest("Cette réponse n'existe pas dans la conversation.") from error

    def contact(self, body: Any) -> Dict[str, Any]:
        if not isinstance(body, dict):
            raise BadRequest("La requête doit être un objet JSON.")
        sender = parse_sender(body.get("sender"))
        ticket_id, channel = body.get("ticket_id"), body.get("channel")
        email, consent = body.get("email"), body.get("consent") is True
        if not isinstance(ticket_id, str) or not isinstance(channel, str) or not isinstance(email, (str, type(None))):
            raise BadRequest("Demande de contact invalide.")
        with session_scope(self._engine) as session:
            try:
                workflow.set_contact(session, ticket_id=ticket_id, sender_id=sender, channel=channel,
                                     email=email, consent=consent, now=self._now())
            except workflow.WorkflowError as error:
                raise BadRequest(str(error)[:1].upper() + str(error)[1:] + ".") from error
            return workflow.conversation_state(session, sender_id=sender).to_json()

    def erase(self, body: Any) -> Dict[str, Any]:
        """Delete the conversation's messages and feedback and redact its tickets (Rasa's tracker: the channel)."""
        if not isinstance(body, dict):
            raise BadRequest("La requête doit être un objet JSON.")
        sender = parse_sender(body.get("sender"))
        with session_scope(self._engine) as session:
            erased = chatlog.erase(session, sender_id=sender, now=self._now())
        return {"sender": sender, "messages": erased.messages, "feedback": erased.feedback, "tickets": erased.tickets}


def _replies_to(later: Sequence[ChatMessage], message_id: int) -> List[ChatMessage]:
    """The replies already given to message ``message_id``, among the messages written after it.

    Replies name the message they answer (``REPLY_TO``), wherever they were written; older replies name none:
    those following the message up to the person's next message.
    """
    named = [m for m in later if m.author != "user" and (m.payload or {}).get(REPLY_TO) == message_id]
    if named:
        return named
    return [m for m in _until_next_user_message(later) if (m.payload or {}).get(REPLY_TO) is None]


def _until_next_user_message(messages: Sequence[ChatMessage]) -> List[ChatMessage]:
    replies = []
    for message in messages:
        if message.author == "user":
            break
        replies.append(message)
    return replies
