"""What the actions depend on, built once per action-server process on first use.

Actions receive a ``Services`` object; tests pass one made of in-memory fakes.
Nothing is connected at import time.
"""
from __future__ import annotations

import threading
from abc import ABCMeta, abstractmethod
from dataclasses import dataclass
from datetime import date
from typing import Callable, Optional

from rasa_sdk import Action

from orientbot.kb import KnowledgeBase, SqlKnowledgeBase
from orientbot.retrieval import Retriever
from orientbot.settings import GateSettings, load_settings
from orientbot.tickets import TicketSink, TicketStore


@dataclass
class Services:
    knowledge: KnowledgeBase
    retriever: Retriever
    tickets: TicketSink
    gate: GateSettings
    today: Callable[[], date] = date.today


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
            knowledge = SqlKnowledgeBase(engine)
            _default = Services(
                knowledge=knowledge,
                retriever=Retriever(knowledge.entries()),
                tickets=TicketStore(engine, settings.ticket_spool),
                gate=settings.gate,
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
