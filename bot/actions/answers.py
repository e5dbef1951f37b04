"""What both actions need: the gate's decision for the latest message, and how an answer is said."""
from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import conversation
from bot.actions.services import Services
from orientbot.gate import Decision, decide
from orientbot.topics import topic_of


def gate_decision(tracker: Tracker, services: Services) -> Decision:
    intent = conversation.intent(tracker)
    name = intent.get("name") or ""
    confidence = float(intent.get("confidence") or 0.0)
    if name == "nlu_fallback":
        name, confidence = "out_of_scope", conversation.intent_confidence(tracker, "out_of_scope")
    known = {entry.id for entry in services.knowledge.entries()}
    return decide(
        intent=name,
        intent_confidence=confidence,
        selector=conversation.selector_ranking(tracker),
        retrieval=services.retriever.search(conversation.original_text(tracker)),
        settings=services.gate,
        known_ids=known,
    )


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


def about_orientation(decision: Decision, services: Services, text: str) -> bool:
    """Whether the message is about orientation at all: something in the KB is even remotely close, or it names a topic."""
    best = max((c.retrieval_score for c in decision.candidates), default=0.0)
    return best >= services.gate.personal_case_min_similarity or topic_of(text) is not None
