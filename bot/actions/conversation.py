"""Reading what the actions need from a Rasa tracker."""
from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Tracker

from orientbot.followup import context_of
from orientbot.policy import Message
from orientbot.retrieval import Match

# Intents a typed "/intent" command may not force (Rasa reads such text as that intent at confidence 1):
# only the chat window's own buttons are commands.
BUTTON_INTENTS = ("choose_kb", "none_of_these")

MAX_TRANSCRIPT_EVENTS = 60
# A follow-up leans on the last few questions at most: older messages cannot change its subject in practice.
EARLIER_MESSAGES_READ = 6


def audience(tracker: Tracker) -> str:
    metadata = tracker.latest_message.get("metadata") or {}
    if isinstance(metadata, dict) and metadata.get("audience") in ("eleve", "parent"):
        return metadata["audience"]
    return "parent" if tracker.get_slot("audience") == "parent" else "eleve"


def latest_text(tracker: Tracker) -> str:
    text = tracker.latest_message.get("text")
    return text if isinstance(text, str) else ""


def original_text(tracker: Tracker) -> str:
    """The message as the person typed it (the parse data holds the normalised text)."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return event.get("text") or ""
    return latest_text(tracker)


def ranked_confidence(parse: Dict[str, Any], name: str) -> float:
    """The confidence Rasa's parse gives an intent in its ranking (0 when not ranked)."""
    for item in parse.get("intent_ranking") or []:
        if item.get("name") == name:
            return float(item.get("confidence") or 0.0)
    return 0.0


def previous_question(tracker: Tracker) -> str:
    """The person's previous question, read as the pipeline reads a mined one (``followup.context_of``):
    small talk and the window's buttons skipped, a follow-up given the subject of the question before it."""
    earlier: List[str] = []
    seen_latest = False
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        if not seen_latest:
            seen_latest = True
            continue
        text = event.get("text") or ""
        if not text.startswith("/"):
            earlier.append(text)
        if len(earlier) == EARLIER_MESSAGES_READ:
            break
    return context_of(earlier[::-1])


def message(tracker: Tracker) -> Message:
    """What the answer policy reads of the latest message."""
    return message_of_parse(
        original_text(tracker),
        tracker.latest_message,
        audience=audience(tracker),
        previous=previous_question(tracker),
        clarification_pending=bool(tracker.get_slot("clarification_pending")),
    )


def message_of_parse(text: str, parse: Dict[str, Any], *, audience: str = "eleve", previous: str = "",
                     clarification_pending: bool = False) -> Message:
    """What the answer policy reads of a message, from Rasa's parse of it (``tracker.latest_message``).

    ``text`` is the message as typed (the parse holds the normalised text).  The served actions and the
    cross-validation of the NLU (``knowledge.nlu_replay``) both read a parse through this function.
    """
    found = parse.get("intent") or {}
    name, confidence = found.get("name") or "", float(found.get("confidence") or 0.0)
    if name == "nlu_fallback":
        name, confidence = "out_of_scope", ranked_confidence(parse, "out_of_scope")
    if text.startswith("/") and name not in BUTTON_INTENTS:
        name, confidence = "", 0.0
    return Message(
        text=text,
        audience=audience,
        previous=previous,
        intent=name,
        intent_confidence=confidence,
        clarification_pending=clarification_pending,
        chosen_kb_id=parse_entity(parse, "kb_id") if name == "choose_kb" else "",
    )


def selector_ranking(tracker: Tracker) -> List[Match]:
    """The ResponseSelector's candidates for the ``faq`` retrieval intent, best first."""
    selector = (tracker.latest_message.get("response_selector") or {}).get("faq") or {}
    matches = []
    for item in selector.get("ranking") or []:
        key = item.get("intent_response_key") or ""
        if key.startswith("faq/"):
            matches.append(Match(key[len("faq/"):], float(item.get("confidence") or 0.0)))
    return matches


def parse_entity(parse: Dict[str, Any], name: str) -> str:
    """The value of an entity in Rasa's parse ("" when absent or not a string)."""
    for entity in parse.get("entities") or []:
        if entity.get("entity") == name and isinstance(entity.get("value"), str):
            return entity["value"]
    return ""


def transcript(tracker: Tracker) -> List[Dict[str, str]]:
    """The conversation so far, as the counsellor will read it."""
    lines = []
    for event in tracker.events[-MAX_TRANSCRIPT_EVENTS:]:
        if event.get("event") == "user":
            lines.append({"from": "user", "text": event.get("text") or "", "at": str(event.get("timestamp"))})
        elif event.get("event") == "bot" and event.get("text"):
            lines.append({"from": "bot", "text": event["text"], "at": str(event.get("timestamp"))})
    return lines
