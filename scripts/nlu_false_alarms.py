"""How often the trained Rasa model's intents would hand over ordinary questions it never learnt from.

The answer policy (``orientbot.policy``) reads a personal case from its cross-validated classifier, not from
Rasa's ``personal_case`` intent, because of what this prints: the questions asked only once in the
transcripts are left out of every training set (no entry holds them), so they are the only ordinary
questions a trained Rasa model has not seen.  Prints, for each intent that could hand over, how often it
fires on them (at the confidence the policy would need) beside the classifier's rate.

    PYTHONPATH=. .venv/bin/python scripts/nlu_false_alarms.py      # ~2 min: a KB build in memory, the model
"""
from __future__ import annotations

import asyncio
import logging
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from knowledge.anonymise import spacy_ner  # noqa: E402
from knowledge.crossval import UNKNOWN, items_of  # noqa: E402
from knowledge.load import transcript_files  # noqa: E402
from knowledge.pipeline import build_knowledge  # noqa: E402
from orientbot.detectors import load_detectors  # noqa: E402
from orientbot.settings import PROJECT_ROOT, load_settings  # noqa: E402

# The intents whose confidence alone could make the policy hand over, at the level it asks for (0.8 was
# asked of personal_case before this measurement).
WATCHED = {"personal_case": 0.8, "distress": load_settings().gate.distress_intent_confidence}


async def measure(model: Path) -> None:
    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)  # not a debug line per parsed question
    settings = load_settings()
    result = build_knowledge(transcript_files(settings.transcripts_dir), ner=spacy_ner(settings.spacy_model))
    ordinary = [item for item in items_of(result.clusters, result.entries) if item.kind == UNKNOWN]
    agent, detectors = Agent.load(str(model)), load_detectors()
    fired, by_audience = Counter(), Counter(item.audience for item in ordinary)
    for item in ordinary:
        intent = (await agent.parse_message(item.question))["intent"]
        for name, confidence in WATCHED.items():
            if intent["name"] == name and intent["confidence"] >= confidence:
                fired[name] += 1
                fired[(name, item.audience)] += 1
        fired["classifier"] += detectors.is_personal_case(item.question)
    print(f"{len(ordinary)} questions asked once ({by_audience['eleve']} students', {by_audience['parent']} parents')")
    for name, confidence in WATCHED.items():
        print(f"  Rasa intent {name} >= {confidence}: {fired[name]} "
              f"(students {fired[(name, 'eleve')]}, parents {fired[(name, 'parent')]})")
    print(f"  personal-case classifier (cross-validated threshold): {fired['classifier']}")


if __name__ == "__main__":
    asyncio.run(measure(PROJECT_ROOT / "models" / "orientation.tar.gz"))
