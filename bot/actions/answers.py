"""How an answer from the KB is said: the entry's answer in the person's register, and what holds of it today.

An entry past its ``valid_until`` (its dates belong to an earlier campaign, ``orientbot.validity``) is not
said as it is: the person gets its general rule, the sentences without a date, and a word that dates
change each year with the official link; when nothing worth saying is left, nothing is said
(``emit_answer`` returns False and the caller hands over).  The sources go with the answer (``custom.answer.sources``),
which the chat window shows under it.
"""
from __future__ import annotations

from typing import Optional

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import conversation
from bot.actions.services import Services
from orientbot.kb import KnowledgeEntry
from orientbot.validity import general_rule


def servable_text(entry: KnowledgeEntry, audience: str, services: Services) -> Optional[str]:
    """What may be said of this entry today: its answer, its general rule once out of date, or None."""
    text = entry.answer_for(audience)
    if not entry.is_out_of_date(services.today()):
        return text
    return general_rule(text)


def emit_answer(
    dispatcher: CollectingDispatcher, tracker: Tracker, services: Services, kb_id: str, confidence: float,
    *, lead_in: Optional[str] = None,
) -> bool:
    """Say the entry's answer (after the ``lead_in`` response, if any); False when there is nothing to say."""
    entry = services.knowledge.get(kb_id)
    if entry is None:
        return False
    audience = conversation.audience(tracker)
    text = servable_text(entry, audience, services)
    if text is None:
        return False
    out_of_date = entry.is_out_of_date(services.today())
    if lead_in:
        dispatcher.utter_message(response=lead_in)
    dispatcher.utter_message(
        text=text,
        json_message={
            "answer": {
                "kb_id": entry.id,
                "confidence": round(float(confidence), 4),
                "sources": list(entry.sources),
                "campaign_year": entry.campaign_year,
                "valid_until": entry.valid_until.isoformat() if entry.valid_until else None,
                "out_of_date": out_of_date,
            }
        },
    )
    if out_of_date:
        if entry.sources:
            dispatcher.utter_message(response="utter_answer_dated", links=" ; ".join(entry.sources))
        else:
            dispatcher.utter_message(response="utter_answer_dated_no_link")
    return True


def is_out_of_date_only(services: Services, kb_id: Optional[str]) -> bool:
    """The entry exists but nothing of it holds today: every sentence carried a past campaign's date."""
    entry = services.knowledge.get(kb_id) if kb_id else None
    return entry is not None and entry.is_out_of_date(services.today())
