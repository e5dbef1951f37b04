"""The one settings object.

Owns every tunable of the project: where the data lives (one SQLAlchemy URL),
the answer gate's thresholds, the handoff spool, the mail relay, the outbox's retries and the retrieval
codes.  Values come from ``orientbot.yml`` at the project root, then from environment variables
(``ORIENTBOT_DATABASE_URL``, ``ORIENTBOT_CONFIG``...), so that one process can be
pointed at PostgreSQL without touching a file.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any, Dict, Mapping, Optional

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class GateSettings:
    """What the answer policy (``orientbot.policy``) needs besides its risk model.

    The risk model and its operating point are measured (`make kb`, README "Measuring a change"). The
    other numbers are guards kept from the earlier gate (chosen by hand on its held-out replay, 2026-11);
    `make eval` replays them with the rest of the policy.
    """

    # A candidate this close to the question is offered as a "did you mean…?" button.
    clarify_similarity: float = 0.20
    max_candidates: int = 3
    out_of_scope_confidence: float = 0.5
    # Below this, a distress intent without other evidence is read like any question.
    distress_intent_confidence: float = 0.85
    # A personal case is about orientation: with nothing in the KB even remotely close, it is not one.
    personal_case_min_similarity: float = 0.17
    ask_human_confidence: float = 0.5
    # "stage", "bourse crous": this many content words or fewer, naming a topic and asking nothing, get choices.
    bare_topic_words: int = 2
    # The risk model (``orientbot.risk``), fitted by `make kb` on cross-validated predictions over the
    # transcripts, and the share of all questions it may answer wrongly there (issue 10: at most 2 %).
    risk_model: Path = PROJECT_ROOT / "var" / "answer-risk.json"
    wrong_answer_budget: float = 0.02
    # Its shape: knots of the spline each continuous feature enters by, and the regression's inverse
    # regularisation. `make eval`, three draws (2026-12-06, README "Measuring a change"): answered right 0.361
    # with straight weights, 0.391 with 4 knots at C = 0.3; 3 knots 0.380, 6 knots 0.384; wrong 0.020 each.
    risk_spline_knots: int = 4
    risk_regularisation: float = 0.3


@dataclass(frozen=True)
class RetrievalSettings:
    """How the retriever (``orientbot.retrieval``) weighs its views of a question.

    These values were first chosen on the held-out evaluation set; they are now checked by cross-validation over
    the transcripts instead: `python -m knowledge tune-retrieval` (2026-12-05, 3,027 questions whose entry was in
    their fold's KB, three draws) found no value on its grid better by 0.003 top-1 or more (top-1 0.812, top-3
    0.940; each weight's curve in README "Measuring a change"), so they stay.
    """

    # Character n-grams' share of a text's vector (the rest: word 1-2-grams). 0.3-0.6: 0.812-0.813; 0 (words
    # only): 0.780; 1 (characters only): 0.786.
    char_weight: float = 0.7
    # An entry's question score: this share from its variants' centroid, the rest from its closest variant.
    # 0 (closest variant only): top-1 0.764 instead of 0.812.
    centroid_weight: float = 0.8
    # The answer's similarity to the question, against 1 for the questions'. 0 (no answer text): 0.795.
    answer_weight: float = 0.8


@dataclass(frozen=True)
class ConsoleSettings:
    """The counsellors' web console."""

    host: str = "127.0.0.1"
    port: int = 5080
    # Behind HTTPS in production: cookies then carry the Secure flag.
    secure_cookies: bool = False
    session_hours: int = 10
    # A session also ends after this long without a page opened or a form sent (the live refreshes do not count).
    idle_minutes: int = 30
    # Serving on an address other than loopback without secure_cookies (HTTPS) is refused unless this is set.
    allow_insecure_remote: bool = False
    # How often the action server looks for KB entries approved in the console.
    kb_refresh_seconds: int = 5
    # The first start writes the generated admin password here (mode 600).
    admin_password_file: Path = PROJECT_ROOT / "var" / "console-admin-password.txt"
    # Behind a reverse proxy: the client's address for the log-in limit is the last one of X-Forwarded-For.
    trust_forwarded_for: bool = False
    # Tickets per page of the queue (/queue?page=N). Measured with scripts/bench_console.py (PostgreSQL 15, 2 busy
    # cores, 100,000 tickets of which 10,000 or 30,000 open, 2026-12-05): a page of 50 is served in 12-20 ms (p50),
    # the first page or the last alike, most of it the template; 200 rows took 65-220 ms before paging.
    queue_page_size: int = 50


@dataclass(frozen=True)
class DetectorSettings:
    """Thresholds of the text detectors learned from the transcripts (``orientbot.detectors``).

    Both chosen by ``python -m orientbot.detectors``: 5-fold cross-validation over the transcripts
    (772 conversations), folds grouped by conversation.
    """

    # Recall first: the highest threshold at which, on the messages that tell distress, the patterns OR
    # the classifier catch >= 98 % and the classifier alone >= 90 % (measured 2026-12-05, training text
    # without the anonymiser's marks: 77/77 and 0.909; false alarms on the FAQ variants 4/1349, on every
    # ordinary message 13/1781).
    distress_threshold: float = 0.42
    # The lowest threshold whose false alarms on the general (FAQ) questions are <= 3 % (measured
    # 2026-12-05, same text: 38/1349 = 2.8 %, recall 144/269 = 0.54 on the personal cases; 0.61 before,
    # when "[NOM]" and "[ÉTABLISSEMENT]", never in a live message, told the classifier a story was personal).
    personal_case_threshold: float = 0.69
    # Where the bot could only ask "did you mean…?", a story told in the first person goes to a counsellor from
    # this lower threshold on. Cross-validation (`make eval`, 2026-12-06): of the questions that got choices,
    # 27 of 61 personal cases go to a counsellor at 0.5, and 67 of 954 ordinary ones (at 0.4: 37 and 122; at
    # 0.6: 16 and 32). Both lose no answer: neither kind was answered.
    personal_case_unsure_threshold: float = 0.5


@dataclass(frozen=True)
class ChatSettings:
    """The chat window's channel (``bot/channels/chat.py``) and the REST channel's limits (``bot/channels/rest.py``)."""

    long_poll_seconds: int = 25
    # Rate limits (sliding window of one minute, ``bot/channels/guard.py``): counted in Redis at
    # ``serve.lock_store_url``, shared by every Rasa process of the deployment; in each process's memory while
    # Redis does not answer. A whole class behind one school address shares the per-address numbers: they are
    # generous; a person's own are not.
    messages_per_minute_per_sender: int = 20
    messages_per_minute_per_address: int = 300
    reads_per_minute_per_sender: int = 60  # /history and /events (long polls)
    reads_per_minute_per_address: int = 900
    # POST /webhooks/rest/webhook per client address (0: none). Its clients are trusted programs (the evaluation:
    # ~300 questions, 4 at a time; an ENT's back end), so it only stops a flood: 20 msg/s sustained, a third of
    # what one 2-core server answers. Loopback is not counted: the machine's own tools (`make bench` offers 40
    # msg/s, `make eval`, load.py); behind a proxy, Sanic must read the client's address from it (docs/deploy.md).
    rest_messages_per_minute_per_address: int = 1200
    # POST /webhooks/rest/webhook per sender id, whatever its address (0: none): one address (a school's NAT, an
    # ENT's proxy) hides many pupils, and one sender id may write from many addresses. A person typing cannot send
    # more than a message every 2 s, so 30 a minute stops only a program. Loopback is not counted either: the
    # machine's own tools may write faster in one conversation (load.py's closed loop: one sender per client).
    rest_messages_per_minute_per_sender: int = 30


@dataclass(frozen=True)
class PrivacySettings:
    """What is kept, for how long, and the chat window's per-conversation secret (docs/privacy.md)."""

    # A conversation (chat log, feedback, Rasa tracker) is erased this long after its last message.
    conversation_days: int = 30
    # A closed ticket is deleted this long after it was closed (what remains of it after the conversation is erased).
    ticket_days: int = 365
    # The key that signs each conversation's token (HMAC-SHA256). Empty: read from ``token_key_file``,
    # generated there (mode 600) on first use.
    token_key: str = ""
    token_key_file: Path = PROJECT_ROOT / "var" / "chat-token-key"
    # Rasa's SQL tracker store, for ``python -m orientbot.retention`` (the Rasa server itself uses
    # endpoints.yml). Empty: ``sqlite:///$TRACKER_DB``, else var/tracker.db.
    tracker_database_url: str = ""


@dataclass(frozen=True)
class MailSettings:
    """The school's mail relay, through which a counsellor's answer reaches a family who chose e-mail.

    Empty ``host``: no e-mail is sent (the answers wait in the outbox, shown as such in the console).
    """

    host: str = ""
    port: int = 587
    security: str = "starttls"  # "starttls" (port 587), "tls" (implicit TLS, port 465) or "none" (a local relay)
    user: str = ""  # empty: no log-in
    # The password is never in a file: it is read from the environment variable named here.
    password_env: str = "ORIENTBOT_MAIL_PASSWORD"
    sender: str = ""  # the From address, e.g. "Orientation <orientation@lycee-exemple.fr>"
    # Where the family finds the conversation again (the ENT page with the chat window); in every e-mail.
    base_url: str = ""
    timeout_seconds: int = 20
    # Who is told, by e-mail, of an urgent ticket written while the service is closed (a duty counsellor,
    # the head's office…): the ticket's link in the console, its priority, reason and time, never the words.
    # Empty: nobody (the urgent ticket waits at the top of the queue for the next opening).
    on_call_address: str = ""
    # The console's address as the on-call person opens it (the link in that e-mail).
    console_url: str = "http://127.0.0.1:5080"


@dataclass(frozen=True)
class PickupSettings:
    """Retrieval codes (``orientbot.pickup``): an evening answer read with a code, without leaving an address."""

    # 8 characters of a 31-letter alphabet: about 8.5e11 codes, against a few guesses a minute per address.
    code_length: int = 8
    # A code stops working this long after the handoff (it also goes when the conversation is erased).
    expiry_days: int = 30
    # Guesses allowed per client address and minute on the page (a whole school behind one address shares them).
    checks_per_minute_per_address: int = 10
    # The page as a family opens it (the bot's public address + /webhooks/chat/reponse), said in the bot's reply.
    page_url: str = "http://127.0.0.1:5005/webhooks/chat/reponse"
    # A school whose families open it at another address (its own ENT in front of the bot): UAI -> page URL.
    # In a variable: ORIENTBOT_PICKUP_PAGE_URLS="0751234A=https://ent.lycee-jaures.fr/orientation/reponse".
    page_urls: Dict[str, str] = field(default_factory=dict)

    def page_for(self, school: Optional[str]) -> str:
        """The page a family of this school is sent to; the common one for a conversation of no school."""
        return self.page_urls.get(school or "", self.page_url)


@dataclass(frozen=True)
class DeliverySettings:
    """The outbox's sender (``python -m orientbot.delivery``): the ENT's webhook and the retries."""

    # Empty: answers for families who chose the ENT are not pushed (they read them in the chat window).
    ent_webhook_url: str = ""
    # The webhook's HMAC secret; empty: read from the environment variable named by ``ent_webhook_secret_env``.
    ent_webhook_secret: str = ""
    ent_webhook_secret_env: str = "ORIENTBOT_ENT_WEBHOOK_SECRET"
    # A failed attempt is retried after retry_first_seconds, then twice as long each time, at most
    # retry_max_seconds apart; after max_attempts attempts the failure is final (shown in the console).
    retry_first_seconds: int = 60
    retry_max_seconds: int = 3600
    max_attempts: int = 10
    # A delivery claimed this long ago and never marked was interrupted mid-send (crash): not resent, flagged.
    sending_lease_seconds: int = 900
    loop_seconds: int = 30


@dataclass(frozen=True)
class SchoolSettings:
    """The schools (établissements) a deployment serves (``orientbot.schools``)."""

    # UAI code → display name, e.g. {"0751234A": "Lycée Jean Jaurès"}. Empty: any well-formed UAI a chat window
    # gives (data-school) is taken; else only these (another is ignored: the conversation has no school).
    # In a variable: ORIENTBOT_SCHOOLS_KNOWN="0751234A=Lycée Jean Jaurès;0931234B=Lycée Voltaire".
    known: Dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ServeSettings:
    """How `make run` uses the machine's cores (``scripts/workers.py``)."""

    # Several Rasa workers need a lock store they all see (one message of a conversation at a time, whichever
    # worker takes it). Unreachable or empty: one Rasa process with Rasa's in-memory locks. The rate limits are
    # counted there too (``bot/channels/guard.py``), by every Rasa process; empty or unreachable: each its own.
    lock_store_url: str = "redis://127.0.0.1:6379/1"
    # Rasa workers when the lock store answers; 0: one per core.
    rasa_workers: int = 0
    # The latest events of a conversation Rasa sends the action server with each call (all of them in Rasa's own
    # call: a conversation of 40 messages sent ~400 events, serialised by Rasa and parsed by the action server
    # every time). The actions read the last 60 (the transcript a ticket keeps) and the person's 6 messages
    # before the latest (``bot.actions.conversation``); 0: all of them, as Rasa does.
    action_events_sent: int = 150


@dataclass(frozen=True)
class Settings:
    database_url: str = f"sqlite:///{PROJECT_ROOT / 'var' / 'orientbot.db'}"
    ticket_spool: Path = PROJECT_ROOT / "var" / "ticket-spool.jsonl"
    transcripts_dir: Path = PROJECT_ROOT / "transcripts"
    generated_dir: Path = PROJECT_ROOT / "bot" / "data" / "generated"
    reports_dir: Path = PROJECT_ROOT / "var" / "reports"
    # `make eval` draws the cross-validated coverage-risk curve here (committed: the figure to tune on).
    curve_picture: Path = PROJECT_ROOT / "docs" / "coverage-risk.png"
    # `make eval-nlu` writes its report here (committed for the sample; knowledge.corpus moves both out of git for a
    # school's transcripts).
    nlu_report: Path = PROJECT_ROOT / "docs" / "nlu-crossval.txt"
    spacy_model: str = "fr_core_news_md"
    answer_max_age_days: int = 400
    gate: GateSettings = field(default_factory=GateSettings)
    retrieval: RetrievalSettings = field(default_factory=RetrievalSettings)
    console: ConsoleSettings = field(default_factory=ConsoleSettings)
    chat: ChatSettings = field(default_factory=ChatSettings)
    privacy: PrivacySettings = field(default_factory=PrivacySettings)
    detectors: DetectorSettings = field(default_factory=DetectorSettings)
    mail: MailSettings = field(default_factory=MailSettings)
    delivery: DeliverySettings = field(default_factory=DeliverySettings)
    pickup: PickupSettings = field(default_factory=PickupSettings)
    schools: SchoolSettings = field(default_factory=SchoolSettings)
    serve: ServeSettings = field(default_factory=ServeSettings)


def _coerce(value: Any, like: Any) -> Any:
    if isinstance(like, Path):
        path = Path(value)
        return path if path.is_absolute() else PROJECT_ROOT / path
    if isinstance(like, bool):
        return str(value).lower() in {"1", "true", "yes", "oui"}
    if isinstance(like, dict):
        if isinstance(value, str):  # from a variable: "KEY=value;KEY=value"
            pairs = (item.split("=", 1) for item in value.split(";") if item.strip())
            return {key.strip(): (rest[0].strip() if rest else "") for key, *rest in pairs}
        return {str(key): str(name) for key, name in (value or {}).items()}
    return type(like)(value)


def _apply(obj: Any, values: Mapping[str, Any]) -> Any:
    changes = {}
    for item in fields(obj):
        if item.name not in values:
            continue
        current = getattr(obj, item.name)
        if is_dataclass(current):
            changes[item.name] = _apply(current, values[item.name] or {})
        else:
            changes[item.name] = _coerce(values[item.name], current)
    return replace(obj, **changes)


def load_settings(environ: Optional[Mapping[str, str]] = None) -> Settings:
    """Build the settings from ``orientbot.yml`` then ``ORIENTBOT_*`` variables."""
    environ = os.environ if environ is None else environ
    settings = Settings()
    config_path = Path(environ.get("ORIENTBOT_CONFIG", PROJECT_ROOT / "orientbot.yml"))
    if config_path.exists():
        settings = _apply(settings, yaml.safe_load(config_path.read_text(encoding="utf-8")) or {})
    overrides: dict = {}
    for item in fields(settings):
        section = getattr(settings, item.name)
        if is_dataclass(section):  # ORIENTBOT_CONSOLE_PORT sets console.port
            nested = {
                sub.name: environ[f"ORIENTBOT_{item.name.upper()}_{sub.name.upper()}"]
                for sub in fields(section)
                if f"ORIENTBOT_{item.name.upper()}_{sub.name.upper()}" in environ
            }
            if nested:
                overrides[item.name] = nested
        elif f"ORIENTBOT_{item.name.upper()}" in environ:
            overrides[item.name] = environ[f"ORIENTBOT_{item.name.upper()}"]
    return _apply(settings, overrides)
