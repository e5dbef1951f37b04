"""The one storage layer: SQLAlchemy models and engine/session construction.

Owns the schema of the knowledge base (entries, their question variants and
provenance) and of handoff tickets.  Nothing is created at import time: callers
build an engine from a URL (SQLite by default, PostgreSQL in production) and
pass sessions to the repository functions in ``orientbot.kb`` and
``orientbot.tickets``.
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    create_engine,
    event,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, declarative_base, relationship, sessionmaker

Base = declarative_base()


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


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
    status = Column(String(20), nullable=False, default="active")
    origin = Column(String(20), nullable=False, default="pipeline")
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
    """A conversation handed to a human counsellor."""

    __tablename__ = "tickets"

    id = Column(String(36), primary_key=True)
    sender_id = Column(String(255), nullable=False, index=True)
    priority = Column(String(10), nullable=False)
    reason = Column(String(40), nullable=False)
    status = Column(String(20), nullable=False, default="new")
    audience = Column(String(10), nullable=False, default="eleve")
    question = Column(Text, nullable=False, default="")
    transcript = Column(JSON, nullable=False, default=list)
    candidates = Column(JSON, nullable=False, default=list)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    spooled = Column(Boolean, nullable=False, default=False)


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


def create_schema(engine: Engine) -> None:
    if engine.url.get_backend_name() == "sqlite" and engine.url.database:
        Path(engine.url.database).parent.mkdir(parents=True, exist_ok=True)
    Base.metadata.create_all(engine)


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
