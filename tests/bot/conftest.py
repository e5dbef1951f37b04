"""A fake tracker and in-memory services for the actions."""
from __future__ import annotations

from datetime import date

import pytest
from rasa_sdk import Tracker

from bot.actions.services import Services
from orientbot.policy import AnswerPolicy
from orientbot.retrieval import Retriever
from orientbot.settings import GateSettings
from orientbot.tickets import TicketReceipt
from tests.conftest import score_risk_model


class RecordingTickets:
    def __init__(self, stored=True, fail=False):
        self.tickets = []
        self.stored = stored
        self.fail = fail

    def open_ticket(self, ticket):
        if self.fail:
            raise OSError("disque plein")
        self.tickets.append(ticket)
        return TicketReceipt(ticket.id, stored=self.stored)


def make_tracker(text, *, intent="faq", confidence=0.9, ranking=None, selector=None, audience="eleve",
                 entities=None, slots=None, history=()):
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "intent_ranking": ranking or [{"name": intent, "confidence": confidence}],
        "entities": entities or [],
        "metadata": {"audience": audience},
        "response_selector": {"faq": {"ranking": [
            {"intent_response_key": f"faq/{kb_id}", "confidence": score} for kb_id, score in (selector or [])
        ]}},
    }
    events = [{"event": "user", "text": t, "timestamp": 1.0} for t in history] + [
        {"event": "user", "text": text, "timestamp": 2.0, "parse_data": latest}
    ]
    return Tracker("sender-1", slots or {"audience": audience, "clarification_pending": False}, latest, events,
                   False, None, {}, "action_listen")


@pytest.fixture
def services(tiny_kb):
    return Services(
        knowledge=tiny_kb, retriever=Retriever(tiny_kb.entries()), tickets=RecordingTickets(),
        policy=AnswerPolicy(GateSettings(), score_risk_model(0.3)), today=lambda: date(2026, 11, 23),
    )
