"""The chat window's channel: ``/webhooks/chat/…`` on the Rasa server.

Owns the HTTP API the ENT widget talks to (documented in README.md): send a
message, read the conversation, wait for a counsellor's messages (long
polling: works through proxies and after a phone wakes up), give feedback,
leave a contact, erase; and it serves the widget's files.  Registered in
``credentials.yml``; the database work is in ``bot.channels.conversations``, what it says in the bot's
place (bot or database down) in ``bot.channels.fallback``.

A conversation belongs to the window that started it: ``POST /start`` gives a
sender id (carrying the school the window's page names, ``orientbot.schools``) and its token, and every other call must carry that token in the
``X-Orientbot-Token`` header (``bot.channels.guard``), else 403.  Messages and
reads are rate-limited per sender and per client address (429).

It also serves the retrieval page, ``/reponse`` (``orientbot.pickup``): a form
where the code given at an evening handoff shows the counsellor's answer, with
no token (the code is the secret), a few guesses a minute per address, and one
answer, "code inconnu ou expiré", for every code it does not serve.
"""
from __future__ import annotations

import asyncio
import base64
import hashlib
import html
import json
import logging
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Optional, Tuple

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.exc import SQLAlchemyError

from bot.channels.conversations import BadRequest, ChatStore, parse_incoming, parse_sender
from bot.channels.fallback import (
    client_address,
    ping_tracker_store,
    too_many,
    tracker_engine_of,
    unanswered_reply,
    unstored_reply,
)
from bot.channels.guard import (
    TOKEN_HEADER,
    ConversationTokens,
    RateLimits,
    SlidingWindow,
    load_or_create_key,
    shared_counts,
)
from orientbot import emergency, pickup, schools, workflow
from orientbot.chatlog import MAX_MESSAGE_CHARS, delete_tracker_events
from orientbot.office_hours import OfficeHours, say_when

logger = logging.getLogger(__name__)

WIDGET_DIR = Path(__file__).resolve().parents[2] / "widget"
WIDGET_SCRIPT = (WIDGET_DIR / "orientbot-widget.js").resolve()
EMERGENCY_SLOT = "/*ORIENTBOT_EMERGENCY*/[]"


def widget_script() -> str:
    """The chat window's script with the emergency numbers of ``orientbot.emergency`` written in (one source)."""
    source = WIDGET_SCRIPT.read_text(encoding="utf-8")
    return source.replace(EMERGENCY_SLOT, json.dumps(emergency.as_payload(), ensure_ascii=False), 1)
BOT_TIMEOUT_SECONDS = 60


# Any call that needs the database while it is down (the conversation's history, feedback…).
DATABASE_DOWN = ("Le service est momentanément indisponible : merci de réessayer dans quelques instants. Rien de ce qui a déjà "
                 "été enregistré n'est perdu.")


def _error(message: str, status: int = 400, **extra: Any) -> HTTPResponse:
    return response.json({"error": message, **extra}, status=status)


FORBIDDEN = ("Accès refusé : cette conversation ne peut être lue ou continuée que depuis la fenêtre de discussion "
             "qui l'a commencée. Une nouvelle conversation peut être ouverte à tout moment.")


def _json_body(request: Request) -> Any:
    try:
        return json.loads(request.body or b"")
    except (ValueError, UnicodeDecodeError) as error:
        raise BadRequest("La requête doit être du JSON valide.") from error


def requested_school(body: Optional[bytes], known: Dict[str, str]) -> Optional[str]:
    """The school a window's ``POST /start`` names (``{"school": "0751234A"}``, its ENT page's data-school).

    Checked (a UAI, and one of ``schools.known`` when the deployment lists them) and never refused: a
    window with a missing or wrong code still starts a conversation, of no school.
    """
    try:
        asked = json.loads(body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return None
    return schools.valid_uai(asked.get("school"), known) if isinstance(asked, dict) else None


# --- the retrieval page (GET/POST /reponse) --------------------------------------------------------------------

# Fills the form from the link's fragment (#ABCD-EFGH: never sent to the server, nor kept in its logs) and sends it.
PICKUP_SCRIPT = ('(function(){var m=/^#([A-Za-z0-9-]{4,24})$/.exec(location.hash),f=document.getElementById("code");'
                 'if(!m||!f||f.value)return;f.value=m[1];history.replaceState(null,"",location.pathname);'
                 'f.form.submit();})();')
PICKUP_STYLE = ("body{font:1.05em/1.5 system-ui,sans-serif;max-width:40em;margin:1.5em auto;padding:0 1em;"
                "color:#1a1a1a}"
                "h1{font-size:1.4em}label{display:block;font-weight:600;margin:.8em 0 .3em}"
                "input{font:inherit;font-size:1.2em;letter-spacing:.1em;padding:.4em;min-height:44px;width:12em;"
                "text-transform:uppercase;border:2px solid #555;border-radius:4px}"
                "button{font:inherit;min-height:44px;padding:.4em 1.2em;margin-top:.8em;background:#1d4ed8;color:#fff;"
                "border:0;border-radius:4px;cursor:pointer}:focus-visible{outline:3px solid #1d4ed8;outline-offset:2px}"
                "blockquote{border-left:4px solid #1d4ed8;margin:1em 0;padding:.2em 1em;background:#f3f6fd}"
                ".error{color:#a40e0e;font-weight:600}.note{color:#444;font-size:.95em}")


def _csp_hash(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode("utf-8")).digest()).decode("ascii") + "'"


PICKUP_HEADERS = {
    "Content-Security-Policy": (f"default-src 'none'; script-src {_csp_hash(PICKUP_SCRIPT)}; "
                                f"style-src {_csp_hash(PICKUP_STYLE)}; form-action 'self'; frame-ancestors 'none'; "
                                "base-uri 'none'"),
    # The answer is personal: kept by no cache, sent to no other site with a Referer, shown in no frame.
    "Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}
PICKUP_WORDS = {
    "parent": {
        "title": "Votre demande", "question": "Votre question :",
        "not_ready": ("La réponse n'est pas encore prête. Un conseiller vous répondra {when} : "
                      "revenez après avec le même code."),
        "late": ("La réponse n'est pas encore prête : elle devrait arriver très bientôt. "
                 "Revenez un peu plus tard avec le même code."),
        "closed": ("Un conseiller a clos cette demande sans y répondre par écrit. Vous pouvez poser votre question à "
                   "nouveau dans la fenêtre de discussion de l'ENT, ou contacter le CIO de votre secteur."),
        "keep": ("Ce code reste valable jusqu'au {until}. Pour poser une autre question, "
                 "revenez dans la fenêtre de discussion de l'ENT."),
    },
    "eleve": {
        "title": "Ta demande", "question": "Ta question :",
        "not_ready": ("La réponse n'est pas encore prête. Un conseiller te répondra {when} : "
                      "reviens après avec le même code."),
        "late": ("La réponse n'est pas encore prête : elle devrait arriver très bientôt. "
                 "Reviens un peu plus tard avec le même code."),
        "closed": ("Un conseiller a clos cette demande sans y répondre par écrit. Tu peux reposer ta question dans la "
                   "fenêtre de discussion de l'ENT, ou en parler au psy-EN de ton établissement."),
        "keep": ("Ce code reste valable jusqu'au {until}. Pour poser une autre question, "
                 "reviens dans la fenêtre de discussion de l'ENT."),
    },
}
# The page knows nobody before a code is checked: it says "vous", as to anyone one does not know.
PICKUP_UNKNOWN = ("Code inconnu ou expiré. Vérifiez les {length} caractères (un code ne contient ni 0, ni O, "
                  "ni 1, ni I, ni L) ou, si le code a plus de {days} jours, posez la question à nouveau "
                  "dans la fenêtre de discussion.")


def _page(title: str, body: str, *, script: bool = False) -> str:
    return ('<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(title)} – Orientation</title><style>{PICKUP_STYLE}</style></head>"
            f"<body><main>{body}</main>" + (f"<script>{PICKUP_SCRIPT}</script>" if script else "") + "</body></html>")


def _pickup_form(error: str = "", *, length: int = 8) -> str:
    message = f'<p class="error" role="alert" id="code-error">{html.escape(error)}</p>' if error else ""
    described = "code-hint code-error" if error else "code-hint"
    invalid = ' aria-invalid="true"' if error else ""
    return _page("Lire la réponse d'un conseiller", (
        "<h1>Lire la réponse d'un conseiller d'orientation</h1>"
        "<p>Le soir et le week-end, la fenêtre de discussion donne un code de réponse. Saisissez-le ici pour lire "
        "la réponse du conseiller dès qu'elle est prête.</p>" + message +
        '<form method="post" action="reponse"><label for="code">Code de réponse</label>'
        f'<p class="note" id="code-hint">{length} caractères, par exemple ABCD-EFGH (majuscules ou minuscules).</p>'
        f'<input id="code" name="code" required maxlength="24" autocomplete="off" autocapitalize="characters" '
        f'spellcheck="false" aria-describedby="{described}"{invalid}>'
        '<div><button type="submit">Lire la réponse</button></div></form>'), script=True)


def _paragraphs(text: str) -> str:
    return "".join(f"<p>{html.escape(part).replace(chr(10), '<br>')}</p>" for part in text.strip().split("\n\n")
                   if part.strip())


def _pickup_result(found: pickup.PickupAnswer, hours: OfficeHours, now: datetime) -> str:
    words = PICKUP_WORDS["parent" if found.audience == "parent" else "eleve"]
    local = found.expires_at.astimezone(hours.zone)
    title = "La réponse du conseiller d'orientation" if found.ready else words["title"]
    parts = [f"<h1>{html.escape(title)}</h1>",
             f"<h2>{html.escape(words['question'])}</h2><blockquote>{_paragraphs(found.question)}</blockquote>"]
    if found.ready:
        for text, at in found.answers:
            when = at.astimezone(hours.zone).strftime("%d/%m/%Y à %H:%M")
            parts.append(f"<h2>Réponse du {when} :</h2><blockquote>{_paragraphs(text)}</blockquote>")
    elif found.closed:
        parts.append(f"<p>{html.escape(words['closed'])}</p>")
    elif found.due_at is not None and found.due_at > now:
        when = say_when(found.due_at, hours, now=now)
        parts.append(f'<p role="status">{html.escape(words["not_ready"].format(when=when))}</p>')
    else:
        parts.append(f'<p role="status">{html.escape(words["late"])}</p>')
    parts.append(f'<p class="note">{html.escape(words["keep"].format(until=local.strftime("%d/%m/%Y")))}</p>'
                 '<p><a href="reponse">Saisir un autre code</a></p>')
    return _page("Réponse d'un conseiller" if found.ready else "Réponse pas encore prête", "".join(parts))


def _read_pickup(engine: Any, key: bytes, typed: Any,
                 settings: Any) -> Tuple[Optional[pickup.PickupAnswer], OfficeHours, datetime]:
    from orientbot.db import session_scope

    now = datetime.now(timezone.utc)
    with session_scope(engine) as session:
        return (pickup.answer_for(session, key=key, typed=typed, now=now, settings=settings),
                workflow.office_hours(session), now)


class ChatInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "chat"

    def __init__(self) -> None:
        self._store: Optional[ChatStore] = None
        self._settings = None
        self._tokens: Optional[ConversationTokens] = None
        self._limits: Optional[RateLimits] = None
        self._key: bytes = b""
        self._engine: Any = None
        self._pickup_checks: Optional[SlidingWindow] = None

    def _ready(self) -> ChatStore:
        # Built at server start (or at first use): nothing connects at import.
        if self._store is None:
            from orientbot.db import create_schema, make_engine
            from orientbot.settings import load_settings

            settings = load_settings()
            self._key = load_or_create_key(settings.privacy.token_key, settings.privacy.token_key_file)
            self._tokens = ConversationTokens(self._key)
            # Counted in Redis when it answers: every worker and server of the deployment sees the same hits.
            shared = shared_counts(settings.serve.lock_store_url, settings.database_url)
            self._pickup_checks = SlidingWindow(settings.pickup.checks_per_minute_per_address, name="pickup-address",
                                                shared=shared)
            self._limits = RateLimits(
                messages_per_sender=settings.chat.messages_per_minute_per_sender,
                messages_per_address=settings.chat.messages_per_minute_per_address,
                reads_per_sender=settings.chat.reads_per_minute_per_sender,
                reads_per_address=settings.chat.reads_per_minute_per_address, shared=shared)
            self._settings = settings
            engine = make_engine(settings.database_url)
            create_schema(engine)
            self._engine = engine
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
            wait = self._limits.check(kind, sender=sender, address=client_address(request))
            if wait is not None:
                return too_many(wait)
        return None

    async def _run(self, function: Callable, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(None, partial(function, *args))

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        chat = Blueprint("orientbot_chat", __name__)

        @chat.listener("after_server_start")
        async def ping_on_start(app: Any, _loop: Any) -> None:
            ping_tracker_store(app)
            # Each worker makes its database state now, not at its first chat call: a worker that had served none
            # when the database went down answered the generic 503 (no `stored: false`, no emergency numbers).
            try:
                await self._run(self._ready)
            except SQLAlchemyError as error:  # down at start: made at the first call instead
                logger.error("the chat channel could not reach its database at start: %s", error)

        @chat.exception(SQLAlchemyError)
        async def database_down(_: Request, error: Exception) -> HTTPResponse:
            # Never Sanic's English "Internal Server Error": the window retries a 503 on its own.
            logger.error("the chat channel could not reach its database: %s", error)
            return _error(DATABASE_DOWN, status=503)

        @chat.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @chat.route("/start", methods=["POST"])
        async def start(request: Request) -> HTTPResponse:
            await self._run(self._ready)
            wait = self._limits.check_address("message", client_address(request))
            if wait is not None:
                return too_many(wait)
            sender = ConversationTokens.new_sender(requested_school(request.body, self._settings.schools.known))
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
            except SQLAlchemyError:  # the database is down: nothing stored, the window sends it again
                logger.exception("a chat message could not be stored")
                fallback = unstored_reply(incoming.text, incoming.audience)
                return _error(fallback["text"], status=503, stored=False, messages=[],
                              urgent=fallback["custom"].get("urgent", False))
            ping_tracker_store(request.app)  # the agent (and its tracker store) may have been loaded anew
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
                fallback = unanswered_reply(incoming.text, incoming.audience)
                return _error(fallback["text"], status=503, stored=True, messages=[received.message],
                              urgent=fallback["custom"].get("urgent", False))
            if not collector.messages:
                logger.error("the bot gave no reply to a chat message (is the action server up?)")
                collector.messages.append({"recipient_id": incoming.sender,
                                           **unanswered_reply(incoming.text, incoming.audience)})
            replies = await self._run(store.record_replies, incoming.sender, collector.messages,
                                      received.message["id"])
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
            tracker = tracker_engine_of(request.app)
            if tracker is not None:  # Rasa's own copy of the conversation
                erased["tracker_events"] = await self._run(delete_tracker_events, tracker, [erased["sender"]])
            return response.json({"ok": True, "erased": erased})

        @chat.route("/reponse", methods=["GET"])
        async def pickup_page(request: Request) -> HTTPResponse:
            await self._run(self._ready)
            wait = self._limits.check_address("read", client_address(request))
            if wait is not None:
                return too_many(wait)
            return response.html(_pickup_form(length=self._settings.pickup.code_length), headers=PICKUP_HEADERS)

        @chat.route("/reponse", methods=["POST"])
        async def pickup_answer(request: Request) -> HTTPResponse:
            await self._run(self._ready)
            wait = self._pickup_checks.take(client_address(request))
            if wait is not None:
                return response.html(_pickup_form(
                    f"Trop d'essais en peu de temps depuis cette connexion : réessayez dans {wait} secondes.",
                    length=self._settings.pickup.code_length),
                    status=429, headers={**PICKUP_HEADERS, "Retry-After": str(wait)})
            try:
                typed = (request.form or {}).get("code")
            except Exception:  # a body that is not a form: the same answer as a wrong code
                typed = None
            found, hours, now = await self._run(_read_pickup, self._engine, self._key, typed, self._settings.pickup)
            if found is None:
                settings = self._settings.pickup
                unknown = PICKUP_UNKNOWN.format(length=settings.code_length, days=settings.expiry_days)
                return response.html(_pickup_form(unknown, length=settings.code_length), status=404,
                                     headers=PICKUP_HEADERS)
            return response.html(_pickup_result(found, hours, now), headers=PICKUP_HEADERS)

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
