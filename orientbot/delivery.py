"""Sending a counsellor's answer where the family chose: the outbox's sender.

Owns what leaves the project towards a family once a counsellor has answered a ticket:
the ``Channel`` interface and its two implementations (``SmtpChannel``: an e-mail in
plain text and HTML through the school's relay; ``WebhookChannel``: a signed JSON POST
for an ENT integrator, docs/ent-webhook.md), the wording of the e-mail, and
``send_due``, which sends the ``Delivery`` rows ``orientbot.workflow.reply`` wrote,
with retries and exponential back-off.  Once an e-mail is delivered the address is
erased from the ticket, which keeps only "delivered by e-mail on …" (a ``TicketEvent``).
An address the relay refuses for good (5xx) is erased too, and the conversation says so to the
person, who still has the answer there and with the retrieval code (``orientbot.pickup``).

It also owns the on-call alert (``OnCallChannel``, ``queue_on_call``): an urgent ticket written while the
service is closed queues a delivery on the channel ``on_call``, sent through the same outbox to
``mail.on_call_address`` with the ticket's link in the console, its priority, reason and time (in the
service's time zone, the one of its office hours), and nothing the person wrote.

Exactly once: a delivery is *claimed* (one conditional UPDATE to ``sending``, committed)
before anything is sent, and marked ``sent`` or ``failed`` after.  Two senders never
claim the same row.  A crash between sending and marking leaves the row ``sending``;
after ``delivery.sending_lease_seconds`` it is marked ``failed`` with a reason saying
the answer may have arrived, and it is **not** resent automatically: a duplicate can
never happen silently, and the uncertain case is shown to counsellors on the ticket.
Each e-mail carries a stable Message-ID and each webhook call the delivery's id, so a
receiver can also recognise a repeat.

``python -m orientbot.delivery [--loop]`` runs it (once, or every ``delivery.loop_seconds``).
"""
from __future__ import annotations

import argparse
import hashlib
import hmac
import html
import json
import logging
import os
import re
import smtplib
import ssl
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Dict, List, Mapping, Optional, Protocol, Sequence, Tuple
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from orientbot.db import (
    ChatMessage,
    Delivery,
    KBEntry,
    Ticket,
    as_utc,
    create_schema,
    make_engine,
    session_scope,
    utcnow,
)
from orientbot.office_hours import zone_name
from orientbot.settings import DeliverySettings, MailSettings, load_settings
from orientbot.workflow import office_hours, record

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Orientbot-Signature"
TIMESTAMP_HEADER = "X-Orientbot-Timestamp"
DELIVERY_HEADER = "X-Orientbot-Delivery"
INTERRUPTED = ("envoi interrompu (arrêt du programme d'envoi) : la réponse a peut-être été reçue ; "
               "vérifiez auprès de la famille avant de la renvoyer")


class DeliveryFailed(Exception):
    """An attempt that did not deliver; the message is French, for the console.  ``final``: retrying is useless."""

    def __init__(self, reason: str, *, final: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.final = final


@dataclass(frozen=True)
class Outgoing:
    """What one delivery sends: the answer and what a family needs to find the conversation again."""

    delivery_id: int
    ticket_id: str
    conversation: str
    audience: str  # "parent" (vous) or "eleve" (tu)
    answer: str
    answered_at: datetime
    sources: Tuple[str, ...] = ()
    link: str = ""
    address: Optional[str] = None  # e-mail only
    # The on-call alert's facts (``OnCallChannel``): never the person's words.
    priority: str = ""
    reason: str = ""
    # The service's time zone (its office hours'), in which the alert gives the time.
    timezone: str = "Europe/Paris"


class Channel(Protocol):
    """One way of reaching a family: ``send`` delivers or raises ``DeliveryFailed``."""

    name: str  # the ``Delivery.channel`` it serves: "email", "ent" or "on_call"

    def send(self, outgoing: Outgoing) -> None: ...


# --- the e-mail ---------------------------------------------------------------------------------------------

WORDING = {
    "parent": {
        "subject": "La réponse du conseiller d'orientation à votre question",
        "intro": "Vous aviez posé une question au service d'orientation. Voici la réponse d'un conseiller :",
        "sources": "Sources officielles :",
        "link": "Vous retrouverez cette réponse, et pourrez poser une autre question, dans la fenêtre de discussion :",
        "why": ("Vous recevez ce message parce que vous avez demandé à recevoir la réponse par e-mail. "
                "Votre adresse n'est pas conservée après cet envoi. Merci de ne pas répondre à ce message."),
    },
    "eleve": {
        "subject": "La réponse du conseiller d'orientation à ta question",
        "intro": "Tu avais posé une question au service d'orientation. Voici la réponse d'un conseiller :",
        "sources": "Sources officielles :",
        "link": "Tu retrouveras cette réponse, et tu pourras poser une autre question, dans la fenêtre de discussion :",
        "why": ("Tu reçois ce message parce que tu as demandé à recevoir la réponse par e-mail. "
                "Ton adresse n'est pas conservée après cet envoi. Merci de ne pas répondre à ce message."),
    },
}
SIGNATURE = "Le service d'orientation"
# Written into the conversation when the e-mail can never be sent (the relay refused the address…).
UNDELIVERABLE = {
    "parent": ("L'e-mail annonçant la réponse du conseiller n'a pas pu être envoyé : l'adresse indiquée a été "
               "refusée par le serveur de messagerie, et elle n'est pas conservée. La réponse est ci-dessus, "
               "dans cette conversation, et vous pouvez aussi la lire avec votre code de réponse."),
    "eleve": ("L'e-mail annonçant la réponse du conseiller n'a pas pu être envoyé : l'adresse indiquée a été "
              "refusée par le serveur de messagerie, et elle n'est pas gardée. La réponse est ci-dessus, "
              "dans cette conversation, et tu peux aussi la lire avec ton code de réponse."),
}


def compose_email(outgoing: Outgoing, *, sender: str) -> EmailMessage:
    """The e-mail in the family's register: the answer, the sources, the link back; nothing else about anyone."""
    words = WORDING["parent" if outgoing.audience == "parent" else "eleve"]
    text = ["Bonjour,", "", words["intro"], "", outgoing.answer.strip(), ""]
    if outgoing.sources:
        text += [words["sources"], *(f"- {source}" for source in outgoing.sources), ""]
    if outgoing.link:
        text += [words["link"], outgoing.link, ""]
    text += [words["why"], "", SIGNATURE]

    def paragraphs(block: str) -> str:
        return "".join(f"<p>{html.escape(part).replace(chr(10), '<br>')}</p>"
                       for part in block.strip().split("\n\n") if part.strip())

    body = [f"<p>Bonjour,</p><p>{html.escape(words['intro'])}</p>",
            f'<blockquote style="border-left:3px solid #2a5db0;margin:0;padding:0 1em">{paragraphs(outgoing.answer)}</blockquote>']
    if outgoing.sources:
        items = "".join(f'<li><a href="{html.escape(source)}">{html.escape(source)}</a></li>' for source in outgoing.sources)
        body.append(f"<p>{html.escape(words['sources'])}</p><ul>{items}</ul>")
    if outgoing.link:
        link = html.escape(outgoing.link)
        body.append(f'<p>{html.escape(words["link"])}<br><a href="{link}">{link}</a></p>')
    body.append(f'<p style="color:#555;font-size:90%">{html.escape(words["why"])}</p><p>{SIGNATURE}</p>')

    message = EmailMessage()
    message["Subject"] = words["subject"]
    message["From"] = sender
    message["To"] = outgoing.address or ""
    domain = sender.rpartition("@")[2].strip(" >") or "orientbot.invalid"
    message["Message-ID"] = make_msgid(idstring=f"delivery-{outgoing.delivery_id}", domain=domain)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content("\n".join(text))
    message.add_alternative('<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"></head><body>'
                            + "".join(body) + "</body></html>", subtype="html")
    return message


class SmtpChannel:
    """E-mail through the school's relay (``mail`` settings): STARTTLS, implicit TLS, or none on a local relay."""

    name = "email"

    def __init__(self, settings: MailSettings, *, password: Optional[str] = None) -> None:
        if settings.security not in ("starttls", "tls", "none"):
            raise ValueError(f"mail.security must be starttls, tls or none, not {settings.security!r}")
        if not settings.host or not settings.sender:
            raise ValueError("mail.host and mail.sender are needed to send e-mails")
        self.settings = settings
        self.password = os.environ.get(settings.password_env, "") if password is None else password

    def send(self, outgoing: Outgoing) -> None:
        if not outgoing.address:
            raise DeliveryFailed("plus d'adresse e-mail pour ce ticket (effacée avec la conversation)", final=True)
        self.transmit(compose_email(outgoing, sender=self.settings.sender))

    def transmit(self, message: EmailMessage) -> None:
        """Hand ``message`` to the relay, or raise ``DeliveryFailed`` (``final``: the address is refused for good)."""
        mail = self.settings
        try:
            if mail.security == "tls":
                client = smtplib.SMTP_SSL(mail.host, mail.port, timeout=mail.timeout_seconds,
                                          context=ssl.create_default_context())
            else:
                client = smtplib.SMTP(mail.host, mail.port, timeout=mail.timeout_seconds)
            with client:
                if mail.security == "starttls":
                    client.starttls(context=ssl.create_default_context())
                if mail.user:
                    client.login(mail.user, self.password)
                client.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            code, text = next(iter(error.recipients.values()))
            raise DeliveryFailed(f"adresse refusée par le serveur de messagerie ({code} {_text(text)})",
                                 final=500 <= code < 600) from error
        except smtplib.SMTPAuthenticationError as error:
            raise DeliveryFailed(f"identifiants refusés par le serveur de messagerie ({error.smtp_code})") from error
        except smtplib.SMTPResponseException as error:
            raise DeliveryFailed(f"refus du serveur de messagerie ({error.smtp_code} {_text(error.smtp_error)})") from error
        except smtplib.SMTPNotSupportedError as error:  # an accented address and a relay without SMTPUTF8
            raise DeliveryFailed("adresse refusée : le serveur de messagerie n'accepte pas les adresses accentuées",
                                 final=True) from error
        except (OSError, smtplib.SMTPException) as error:
            raise DeliveryFailed(f"serveur de messagerie injoignable ({error.__class__.__name__}: {error})") from error


# --- the on-call alert ---------------------------------------------------------------------------------------

ON_CALL_SUBJECT = "Orientation : demande urgente reçue hors des heures d'ouverture"


def compose_on_call(outgoing: Outgoing, *, sender: str, to: str, console_url: str) -> EmailMessage:
    """The alert: the ticket's link, priority, reason and time (the service's); the counsellor reads the rest in the console."""
    from orientbot.tickets import REASON_LABELS  # the console's own words for the reasons

    when = as_utc(outgoing.answered_at).astimezone(ZoneInfo(outgoing.timezone)).strftime("%d/%m/%Y à %H:%M")
    link = f"{console_url.rstrip('/')}/tickets/{outgoing.ticket_id}"
    message = EmailMessage()
    message["Subject"] = ON_CALL_SUBJECT
    message["From"], message["To"] = sender, to
    domain = sender.rpartition("@")[2].strip(" >") or "orientbot.invalid"
    message["Message-ID"] = make_msgid(idstring=f"delivery-{outgoing.delivery_id}", domain=domain)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content("\n".join([
        "Bonjour,", "",
        "Une demande urgente est arrivée dans la fenêtre de discussion alors que le service est fermé.", "",
        f"Priorité : {'urgente' if outgoing.priority == 'urgent' else outgoing.priority}",
        f"Motif : {REASON_LABELS.get(outgoing.reason, outgoing.reason)}",
        f"Reçue le : {when} ({zone_name(outgoing.timezone)})", "",
        "Le ticket, à lire dans la console des conseillers (connexion nécessaire) :", link, "",
        "La personne a reçu les numéros d'urgence. Ce message ne contient volontairement rien de ce qu'elle a écrit.",
        "", SIGNATURE]))
    return message


class OnCallChannel:
    """The on-call alert, by e-mail through the same relay as the answers (``mail.on_call_address``)."""

    name = "on_call"

    def __init__(self, settings: MailSettings, *, password: Optional[str] = None) -> None:
        if not settings.on_call_address:
            raise ValueError("mail.on_call_address is needed to alert anyone")
        self.settings, self._smtp = settings, SmtpChannel(settings, password=password)

    def send(self, outgoing: Outgoing) -> None:
        self._smtp.transmit(compose_on_call(outgoing, sender=self.settings.sender, to=self.settings.on_call_address,
                                            console_url=self.settings.console_url))


def queue_on_call(session, *, ticket_id: str, now: datetime) -> Delivery:
    """Queue the on-call alert of ``ticket_id`` (in the caller's transaction: written with what triggers it)."""
    row = Delivery(ticket_id=ticket_id, message_id=None, channel="on_call", status="queued",
                   next_attempt_at=as_utc(now), created_at=now, updated_at=now)
    session.add(row)
    return row


_ADDRESS = re.compile(r"[^\s<>()\[\]:;,\"']+@[^\s<>()\[\]:;,\"']+")


def _text(value) -> str:
    return (value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)).strip()[:200]


# --- the ENT's webhook ---------------------------------------------------------------------------------------

def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 with the shared secret over ``<timestamp>.<body>``."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()


def webhook_payload(outgoing: Outgoing) -> Dict[str, object]:
    return {
        "delivery_id": outgoing.delivery_id, "ticket_id": outgoing.ticket_id, "conversation": outgoing.conversation,
        "audience": outgoing.audience, "answered_at": as_utc(outgoing.answered_at).isoformat(),
        "answer": outgoing.answer, "sources": list(outgoing.sources), "link": outgoing.link,
    }


class WebhookChannel:
    """A signed JSON POST to the ENT integrator's URL (docs/ent-webhook.md); any 2xx answer is a delivery."""

    name = "ent"

    def __init__(self, url: str, secret: str, *, timeout: float = 20, clock=time.time) -> None:
        if not url or not secret:
            raise ValueError("the ENT webhook needs a URL and a secret")
        if not url.startswith(("https://", "http://")):
            raise ValueError("the ENT webhook URL must be http(s)://")
        self.url, self.secret, self.timeout, self.clock = url, secret, timeout, clock

    def send(self, outgoing: Outgoing) -> None:
        body = json.dumps(webhook_payload(outgoing), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        timestamp = str(int(self.clock()))
        request = urllib.request.Request(self.url, data=body, method="POST", headers={
            "Content-Type": "application/json; charset=utf-8", TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(self.secret, timestamp, body), DELIVERY_HEADER: str(outgoing.delivery_id),
            "User-Agent": "orientbot-delivery"})
        try:
            # The configured URL, http(s) only (checked in __init__).
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # nosec B310
                response.read(1024)
        except urllib.error.HTTPError as error:
            raise DeliveryFailed(f"refus de l'ENT (HTTP {error.code})") from error
        except (OSError, ValueError) as error:
            raise DeliveryFailed(f"ENT injoignable ({error.__class__.__name__}: {error})") from error


# --- sending what is due -------------------------------------------------------------------------------------

@dataclass
class SendReport:
    sent: List[int] = field(default_factory=list)
    failed: List[int] = field(default_factory=list)
    interrupted: List[int] = field(default_factory=list)


def retry_delay(attempts: int, settings: DeliverySettings) -> timedelta:
    """After the n-th failed attempt: first, 2×first, 4×first… at most ``retry_max_seconds``."""
    seconds = settings.retry_first_seconds * (2 ** max(attempts - 1, 0))
    return timedelta(seconds=min(seconds, settings.retry_max_seconds))


def _recover_interrupted(engine: Engine, *, now: datetime, settings: DeliverySettings) -> List[int]:
    stale = now - timedelta(seconds=settings.sending_lease_seconds)
    with session_scope(engine) as session:
        rows = list(session.execute(select(Delivery).where(Delivery.status == "sending")).scalars())
        interrupted = [row for row in rows if row.claimed_at is None or as_utc(row.claimed_at) <= stale]
        for row in interrupted:
            row.status, row.reason, row.next_attempt_at, row.updated_at = "failed", INTERRUPTED, None, now
            logger.warning("delivery %s was interrupted while sending; not resent", row.id)
        return [row.id for row in interrupted]


def _claim(engine: Engine, delivery_id: int, *, now: datetime) -> bool:
    """Make this sender the only one to send ``delivery_id`` (committed before anything is sent)."""
    with session_scope(engine) as session:
        result = session.execute(
            update(Delivery)
            .where(Delivery.id == delivery_id, Delivery.status.in_(("queued", "failed")),
                   Delivery.next_attempt_at.is_not(None), Delivery.next_attempt_at <= now)
            .values(status="sending", attempts=Delivery.attempts + 1, claimed_at=now, updated_at=now)
            .execution_options(synchronize_session=False))
        return result.rowcount == 1


def _outgoing(session, delivery: Delivery, *, link: str) -> Optional[Outgoing]:
    ticket = session.get(Ticket, delivery.ticket_id)
    if delivery.channel == "on_call":  # facts only: still sent when the conversation was erased meanwhile
        return None if ticket is None else Outgoing(
            delivery_id=delivery.id, ticket_id=ticket.id, conversation="", audience=ticket.audience, answer="",
            answered_at=as_utc(ticket.created_at), priority=ticket.priority, reason=ticket.reason,
            timezone=office_hours(session).timezone)
    message = session.get(ChatMessage, delivery.message_id) if delivery.message_id is not None else None
    if ticket is None or message is None or message.erased or not message.text:
        return None
    kb_id = (message.payload or {}).get("kb_id")
    entry = session.get(KBEntry, kb_id) if kb_id else None
    return Outgoing(
        delivery_id=delivery.id, ticket_id=ticket.id, conversation=ticket.sender_id, audience=ticket.audience,
        answer=message.text, answered_at=as_utc(message.created_at), link=link,
        sources=tuple(str(source) for source in (entry.sources or [])) if entry is not None else (),
        address=ticket.contact_email if delivery.channel == "email" and ticket.contact_consent else None,
    )


def _mark_sent(engine: Engine, delivery_id: int, *, now: datetime) -> None:
    with session_scope(engine) as session:
        delivery = session.get(Delivery, delivery_id)
        delivery.status, delivery.sent_at, delivery.reason, delivery.next_attempt_at = "sent", now, None, None
        delivery.updated_at = now
        record(session, ticket_id=delivery.ticket_id, kind=f"delivered_{delivery.channel}", now=now,
               detail={"delivery_id": delivery.id})
        if delivery.channel == "email":
            pending = session.execute(select(Delivery.id).where(
                Delivery.ticket_id == delivery.ticket_id, Delivery.channel == "email", Delivery.id != delivery.id,
                Delivery.status.in_(("queued", "sending", "failed")), Delivery.next_attempt_at.is_not(None))).first()
            if pending is None:  # nothing more to send there: the address goes
                ticket = session.get(Ticket, delivery.ticket_id)
                ticket.contact_email, ticket.updated_at = None, now


def _mark_failed(engine: Engine, delivery_id: int, *, now: datetime, reason: str, final: bool,
                 settings: DeliverySettings) -> None:
    with session_scope(engine) as session:
        delivery = session.get(Delivery, delivery_id)
        final = final or delivery.attempts >= settings.max_attempts
        # The reason outlives the address (shown in the console, kept with the ticket): no address in it.
        delivery.status, delivery.reason, delivery.updated_at = "failed", _ADDRESS.sub("[adresse]", reason)[:1000], now
        delivery.next_attempt_at = None if final else now + retry_delay(delivery.attempts, settings)
        if final and delivery.channel == "email":
            _give_up_email(session, delivery, now=now)


def _give_up_email(session, delivery: Delivery, *, now: datetime) -> None:
    """An e-mail that will never leave: the address goes, and the person is told in the conversation."""
    ticket = session.get(Ticket, delivery.ticket_id)
    message = session.get(ChatMessage, delivery.message_id) if delivery.message_id is not None else None
    if ticket is None or message is None:  # the conversation was erased: nobody to tell
        return
    ticket.contact_email, ticket.updated_at = None, now
    words = UNDELIVERABLE["parent" if ticket.audience == "parent" else "eleve"]
    session.add(ChatMessage(sender_id=ticket.sender_id, author="system", text=words, ticket_id=ticket.id,
                            payload={"kind": "undeliverable"}, created_at=now))


def send_due(engine: Engine, channels: Mapping[str, Channel], now: datetime, *,
             settings: Optional[DeliverySettings] = None, link: str = "", limit: int = 100) -> SendReport:
    """Send every delivery due at ``now`` on one of ``channels`` (by name); the others wait."""
    settings, now = settings or DeliverySettings(), as_utc(now)
    report = SendReport(interrupted=_recover_interrupted(engine, now=now, settings=settings))
    with session_scope(engine) as session:
        due = list(session.execute(
            select(Delivery.id).where(Delivery.status.in_(("queued", "failed")), Delivery.channel.in_(list(channels)),
                                      Delivery.next_attempt_at.is_not(None), Delivery.next_attempt_at <= now)
            .order_by(Delivery.next_attempt_at, Delivery.id).limit(limit)).scalars())
    for delivery_id in due:
        if not _claim(engine, delivery_id, now=now):
            continue  # another sender has it
        with session_scope(engine) as session:
            delivery = session.get(Delivery, delivery_id)
            channel = channels[delivery.channel]
            outgoing = _outgoing(session, delivery, link=link)
        try:
            if outgoing is None:
                raise DeliveryFailed("la conversation a été effacée : plus rien à envoyer", final=True)
            channel.send(outgoing)
        except DeliveryFailed as error:
            logger.warning("delivery %s failed: %s", delivery_id, _ADDRESS.sub("[adresse]", error.reason))  # no address in logs
            _mark_failed(engine, delivery_id, now=now, reason=error.reason, final=error.final, settings=settings)
            report.failed.append(delivery_id)
        except Exception as error:  # a bug in a channel must not leave the row claimed for ever
            logger.exception("delivery %s failed unexpectedly", delivery_id)
            _mark_failed(engine, delivery_id, now=now, reason=f"erreur inattendue ({error.__class__.__name__})",
                         final=False, settings=settings)
            report.failed.append(delivery_id)
        else:
            _mark_sent(engine, delivery_id, now=now)
            report.sent.append(delivery_id)
    return report


def channels_from_settings(settings) -> Dict[str, Channel]:
    """The channels the settings configure: e-mail with ``mail.host`` (and the on-call alert with
    ``mail.on_call_address``), the ENT with ``delivery.ent_webhook_url``."""
    channels: Dict[str, Channel] = {}
    if settings.mail.host:
        channels["email"] = SmtpChannel(settings.mail)
        if settings.mail.on_call_address:
            channels["on_call"] = OnCallChannel(settings.mail)
    if settings.delivery.ent_webhook_url:
        secret = settings.delivery.ent_webhook_secret or os.environ.get(settings.delivery.ent_webhook_secret_env, "")
        channels["ent"] = WebhookChannel(settings.delivery.ent_webhook_url, secret)
    return channels


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Envoie les réponses des conseillers par e-mail ou à l'ENT.")
    parser.add_argument("--loop", action="store_true", help="recommencer toutes les delivery.loop_seconds secondes")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = load_settings()
    channels = channels_from_settings(settings)
    if not channels:
        logger.warning("nothing configured to send with (mail.host, delivery.ent_webhook_url): answers wait")
    engine = make_engine(settings.database_url)
    try:
        create_schema(engine)
        while True:
            report = send_due(engine, channels, utcnow(), settings=settings.delivery, link=settings.mail.base_url)
            logger.info("sent %d, failed %d, interrupted %d", len(report.sent), len(report.failed), len(report.interrupted))
            if not args.loop:
                return 1 if report.failed or report.interrupted else 0
            time.sleep(settings.delivery.loop_seconds)
    finally:
        engine.dispose()


if __name__ == "__main__":
    raise SystemExit(main())
