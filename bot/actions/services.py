"""What the actions depend on, built once per action-server process on first use.

Actions receive a ``Services`` object; tests pass one made of in-memory fakes.
Nothing is connected at import time.
"""
from __future__ import annotations

import logging
import threading
import time
from abc import ABCMeta, abstractmethod
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Callable, List, Optional, Sequence, Tuple

from rasa_sdk import Action
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from orientbot import workflow
from orientbot.db import KBEntry, KBVariant, session_scope
from orientbot.detectors import load_detectors
from orientbot.kb import InMemoryKnowledgeBase, KnowledgeBase, KnowledgeEntry, load_entries
from orientbot.office_hours import OfficeHours
from orientbot.pickup import PickupDesk
from orientbot.policy import AnswerPolicy, Detectors, PatternsOnly, Retrieval
from orientbot.retrieval import Retriever, Scored
from orientbot.risk import RiskModel
from orientbot.settings import GateSettings, RetrievalSettings, Settings, load_settings
from orientbot.tickets import TicketSink, TicketStore

logger = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Services:
    knowledge: KnowledgeBase
    retriever: Retrieval
    tickets: TicketSink
    policy: AnswerPolicy
    today: Callable[[], date] = date.today
    now: Callable[[], datetime] = utc_now
    office_hours: Callable[[], OfficeHours] = OfficeHours
    # How many tickets of a school (keyword ``school``; None: of no school) wait before a new one of that school.
    waiting_tickets: Callable[..., int] = lambda school=None: 0
    # Retrieval codes and the on-call alert of a deferred handoff (orientbot.pickup); None: neither.
    pickup: Optional[PickupDesk] = None


class LiveKnowledge:
    """The active KB entries and their retriever, reloaded when the database changes.

    Entries approved in the console reach the answers within ``every_seconds``
    without a restart; the check is two aggregate queries, at most once per period.
    """

    def __init__(self, engine: Engine, every_seconds: float, weights: RetrievalSettings = RetrievalSettings()) -> None:
        self._engine = engine
        self._weights = weights
        self._every = every_seconds
        self._lock = threading.Lock()
        self._checked_at = 0.0
        self._revision: Optional[Tuple] = None
        self._kb = InMemoryKnowledgeBase(())
        self._retriever = Retriever(())

    def _current_revision(self) -> Tuple:
        with session_scope(self._engine) as session:
            entries = session.execute(
                select(func.count(KBEntry.id), func.max(KBEntry.updated_at)).where(KBEntry.status == "active")
            ).one()
            variants = session.execute(select(func.count(KBVariant.id), func.max(KBVariant.id))).one()
        return tuple(entries) + tuple(variants)

    def current(self) -> Tuple[InMemoryKnowledgeBase, Retriever]:
        with self._lock:
            if self._revision is None or time.monotonic() - self._checked_at >= self._every:
                self._checked_at = time.monotonic()
                try:
                    revision = self._current_revision()
                    if revision != self._revision:
                        with session_scope(self._engine) as session:
                            entries: List[KnowledgeEntry] = load_entries(session)
                        self._kb, self._retriever = InMemoryKnowledgeBase(entries), Retriever(entries, self._weights)
                        self._revision = revision
                        logger.info("knowledge base loaded: %d entries", len(entries))
                except Exception:  # keep answering from what was loaded
                    logger.exception("could not check the knowledge base for changes")
            return self._kb, self._retriever

    def get(self, kb_id: str) -> Optional[KnowledgeEntry]:
        return self.current()[0].get(kb_id)

    def entries(self) -> Sequence[KnowledgeEntry]:
        return self.current()[0].entries()

    def rank(self, question: str, *, limit: int = 5) -> List[Scored]:
        return self.current()[1].rank(question, limit=limit)

    def content_words(self, folded: str) -> dict:
        return self.current()[1].content_words(folded)

    def knows(self, word: str) -> bool:
        return self.current()[1].knows(word)


def _read_with_default(engine: Engine, query: Callable, default: Callable) -> Callable:
    def read(**arguments):
        try:
            with session_scope(engine) as session:
                return query(session, **arguments)
        except Exception:  # the handoff must go on: defaults rather than no reply
            logger.exception("could not read %s; using the default", query.__name__)
            return default()

    return read


def _risk_model(settings: GateSettings) -> Optional[RiskModel]:
    try:
        return RiskModel.load(settings.risk_model)
    except (OSError, ValueError, TypeError):
        # Without it nothing is answered outright: candidates become "did you mean…?" buttons.
        logger.exception("no answer risk model at %s (make kb fits it): the bot will not answer outright",
                         settings.risk_model)
        return None


def _detectors(settings: Settings) -> Detectors:
    try:
        return load_detectors(settings=settings.detectors)
    except (OSError, ValueError):
        # Distress is still caught by its patterns; personal cases by the cues and NLU.
        logger.exception("the detectors could not be fitted (make kb): distress patterns only")
        return PatternsOnly()


def _pickup_desk(settings: Settings) -> Optional[PickupDesk]:
    from bot.channels.guard import load_or_create_key  # the chat window's key: its page checks the codes

    try:
        key = load_or_create_key(settings.privacy.token_key, settings.privacy.token_key_file)
    except (OSError, ValueError):  # the handoff goes on without a code rather than without a reply
        logger.exception("no chat token key: deferred handoffs get no retrieval code")
        return None
    return PickupDesk(key, settings=settings.pickup, on_call=bool(settings.mail.on_call_address))


# How often the action server retries importing its ticket spool between handoffs (``TicketStore.import_regularly``).
SPOOL_IMPORT_SECONDS = 30.0

_lock = threading.Lock()
_default: Optional[Services] = None


def default_services() -> Services:
    global _default
    with _lock:
        if _default is None:
            from orientbot.db import create_schema, make_engine

            settings = load_settings()
            engine = make_engine(settings.database_url)
            create_schema(engine)
            knowledge = LiveKnowledge(engine, settings.console.kb_refresh_seconds, settings.retrieval)
            tickets = TicketStore(engine, settings.ticket_spool)
            tickets.import_regularly(SPOOL_IMPORT_SECONDS)
            _default = Services(
                knowledge=knowledge,
                retriever=knowledge,
                tickets=tickets,
                policy=AnswerPolicy(settings.gate, _risk_model(settings.gate), _detectors(settings)),
                office_hours=_read_with_default(engine, workflow.office_hours, OfficeHours),
                waiting_tickets=_read_with_default(engine, workflow.waiting_count, int),
                pickup=_pickup_desk(settings),
            )
        return _default


class ServiceAction(Action, metaclass=ABCMeta):
    """An action whose dependencies are injected (tests) or built on first use (server).

    Abstract, so that rasa_sdk does not register it as an action of its own.
    """

    @abstractmethod
    def name(self) -> str: ...

    def __init__(self, services: Optional[Services] = None) -> None:
        self._services = services

    @property
    def services(self) -> Services:
        return self._services or default_services()
