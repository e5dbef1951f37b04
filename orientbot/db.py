"""The one storage layer: SQLAlchemy models and engine/session construction.

Owns the schema of the knowledge base (entries, their question variants and
provenance), of handoff tickets and their history, of the chat log the widget
shows, of counsellors' accounts and sessions, of KB proposals made from the
console and of the history of counsellors' changes to entries (``KBEntryVersion``),
of feedback on answers, of the settings an admin edits and of the outbox of
answers to send by e-mail or to the ENT (``Delivery``), and the indexes the console's queue and dashboard
read (``create_schema`` adds those an existing database lacks).  Nothing is created at import time: callers
build an engine from a URL (SQLite by default, PostgreSQL in production) and
pass sessions to the repository functions in ``orientbot.kb`` and
``orientbot.tickets``.
"""
from __future__ import annotations

import hashlib
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator, Optional

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    case,
    create_engine,
    event,
    inspect,
    text,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, declarative_base, relationship, sessionmaker
from sqlalchemy.schema import CreateIndex
from sqlalchemy.sql.expression import Grouping

Base = declarative_base()


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(moment: Optional[datetime]) -> Optional[datetime]:
    """SQLite gives naive datetimes back: they were written in UTC."""
    if moment is None:
        return None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


# A ticket's statuses until it is closed (``orientbot.workflow``).
OPEN_STATUSES = ("new", "taken", "answered", "reopened")


class KBEntry(Base):
    """One answerable question: a canonical answer and every way it was asked."""

    __tablename__ = "kb_entries"

    id = Column(String(120), primary_key=True)
    title = Column(Text, nullable=False)
    answer_eleve = Column(Text, nullable=False)
    answer_parent = Column(Text, nullable=False)
    sources = Column(JSON, nullable=False, default=list)
    times_asked = Column(Integer, nullable=False, default=0)
    campaign_year = Column(Integer, nullable=True)
    valid_until = Column(Date, nullable=True)
    # "active" (served), "review" (held back until a counsellor reviews it), "retired", "merged" (into ``merged_into``).
    status = Column(String(20), nullable=False, default="active")
    origin = Column(String(20), nullable=False, default="pipeline")
    # The canonical question in the parents' register ("vous"); ``title`` is the students' ("tu").
    title_parent = Column(Text, nullable=False, default="")
    # Why a counsellor should look at it (failed answer checks, a register derived by the pipeline, out of date…);
    # empty once reviewed.
    review_reasons = Column(JSON, nullable=False, default=list)
    reviewed_by = Column(Integer, ForeignKey("counsellors.id"), nullable=True)
    reviewed_at = Column(DateTime(timezone=True), nullable=True)
    # Counsellors changed its title, answers, sources or validity in the console: a rebuild keeps those.
    edited = Column(Boolean, nullable=False, default=False)
    merged_into = Column(String(120), nullable=True)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, onupdate=utcnow)

    variants = relationship(
        "KBVariant", back_populates="entry", cascade="all, delete-orphan", order_by="KBVariant.id"
    )


class KBVariant(Base):
    """A question as somebody asked it (anonymised), and where it came from."""

    __tablename__ = "kb_variants"

    id = Column(Integer, primary_key=True, autoincrement=True)
    entry_id = Column(String(120), ForeignKey("kb_entries.id", ondelete="CASCADE"), nullable=False, index=True)
    text = Column(Text, nullable=False)
    conversation_id = Column(String(200), nullable=True)
    votes = Column(Integer, nullable=False, default=0)

    entry = relationship("KBEntry", back_populates="variants")


class Ticket(Base):
    """A conversation handed to a human counsellor, and where it is in its lifecycle.

    ``mode`` is ``live`` when a counsellor was at work at handoff time (the bot is
    paused for the conversation until the ticket is closed) and ``deferred`` in the
    evening (the bot goes on; the answer is promised by ``due_at``).
    """

    __tablename__ = "tickets"

    id = Column(String(36), primary_key=True)
    sender_id = Column(String(255), nullable=False, index=True)
    priority = Column(String(10), nullable=False)
    reason = Column(String(40), nullable=False)
    status = Column(String(20), nullable=False, default="new", index=True)
    audience = Column(String(10), nullable=False, default="eleve")
    question = Column(Text, nullable=False, default="")
    transcript = Column(JSON, nullable=False, default=list)
    candidates = Column(JSON, nullable=False, default=list)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    spooled = Column(Boolean, nullable=False, default=False)
    mode = Column(String(10), nullable=False, default="live")
    summary = Column(Text, nullable=False, default="")
    topic = Column(String(200), nullable=True)
    due_at = Column(DateTime(timezone=True), nullable=True)
    owner_id = Column(Integer, ForeignKey("counsellors.id"), nullable=True)
    taken_at = Column(DateTime(timezone=True), nullable=True)
    first_reply_at = Column(DateTime(timezone=True), nullable=True)
    answered_at = Column(DateTime(timezone=True), nullable=True)
    closed_at = Column(DateTime(timezone=True), nullable=True)
    resolution = Column(String(20), nullable=True)
    contact_channel = Column(String(10), nullable=True)
    contact_email = Column(String(320), nullable=True)
    contact_consent = Column(Boolean, nullable=False, default=False)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, onupdate=utcnow)
    # The school (UAI) the conversation was started from, taken from its sender id (orientbot.schools);
    # None for a conversation of no school (REST channel, a window without data-school).
    school = Column(String(8), nullable=True)

    owner = relationship("Counsellor")


# The queue's first sort key: urgent tickets (0) before the others (1) (``orientbot.workflow.queue``); in
# parentheses in the index, where PostgreSQL wants an expression so.
QUEUE_RANK = case((Ticket.priority == "urgent", 0), else_=1)
# The queue of open tickets in its whole order, so that a page of it is read from the index, not sorted from
# every open ticket; with the columns the queue filters on (PostgreSQL's INCLUDE), a page's ids are read from the
# index alone, whatever the filters and however deep the page, and so are the queue's counts. Partial: closed
# tickets, most of the table, would otherwise sit among the open ones and be stepped over. EXPLAIN ANALYZE with
# 100,000 tickets, 30,000 open (scripts/bench_console.py, PostgreSQL 15): the page at offset 15,000 in 3 ms (44 ms
# with an index of the order alone, whose scan fetched 76,000 rows to skip the closed ones), a reason-and-audience
# filtered page in 0.5 ms (31 ms), the counts in 7 ms (14 ms). The closed tickets are listed without it (status
# "clos", ~80 ms at 70,000 closed).
Index("ix_tickets_queue", Grouping(QUEUE_RANK), Ticket.due_at, Ticket.created_at, Ticket.id,
      postgresql_include=["priority", "status", "school", "reason", "audience", "topic"],
      postgresql_where=Ticket.status.in_(OPEN_STATUSES), sqlite_where=Ticket.status.in_(OPEN_STATUSES))
# The dashboard's 30 days, for every school and for one, with the columns it counts (PostgreSQL's INCLUDE): its
# counts per reason and per day and its median are read from the index alone (17,000 tickets in the 30 days:
# 17 ms, 22 ms and 16 ms; a sequential scan of the table was 40 to 75 ms each).
_DASHBOARD_COUNTS = ["reason", "first_reply_at", "resolution"]
Index("ix_tickets_created_at", Ticket.created_at, postgresql_include=_DASHBOARD_COUNTS)
Index("ix_tickets_school_created_at", Ticket.school, Ticket.created_at, postgresql_include=_DASHBOARD_COUNTS)


class TicketEvent(Base):
    """One step of a ticket's life (created, taken, replied, handed back…): the audit trail."""

    __tablename__ = "ticket_events"

    id = Column(Integer, primary_key=True, autoincrement=True)
    ticket_id = Column(String(36), ForeignKey("tickets.id"), nullable=False, index=True)
    kind = Column(String(30), nullable=False)
    counsellor_id = Column(Integer, ForeignKey("counsellors.id"), nullable=True)
    detail = Column(JSON, nullable=False, default=dict)
    at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class Delivery(Base):
    """A counsellor's answer to send where the person chose (e-mail, or the ENT's webhook): the outbox.

    Written by ``orientbot.workflow.reply`` in the same transaction as the answer, sent by
    ``orientbot.delivery``.  It holds neither the address nor the words: both are read from the ticket
    and the chat log when it is sent, so erasing a conversation leaves nothing here to send.
    ``status``: ``queued`` → ``sending`` (claimed by one sender) → ``sent``, or ``failed`` with a
    ``reason``; a failure with ``next_attempt_at`` is retried then, one without it is final.
    """

    __tablename__ = "deliveries"

    id = Column(Integer, primary_key=True, autoincrement=True)
    ticket_id = Column(String(36), ForeignKey("tickets.id"), nullable=False, index=True)
    # The counsellor's ChatMessage. No foreign key: erasing a conversation deletes its messages.
    message_id = Column(Integer, nullable=True)
    channel = Column(String(10), nullable=False)
    status = Column(String(10), nullable=False, default="queued", index=True)
    attempts = Column(Integer, nullable=False, default=0)
    reason = Column(Text, nullable=True)
    next_attempt_at = Column(DateTime(timezone=True), nullable=True, index=True)
    claimed_at = Column(DateTime(timezone=True), nullable=True)
    sent_at = Column(DateTime(timezone=True), nullable=True)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class PickupCode(Base):
    """A retrieval code for a deferred ticket's answer (``orientbot.pickup``): only its keyed hash is kept.

    Deleted with the conversation (``orientbot.chatlog.erase``), with its ticket and once expired
    (``orientbot.retention``).
    """

    __tablename__ = "pickup_codes"

    id = Column(Integer, primary_key=True, autoincrement=True)
    ticket_id = Column(String(36), ForeignKey("tickets.id"), nullable=False, index=True)
    code_hash = Column(String(64), nullable=False, unique=True)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    expires_at = Column(DateTime(timezone=True), nullable=False, index=True)
    # How often the answer was read with it, and when last: shown to nobody, kept for the school's audit.
    reads = Column(Integer, nullable=False, default=0)
    last_used_at = Column(DateTime(timezone=True), nullable=True)


class ChatMessage(Base):
    """A message of a conversation as the chat window shows it: from the person, the bot or a counsellor."""

    __tablename__ = "chat_messages"

    id = Column(Integer, primary_key=True, autoincrement=True)
    sender_id = Column(String(255), nullable=False, index=True)
    author = Column(String(12), nullable=False)
    text = Column(Text, nullable=False, default="")
    payload = Column(JSON, nullable=False, default=dict)
    client_id = Column(String(64), nullable=True)
    ticket_id = Column(String(36), ForeignKey("tickets.id"), nullable=True, index=True)
    counsellor_id = Column(Integer, ForeignKey("counsellors.id"), nullable=True)
    erased = Column(Boolean, nullable=False, default=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)

    __table_args__ = (UniqueConstraint("sender_id", "client_id", name="uq_chat_client_id"),)


class Counsellor(Base):
    """An account of the console: a counsellor, or an admin who also manages accounts and hours."""

    __tablename__ = "counsellors"

    id = Column(Integer, primary_key=True, autoincrement=True)
    username = Column(String(80), nullable=False, unique=True)
    display_name = Column(String(120), nullable=False)
    password_hash = Column(String(255), nullable=False)
    role = Column(String(12), nullable=False, default="counsellor")
    active = Column(Boolean, nullable=False, default=True)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    # The school whose tickets this account sees (orientbot.schools.visible_to); None: the whole deployment.
    school = Column(String(8), nullable=True)


class WebSession(Base):
    """A logged-in console session; only a hash of the cookie's token is kept."""

    __tablename__ = "web_sessions"

    token_hash = Column(String(64), primary_key=True)
    counsellor_id = Column(Integer, ForeignKey("counsellors.id", ondelete="CASCADE"), nullable=False, index=True)
    csrf_token = Column(String(64), nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    expires_at = Column(DateTime(timezone=True), nullable=False)

    counsellor = relationship("Counsellor")


class KBProposal(Base):
    """A counsellor's answer proposed as knowledge: a new entry, or new variants of ``target_entry_id``."""

    __tablename__ = "kb_proposals"

    id = Column(Integer, primary_key=True, autoincrement=True)
    ticket_id = Column(String(36), ForeignKey("tickets.id"), nullable=True, index=True)
    # No foreign key: a KB rebuild deletes and rewrites the pipeline's entries this may point at.
    target_entry_id = Column(String(120), nullable=True)
    title = Column(Text, nullable=False)
    questions = Column(JSON, nullable=False, default=list)
    answer_eleve = Column(Text, nullable=False)
    answer_parent = Column(Text, nullable=False)
    sources = Column(JSON, nullable=False, default=list)
    status = Column(String(12), nullable=False, default="proposed", index=True)
    proposed_by = Column(Integer, ForeignKey("counsellors.id"), nullable=False)
    reviewed_by = Column(Integer, ForeignKey("counsellors.id"), nullable=True)
    created_entry_id = Column(String(120), nullable=True)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    reviewed_at = Column(DateTime(timezone=True), nullable=True)
    # "knowledge": new knowledge from a ticket (``orientbot.proposals``); otherwise a counsellor's change to the
    # entry ``target_entry_id`` waiting for an admin ("edit", "merge", "split", "retire", "restore", "review"),
    # described by ``payload`` (``orientbot.kb_admin``).
    kind = Column(String(20), nullable=False, default="knowledge")
    payload = Column(JSON, nullable=True)


class KBEntryVersion(Base):
    """One change made to a KB entry from the console: who, when, what it was before and after (JSON snapshots)."""

    __tablename__ = "kb_entry_versions"

    id = Column(Integer, primary_key=True, autoincrement=True)
    # No foreign key: a KB rebuild deletes and rewrites the pipeline's entries, their history stays.
    entry_id = Column(String(120), nullable=False, index=True)
    # Who made the change; ``approved_by`` is the admin who approved it when it was a counsellor's proposal.
    counsellor_id = Column(Integer, ForeignKey("counsellors.id"), nullable=True)
    approved_by = Column(Integer, ForeignKey("counsellors.id"), nullable=True)
    proposal_id = Column(Integer, nullable=True)
    at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    action = Column(String(20), nullable=False)
    before = Column(JSON, nullable=True)
    after = Column(JSON, nullable=True)


class Feedback(Base):
    """A 👍 (+1) or 👎 (-1) given in the chat window on one bot answer."""

    __tablename__ = "feedback"

    id = Column(Integer, primary_key=True, autoincrement=True)
    sender_id = Column(String(255), nullable=False, index=True)
    message_id = Column(Integer, ForeignKey("chat_messages.id"), nullable=True)
    kb_id = Column(String(120), nullable=True, index=True)
    value = Column(Integer, nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)

    __table_args__ = (UniqueConstraint("sender_id", "message_id", name="uq_feedback_message"),)


class ErasedConversation(Base):
    """A conversation its owner erased, known by a hash of its id only.

    A ticket written to the spool while the database was down reaches the database later: if the person
    erased the conversation in between, the ticket must arrive without their words (``orientbot.tickets``).
    """

    __tablename__ = "erased_conversations"

    sender_hash = Column(String(64), primary_key=True)
    erased_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)

    @staticmethod
    def key_of(sender_id: str) -> str:
        return hashlib.sha256(sender_id.encode("utf-8")).hexdigest()


class AppSetting(Base):
    """A setting an admin changes from the console (office hours), stored as JSON."""

    __tablename__ = "app_settings"

    key = Column(String(60), primary_key=True)
    value = Column(JSON, nullable=False)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, onupdate=utcnow)


class LoginAttempt(Base):
    """A failed console log-in, kept a short while so that every console process limits guessing alike."""

    __tablename__ = "login_attempts"

    id = Column(Integer, primary_key=True, autoincrement=True)
    username = Column(String(80), nullable=False, index=True)
    address = Column(String(64), nullable=False, index=True)
    attempted_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets foreign keys and a busy timeout."""
    if url.startswith("sqlite"):
        engine = create_engine(url, future=True, connect_args={"timeout": 15})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # pragma: no cover - driver hook
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_engine(url, future=True, pool_pre_ping=True)


def ping_on_checkout(engine: Engine) -> Engine:
    """``pool_pre_ping`` for an engine made elsewhere (Rasa's tracker store makes its own, without it).

    A database restarted (or crashed and back) leaves the pool's connections dead: without a ping, the next
    query on each fails once, and Rasa's tracker store then hands the bot an empty conversation for that
    message. A connection whose ``SELECT 1`` fails is replaced before use (``DisconnectionError``: the pool
    retries with a new one). Adding it twice adds nothing.
    """
    if not event.contains(engine.pool, "checkout", _ping):
        event.listen(engine.pool, "checkout", _ping)
    return engine


def _ping(dbapi_connection, _record, _proxy) -> None:
    try:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SELECT 1")
        finally:
            cursor.close()
    except Exception as error:  # any driver error on a pooled connection: it is dead, take another
        raise DisconnectionError(str(error)) from error


def tune_tracker_engine(engine: Engine) -> Engine:
    """Rasa's SQLite tracker store without a disk sync per message (``bot.components.tracker_store_patch``).

    Both steps are for a SQLite engine only; a PostgreSQL engine is returned as it is. Adding them twice adds
    nothing.
    """
    return sqlite_synchronous_normal(sqlite_connection_pool(engine))


def sqlite_connection_pool(engine: Engine, *, size: int = 5) -> Engine:
    """A SQLite file engine keeps its connections (a ``QueuePool``) instead of opening one per session.

    SQLAlchemy 1.4 (Rasa's) gives a SQLite file a ``NullPool``: Rasa's tracker store opened and closed a
    connection for every read and every write, and closing the last connection to a WAL file checkpoints it
    and deletes the WAL, with syncs, each time. SQLAlchemy 2.0 does this by default (a ``QueuePool``,
    connections usable from any thread, one at a time). The connections are made from the engine's URL (its
    query: ``timeout``…, as Rasa passes them; ``connect_args`` given to ``create_engine`` are not seen here)
    with the engine's listeners; each checkout still starts with no transaction open, so a read sees what
    any process committed before it. An engine with another pool (PostgreSQL, SQLite in memory) is left as
    it is.
    """
    from sqlalchemy.pool import NullPool, QueuePool

    if engine.dialect.name != "sqlite" or not isinstance(engine.pool, NullPool):
        return engine
    dialect = engine.dialect
    cargs, cparams = dialect.create_connect_args(engine.url)
    cparams["check_same_thread"] = False  # the pool hands a connection to one thread at a time

    def connect():
        return dialect.connect(*cargs, **cparams)

    old = engine.pool
    # As ``Pool.recreate`` (what ``Engine.dispose`` does): the same listeners, logging and reset on return.
    engine.pool = QueuePool(connect, pool_size=size, max_overflow=2 * size, timeout=30, recycle=old._recycle,
                            echo=old.echo, logging_name=old._orig_logging_name, reset_on_return=old._reset_on_return,
                            _dispatch=old.dispatch, dialect=old._dialect)
    old.dispose()
    return engine


def sqlite_synchronous_normal(engine: Engine) -> Engine:
    """``PRAGMA synchronous=NORMAL`` on each new connection of a SQLite engine whose file is in WAL mode.

    SQLite's default, FULL, syncs the WAL to disk at every commit: an fsync per message written, in Rasa's
    event loop. In WAL mode NORMAL syncs at checkpoints only: the database stays consistent whatever happens
    to the application (a crash, a kill -9), and only the last commits before a power loss or an OS crash can
    be lost (rolled back, never half-written). A file in another journal mode (a rollback journal, where
    NORMAL could corrupt it on power loss) keeps FULL, and an engine of another database (PostgreSQL) gets
    nothing. Adding it twice adds nothing.
    """
    if engine.dialect.name == "sqlite" and not event.contains(engine, "connect", _synchronous_normal):
        event.listen(engine, "connect", _synchronous_normal)
    return engine


def _synchronous_normal(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode")
        row = cursor.fetchone()
        if row and str(row[0]).lower() == "wal":
            cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def create_schema(engine: Engine) -> None:
    """Create what is missing: tables, columns and indexes added to a table since the database was made."""
    if engine.url.get_backend_name() == "sqlite" and engine.url.database:
        Path(engine.url.database).parent.mkdir(parents=True, exist_ok=True)
    Base.metadata.create_all(engine)
    _add_missing_columns(engine)
    _add_missing_indexes(engine)


def _add_missing_columns(engine: Engine) -> None:
    # Enough for this project's additive changes (new optional columns); not a migration tool.
    existing = inspect(engine)
    with engine.begin() as connection:
        for table in Base.metadata.sorted_tables:
            present = {column["name"] for column in existing.get_columns(table.name)}
            for column in table.columns:
                if column.name in present:
                    continue
                kind = column.type.compile(dialect=engine.dialect)
                default = column.default.arg if column.default is not None and column.default.is_scalar else None
                clause = f" DEFAULT {_literal(default)}" if default is not None else ""
                connection.execute(text(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}{clause}'))


def _add_missing_indexes(engine: Engine) -> None:
    # create_all makes a table's indexes with the table only. IF NOT EXISTS: the bot, the action server and the
    # console each call create_schema at start, maybe at the same moment. The table is locked against writes while
    # an index is built (about a second for 100,000 tickets on PostgreSQL).
    for table in Base.metadata.sorted_tables:
        present = _index_names(engine, table.name)
        for index in sorted(table.indexes, key=lambda index: index.name):
            if index.name not in present:
                ddl = str(CreateIndex(index).compile(dialect=engine.dialect))
                with engine.begin() as connection:
                    connection.execute(text(ddl.replace("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1)))


def _index_names(engine: Engine, table: str) -> set:
    # From the catalogue: SQLAlchemy's reflection leaves out an index on an expression (ix_tickets_queue), with a warning.
    queries = {"postgresql": "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = :t",
               "sqlite": "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = :t"}
    query = queries.get(engine.dialect.name)
    if query is None:
        return {index["name"] for index in inspect(engine).get_indexes(table)}
    with engine.connect() as connection:
        return set(connection.execute(text(query), {"t": table}).scalars())


def _literal(value) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    factory = sessionmaker(bind=engine, future=True, expire_on_commit=False)
    session = factory()
    try:
        yield session
        session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        session.close()
