"""The outbox and its sender: a parent's evening question answered the next morning reaches them by e-mail
(a real SMTP server on loopback, aiosmtpd) or through the ENT's signed webhook (a receiver on loopback)."""
import email
import email.policy
import hashlib
import hmac
import json
import socket
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from orientbot import chatlog, delivery, workflow
from orientbot.db import ChatMessage, Delivery, KBEntry, Ticket, TicketEvent, session_scope
from orientbot.office_hours import OfficeHours
from orientbot.settings import DeliverySettings, MailSettings, load_settings
from tests.factories import add_account, add_ticket

EVENING = datetime(2026, 12, 7, 20, 0, tzinfo=timezone.utc)  # Monday 21:00 in Paris
MORNING = datetime(2026, 12, 8, 8, 30, tzinfo=timezone.utc)  # Tuesday 9:30 in Paris
ADDRESS = "famille.durand@exemple.fr"
LINK = "https://ent.lycee-exemple.fr/orientation"
ANSWER = ("Bonjour, votre fils peut tout à fait demander une seconde générale.\n\n"
          "Je vous conseille d'en parler avec son professeur principal avant le conseil de classe.")
RETRIES = DeliverySettings(retry_first_seconds=60, retry_max_seconds=3600, max_attempts=4, sending_lease_seconds=900)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Inbox:
    """The aiosmtpd handler: keeps every message the relay accepts."""

    def __init__(self) -> None:
        self.received = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos),
                              email.message_from_bytes(envelope.content, policy=email.policy.default)))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_port():
    return free_port()


def start_relay(port: int) -> tuple:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    return inbox, controller


def mail_channel(port: int) -> delivery.SmtpChannel:
    return delivery.SmtpChannel(MailSettings(host="127.0.0.1", port=port, security="none",
                                             sender="Orientation <orientation@lycee-exemple.fr>", base_url=LINK,
                                             timeout_seconds=5), password="")


@pytest.fixture
def evening_ticket(engine):
    """A parent asks at 21:00, is promised an answer, and gives an e-mail address with consent."""
    with session_scope(engine) as session:
        counsellor = add_account(session, "alice", display_name="Alice Martin").id
        session.add(KBEntry(id="seconde-generale", title="Passer en seconde générale", answer_eleve="…",
                            answer_parent="…", sources=["https://www.onisep.fr/choisir-mes-etudes/au-lycee"]))
        ticket = add_ticket(session, question="Mon fils hésite entre un CAP et une seconde générale, que faire ?",
                            sender_id="parent-durand", audience="parent", reason="personal_case", mode="deferred",
                            created=EVENING, due_in=timedelta(hours=16))
        workflow.set_contact(session, ticket_id=ticket.id, sender_id="parent-durand", channel="email", email=ADDRESS,
                             consent=True, now=EVENING + timedelta(minutes=1))
        return ticket.id, counsellor


def answer(engine, ticket_id, counsellor, *, at=MORNING, kb_id="seconde-generale"):
    with session_scope(engine) as session:
        return workflow.reply(session, ticket_id=ticket_id, counsellor_id=counsellor, text=ANSWER, now=at,
                              kind="kb_answer" if kb_id else "reply", kb_id=kb_id).id


def deliveries(engine, ticket_id):
    with session_scope(engine) as session:
        return list(session.execute(select(Delivery).where(Delivery.ticket_id == ticket_id).order_by(Delivery.id)).scalars())


def test_the_reply_and_its_delivery_are_written_together(engine, evening_ticket):
    ticket_id, counsellor = evening_ticket
    with pytest.raises(RuntimeError):
        with session_scope(engine) as session:
            workflow.reply(session, ticket_id=ticket_id, counsellor_id=counsellor, text=ANSWER, now=MORNING)
            raise RuntimeError("the transaction fails after the reply")
    assert deliveries(engine, ticket_id) == []
    with session_scope(engine) as session:
        assert session.execute(select(ChatMessage).where(ChatMessage.ticket_id == ticket_id)).first() is None
    message_id = answer(engine, ticket_id, counsellor)
    [row] = deliveries(engine, ticket_id)
    assert (row.channel, row.status, row.attempts, row.message_id) == ("email", "queued", 0, message_id)


def test_a_live_ticket_without_contact_has_nothing_to_deliver_and_the_ent_choice_has(engine):
    with session_scope(engine) as session:
        counsellor = add_account(session, "alice").id
        live = add_ticket(session, question="jpeux parler a qqn en vrai ?").id
        ent = add_ticket(session, question="une question du soir", sender_id="eleve-2", mode="deferred").id
        workflow.set_contact(session, ticket_id=ent, sender_id="eleve-2", channel="ent", email=None, consent=False,
                             now=EVENING)
    answer(engine, live, counsellor, kb_id=None)
    answer(engine, ent, counsellor, kb_id=None)
    assert deliveries(engine, live) == []
    assert [row.channel for row in deliveries(engine, ent)] == ["ent"]


@pytest.mark.parametrize("address", ["pas une adresse", "a@b", "marie@exemple..fr", "a@b.fr\nBcc: x@y.fr",
                                     "marie dupont@exemple.fr", "<marie@exemple.fr>"])
def test_an_invalid_address_is_refused_when_given(engine, address):
    with session_scope(engine) as session:
        ticket = add_ticket(session, question="q", sender_id="parent-1", audience="parent", mode="deferred")
        with pytest.raises(workflow.WorkflowError, match="ne semble pas valide"):
            workflow.set_contact(session, ticket_id=ticket.id, sender_id="parent-1", channel="email", email=address,
                                 consent=True, now=EVENING)


def test_the_answer_reaches_the_parent_by_email_the_next_morning(engine, evening_ticket, smtp_port):
    ticket_id, counsellor = evening_ticket
    answer(engine, ticket_id, counsellor)
    inbox, relay = start_relay(smtp_port)
    try:
        report = delivery.send_due(engine, {"email": mail_channel(smtp_port)}, MORNING + timedelta(minutes=1),
                                   settings=RETRIES, link=LINK)
    finally:
        relay.stop()
    assert len(report.sent) == 1 and report.failed == []
    [(mail_from, recipients, message)] = inbox.received
    assert mail_from == "orientation@lycee-exemple.fr" and recipients == [ADDRESS]
    assert message["Subject"] == "La réponse du conseiller d'orientation à votre question"
    plain = message.get_body(("plain",)).get_content()
    page = message.get_body(("html",)).get_content()
    for part in (plain, page):
        assert "votre fils peut tout à fait demander une seconde générale" in part
        assert "Vous aviez posé une question" in part and " tu " not in part and "Tu " not in part
        assert "https://www.onisep.fr/choisir-mes-etudes/au-lycee" in part and LINK in part
        # Nothing else personal: not the question, not the counsellor's name, not the conversation's id.
        assert "CAP" not in part and "Alice" not in part and "parent-durand" not in part
    assert "<blockquote" in page and "Je vous conseille d&#x27;en parler" in page
    [row] = deliveries(engine, ticket_id)
    assert row.status == "sent" and row.attempts == 1 and row.reason is None
    with session_scope(engine) as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket.contact_email is None and ticket.contact_channel == "email"  # only "delivered by e-mail on …"
        kinds = list(session.execute(select(TicketEvent.kind).where(TicketEvent.ticket_id == ticket_id)).scalars())
        assert kinds[-1] == "delivered_email"
    # Nothing is due any more: a second run sends nothing.
    assert delivery.send_due(engine, {"email": mail_channel(smtp_port)}, MORNING + timedelta(hours=1),
                             settings=RETRIES).sent == []


def test_with_the_relay_down_it_retries_later_and_delivers_exactly_once(engine, evening_ticket, smtp_port):
    ticket_id, counsellor = evening_ticket
    answer(engine, ticket_id, counsellor)
    channels = {"email": mail_channel(smtp_port)}
    first = MORNING + timedelta(minutes=1)
    report = delivery.send_due(engine, channels, first, settings=RETRIES, link=LINK)  # nothing listens
    assert report.sent == [] and len(report.failed) == 1
    [row] = deliveries(engine, ticket_id)
    assert row.status == "failed" and row.attempts == 1 and "serveur de messagerie injoignable" in row.reason
    assert workflow.as_utc(row.next_attempt_at) == first + timedelta(seconds=60)
    inbox, relay = start_relay(smtp_port)
    try:
        # Before the retry time nothing is attempted, even with the relay back.
        assert delivery.send_due(engine, channels, first + timedelta(seconds=30), settings=RETRIES).sent == []
        assert inbox.received == []
        later = first + timedelta(seconds=61)
        assert len(delivery.send_due(engine, channels, later, settings=RETRIES, link=LINK).sent) == 1
        assert delivery.send_due(engine, channels, later + timedelta(hours=2), settings=RETRIES).sent == []
    finally:
        relay.stop()
    assert len(inbox.received) == 1 and inbox.received[0][1] == [ADDRESS]
    [row] = deliveries(engine, ticket_id)
    assert row.status == "sent" and row.attempts == 2 and row.reason is None


def test_back_off_doubles_up_to_a_ceiling_and_gives_up_after_the_last_attempt(engine, evening_ticket, smtp_port):
    assert [delivery.retry_delay(n, RETRIES).total_seconds() for n in (1, 2, 3, 7, 8)] == [60, 120, 240, 3600, 3600]
    ticket_id, counsellor = evening_ticket
    answer(engine, ticket_id, counsellor)
    channels, moment = {"email": mail_channel(smtp_port)}, MORNING
    for _ in range(RETRIES.max_attempts):
        moment += timedelta(hours=2)
        delivery.send_due(engine, channels, moment, settings=RETRIES)
    [row] = deliveries(engine, ticket_id)
    assert row.status == "failed" and row.attempts == RETRIES.max_attempts and row.next_attempt_at is None
    assert delivery.send_due(engine, channels, moment + timedelta(days=1), settings=RETRIES).failed == []


class Crash(BaseException):
    """The sender process dies in the middle of sending."""


class CrashingChannel:
    name = "email"

    def __init__(self) -> None:
        self.calls = 0

    def send(self, outgoing) -> None:
        self.calls += 1
        raise Crash()


def test_an_interrupted_send_is_never_repeated_silently(engine, evening_ticket):
    ticket_id, counsellor = evening_ticket
    answer(engine, ticket_id, counsellor)
    crashing = CrashingChannel()
    with pytest.raises(Crash):
        delivery.send_due(engine, {"email": crashing}, MORNING, settings=RETRIES)
    [row] = deliveries(engine, ticket_id)
    assert row.status == "sending"
    # A sender restarted soon after does not send it again…
    assert delivery.send_due(engine, {"email": crashing}, MORNING + timedelta(minutes=1), settings=RETRIES).sent == []
    # …and once the lease has passed the row says the answer may have arrived, for a counsellor to check.
    report = delivery.send_due(engine, {"email": crashing}, MORNING + timedelta(minutes=20), settings=RETRIES)
    assert report.interrupted == [row.id] and crashing.calls == 1
    [row] = deliveries(engine, ticket_id)
    assert row.status == "failed" and row.next_attempt_at is None and "peut-être été reçue" in row.reason


def test_an_erased_conversation_leaves_nothing_to_send(engine, evening_ticket, smtp_port):
    ticket_id, counsellor = evening_ticket
    answer(engine, ticket_id, counsellor)
    with session_scope(engine) as session:
        chatlog.erase(session, sender_id="parent-durand", now=MORNING + timedelta(minutes=1))
    report = delivery.send_due(engine, {"email": mail_channel(smtp_port)}, MORNING + timedelta(minutes=2),
                               settings=RETRIES)
    assert len(report.failed) == 1
    [row] = deliveries(engine, ticket_id)
    assert row.status == "failed" and row.next_attempt_at is None and "effacée" in row.reason


def test_a_student_is_written_to_in_tu():
    outgoing = delivery.Outgoing(delivery_id=7, ticket_id="t", conversation="c", audience="eleve",
                                 answer="Tu peux demander un stage dès la seconde.", answered_at=MORNING, link=LINK,
                                 address="lea@exemple.fr")
    message = delivery.compose_email(outgoing, sender="orientation@lycee-exemple.fr")
    plain = message.get_body(("plain",)).get_content()
    assert message["Subject"].endswith("à ta question") and "Tu avais posé une question" in plain
    assert "vous" not in plain.lower() and "Sources" not in plain
    assert "delivery-7" in message["Message-ID"] and message["To"] == "lea@exemple.fr"


class Receiver(BaseHTTPRequestHandler):
    secret = b"le-secret-partage"
    accepted: list = []

    def do_POST(self):  # noqa: N802 - http.server's hook name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        timestamp = self.headers.get(delivery.TIMESTAMP_HEADER, "")
        expected = "sha256=" + hmac.new(self.secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, self.headers.get(delivery.SIGNATURE_HEADER, "")):
            self.send_response(401)
            self.end_headers()
            return
        self.accepted.append((dict(self.headers), json.loads(body)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    Receiver.accepted = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/orientbot"
    server.shutdown()
    server.server_close()


@pytest.fixture
def ent_ticket(engine):
    with session_scope(engine) as session:
        counsellor = add_account(session, "alice").id
        ticket = add_ticket(session, question="les vœux sur parcoursup ça ouvre quel mois ?", sender_id="eleve-ent", mode="deferred",
                            created=EVENING, due_in=timedelta(hours=16))
        workflow.set_contact(session, ticket_id=ticket.id, sender_id="eleve-ent", channel="ent", email=None,
                             consent=False, now=EVENING)
        return ticket.id, counsellor


def test_the_ent_webhook_is_signed_and_delivered(engine, ent_ticket, receiver):
    ticket_id, counsellor = ent_ticket
    answer(engine, ticket_id, counsellor, kb_id=None)
    channel = delivery.WebhookChannel(receiver, Receiver.secret.decode(), timeout=5, clock=lambda: 1_796_000_000)
    report = delivery.send_due(engine, {"ent": channel}, MORNING + timedelta(minutes=1), settings=RETRIES, link=LINK)
    assert len(report.sent) == 1
    [(headers, payload)] = Receiver.accepted
    assert headers[delivery.TIMESTAMP_HEADER] == "1796000000" and headers[delivery.DELIVERY_HEADER] == str(report.sent[0])
    assert payload == {"delivery_id": report.sent[0], "ticket_id": ticket_id, "conversation": "eleve-ent",
                       "audience": "eleve", "answered_at": MORNING.isoformat(), "answer": ANSWER, "sources": [],
                       "link": LINK}
    [row] = deliveries(engine, ticket_id)
    assert row.status == "sent"


def test_a_wrong_secret_is_refused_and_the_delivery_waits_for_a_retry(engine, ent_ticket, receiver):
    ticket_id, counsellor = ent_ticket
    answer(engine, ticket_id, counsellor, kb_id=None)
    channel = delivery.WebhookChannel(receiver, "pas-le-bon-secret", timeout=5)
    report = delivery.send_due(engine, {"ent": channel}, MORNING + timedelta(minutes=1), settings=RETRIES)
    assert report.sent == [] and len(report.failed) == 1 and Receiver.accepted == []
    [row] = deliveries(engine, ticket_id)
    assert row.status == "failed" and row.reason == "refus de l'ENT (HTTP 401)" and row.next_attempt_at is not None


def test_the_channels_come_from_the_settings(monkeypatch):
    monkeypatch.setenv("ORIENTBOT_ENT_WEBHOOK_SECRET", "s3cret")
    settings = load_settings({"ORIENTBOT_CONFIG": "/nonexistent.yml", "ORIENTBOT_MAIL_HOST": "smtp.exemple.fr",
                              "ORIENTBOT_MAIL_SENDER": "orientation@exemple.fr", "ORIENTBOT_MAIL_PORT": "465",
                              "ORIENTBOT_MAIL_SECURITY": "tls",
                              "ORIENTBOT_DELIVERY_ENT_WEBHOOK_URL": "https://ent.exemple.fr/hook"})
    channels = delivery.channels_from_settings(settings)
    assert channels["email"].settings.port == 465 and channels["ent"].secret == "s3cret"
    assert delivery.channels_from_settings(load_settings({"ORIENTBOT_CONFIG": "/nonexistent.yml"})) == {}
    with pytest.raises(ValueError, match="security"):
        delivery.SmtpChannel(MailSettings(host="h", sender="s@e.fr", security="ssl"))


class Refusing(Inbox):
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd's hook
        return f"550 5.1.1 <{address}>: Recipient address rejected"


def test_an_address_the_relay_refuses_fails_for_good_without_keeping_the_address(engine, evening_ticket, smtp_port,
                                                                                 caplog):
    caplog.set_level("INFO")
    ticket_id, counsellor = evening_ticket
    answer(engine, ticket_id, counsellor)
    relay = Controller(Refusing(), hostname="127.0.0.1", port=smtp_port)
    relay.start()
    try:
        report = delivery.send_due(engine, {"email": mail_channel(smtp_port)}, MORNING, settings=RETRIES)
    finally:
        relay.stop()
    assert len(report.failed) == 1
    [row] = deliveries(engine, ticket_id)
    assert row.status == "failed" and row.next_attempt_at is None and row.attempts == 1
    assert row.reason.startswith("adresse refusée par le serveur de messagerie (550") and ADDRESS not in row.reason
    with session_scope(engine) as session:
        assert session.get(Ticket, ticket_id).contact_email is None
        # The person is told in the conversation, in their register, and pointed to the answer and the code.
        [notice] = session.execute(select(ChatMessage).where(ChatMessage.author == "system")).scalars().all()
        assert notice.sender_id == "parent-durand" and notice.payload == {"kind": "undeliverable"}
        assert "refusée" in notice.text and "votre code de réponse" in notice.text and ADDRESS not in notice.text
    ours = " ".join(r.getMessage() for r in caplog.records if r.name == "orientbot.delivery")
    assert "550" in ours and ADDRESS not in ours  # nor in the logs


def test_an_accented_address_a_relay_cannot_take_fails_for_good(engine, evening_ticket, smtp_port):
    ticket_id, counsellor = evening_ticket
    with session_scope(engine) as session:
        workflow.set_contact(session, ticket_id=ticket_id, sender_id="parent-durand", channel="email",
                             email="hélène@exemple.fr", consent=True, now=EVENING)
    answer(engine, ticket_id, counsellor)
    relay = Controller(Inbox(), hostname="127.0.0.1", port=smtp_port, enable_SMTPUTF8=False)
    relay.start()
    try:
        delivery.send_due(engine, {"email": mail_channel(smtp_port)}, MORNING, settings=RETRIES)
    finally:
        relay.stop()
    [row] = deliveries(engine, ticket_id)
    assert row.status == "failed" and row.next_attempt_at is None and "accentuées" in row.reason


ON_CALL = "astreinte@lycee-exemple.fr"


def on_call_channel(port: int) -> delivery.OnCallChannel:
    return delivery.OnCallChannel(MailSettings(host="127.0.0.1", port=port, security="none", timeout_seconds=5,
                                               sender="Orientation <orientation@lycee-exemple.fr>",
                                               on_call_address=ON_CALL, console_url="https://console.lycee.fr/"),
                                  password="")


@pytest.fixture
def urgent_evening(engine):
    """A pupil writes distress at 21:00: the ticket is urgent and deferred, and its alert is queued with it."""
    with session_scope(engine) as session:
        ticket = add_ticket(session, question="je veux en finir, je n'en peux plus de ce lycée", sender_id="eleve-nuit",
                            priority="urgent", reason="distress", mode="deferred", created=EVENING,
                            due_in=timedelta(hours=12, minutes=15))
        delivery.queue_on_call(session, ticket_id=ticket.id, now=EVENING)
        return ticket.id


def test_an_urgent_evening_ticket_alerts_the_on_call_address_with_the_link_only(engine, urgent_evening, smtp_port):
    inbox, relay = start_relay(smtp_port)
    try:
        report = delivery.send_due(engine, {"email": mail_channel(smtp_port), "on_call": on_call_channel(smtp_port)},
                                   EVENING + timedelta(seconds=30), settings=RETRIES)
    finally:
        relay.stop()
    assert len(report.sent) == 1
    [(_, recipients, message)] = inbox.received
    assert recipients == [ON_CALL] and "urgente" in message["Subject"]
    body = message.get_body(("plain",)).get_content()
    assert f"https://console.lycee.fr/tickets/{urgent_evening}" in body
    assert "Priorité : urgente" in body and "détresse ou danger" in body
    assert "07/12/2026 à 21:00 (heure de Paris)" in body  # the default office hours' zone
    # Nothing the person wrote, nor who they are.
    assert "en finir" not in body and "ce lycée" not in body and "eleve-nuit" not in body
    [row] = deliveries(engine, urgent_evening)
    assert (row.channel, row.status) == ("on_call", "sent")


@pytest.mark.parametrize("zone, said", [("Indian/Reunion", "08/12/2026 à 00:00 (heure de La Réunion)"),
                                         ("America/Guadeloupe", "07/12/2026 à 16:00 (heure de la Guadeloupe)"),
                                         ("Pacific/Noumea", "08/12/2026 à 07:00 (heure de Nouvelle-Calédonie)")])
def test_the_on_call_alert_gives_the_time_in_the_services_own_zone(engine, urgent_evening, smtp_port, zone, said):
    with session_scope(engine) as session:
        workflow.save_office_hours(session, hours=OfficeHours(timezone=zone))
    inbox, relay = start_relay(smtp_port)
    try:
        delivery.send_due(engine, {"on_call": on_call_channel(smtp_port)}, EVENING, settings=RETRIES)
    finally:
        relay.stop()
    [(_, _, message)] = inbox.received
    body = message.get_body(("plain",)).get_content()
    assert f"Reçue le : {said}" in body and "Paris" not in body


def test_the_on_call_alert_waits_for_the_relay_and_is_retried(engine, urgent_evening, smtp_port):
    channels = {"on_call": on_call_channel(smtp_port)}
    delivery.send_due(engine, channels, EVENING, settings=RETRIES)  # nobody listens on the port
    [row] = deliveries(engine, urgent_evening)
    assert row.status == "failed" and row.next_attempt_at is not None and "injoignable" in row.reason
    inbox, relay = start_relay(smtp_port)
    try:
        assert delivery.send_due(engine, channels, EVENING + timedelta(minutes=2), settings=RETRIES).sent == [row.id]
    finally:
        relay.stop()
    assert [recipients for _, recipients, _ in inbox.received] == [[ON_CALL]]


def test_the_on_call_alert_is_sent_even_if_the_conversation_was_erased(engine, urgent_evening, smtp_port):
    with session_scope(engine) as session:
        chatlog.erase(session, sender_id="eleve-nuit", now=EVENING)
    inbox, relay = start_relay(smtp_port)
    try:
        delivery.send_due(engine, {"on_call": on_call_channel(smtp_port)}, EVENING, settings=RETRIES)
    finally:
        relay.stop()
    assert len(inbox.received) == 1


def test_the_on_call_channel_comes_from_the_settings():
    settings = load_settings({"ORIENTBOT_CONFIG": "/nonexistent.yml", "ORIENTBOT_MAIL_HOST": "smtp.exemple.fr",
                              "ORIENTBOT_MAIL_SENDER": "orientation@exemple.fr",
                              "ORIENTBOT_MAIL_ON_CALL_ADDRESS": ON_CALL})
    assert delivery.channels_from_settings(settings)["on_call"].settings.on_call_address == ON_CALL
    assert "on_call" not in delivery.channels_from_settings(load_settings({
        "ORIENTBOT_CONFIG": "/nonexistent.yml", "ORIENTBOT_MAIL_HOST": "smtp.exemple.fr",
        "ORIENTBOT_MAIL_SENDER": "orientation@exemple.fr"}))


def test_the_command_line_sends_what_is_due(engine, tmp_path, monkeypatch, smtp_port):
    url = str(engine.url)
    if not url.startswith("sqlite"):
        pytest.skip("the command line is exercised on SQLite")
    with session_scope(engine) as session:
        counsellor = add_account(session, "alice").id
        ticket = add_ticket(session, question="q", sender_id="parent-1", audience="parent", mode="deferred")
        workflow.set_contact(session, ticket_id=ticket.id, sender_id="parent-1", channel="email", email=ADDRESS,
                             consent=True, now=EVENING)
        ticket_id = ticket.id
    answer(engine, ticket_id, counsellor, at=datetime.now(timezone.utc) - timedelta(minutes=1), kb_id=None)
    for name, value in {"ORIENTBOT_CONFIG": str(tmp_path / "none.yml"), "ORIENTBOT_DATABASE_URL": url,
                        "ORIENTBOT_MAIL_HOST": "127.0.0.1", "ORIENTBOT_MAIL_PORT": str(smtp_port),
                        "ORIENTBOT_MAIL_SECURITY": "none", "ORIENTBOT_MAIL_SENDER": "orientation@lycee-exemple.fr",
                        "ORIENTBOT_MAIL_BASE_URL": LINK}.items():
        monkeypatch.setenv(name, value)
    inbox, relay = start_relay(smtp_port)
    try:
        assert delivery.main([]) == 0
    finally:
        relay.stop()
    assert [recipients for _, recipients, _ in inbox.received] == [[ADDRESS]]
    assert LINK in inbox.received[0][2].get_body(("plain",)).get_content()
