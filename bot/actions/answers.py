"""How an answer from the KB is said: the entry's answer in the person's register, its date, its sources."""
from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import conversation
from bot.actions.services import Services


def emit_answer(
    dispatcher: CollectingDispatcher, tracker: Tracker, services: Services, kb_id: str, confidence: float
) -> bool:
    entry = services.knowledge.get(kb_id)
    if entry is None:
        return False
    audience = conversation.audience(tracker)
    dispatcher.utter_message(
        text=entry.answer_for(audience),
        json_message={
            "answer": {
                "kb_id": entry.id,
                "confidence": round(float(confidence), 4),
                "sources": list(entry.sources),
                "campaign_year": entry.campaign_year,
                "valid_until": entry.valid_until.isoformat() if entry.valid_until else None,
            }
        },
    )
    if entry.campaign_year and entry.is_out_of_date(services.today()):
        dispatcher.utter_message(response="utter_answer_dated", year=str(entry.campaign_year))
    if entry.sources:
        dispatcher.utter_message(response="utter_sources", links=" ; ".join(entry.sources))
    return True
