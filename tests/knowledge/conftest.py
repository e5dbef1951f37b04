"""Builders for small conversations, and a fake NER that tags known names."""
from __future__ import annotations

import re

import pytest

from knowledge.load import conversation_from_dict


def make_conversation(messages, *, kind="one_to_one", cid="c1", participants=None):
    participants = participants or [
        {"id": "u", "role": "eleve", "display_name": "Lina Bernard"},
        {"id": "p", "role": "parent", "display_name": "M. Arnaud Petit"},
        {"id": "c", "role": "conseiller", "display_name": "Karine Dubois, psy-EN"},
        {"id": "m", "role": "moderateur", "display_name": "Modération"},
    ]
    raw = {
        "conversation_id": cid, "kind": kind, "started_at": "2024-01-18T17:00:00+01:00",
        "participants": participants, "messages": [],
    }
    for index, message in enumerate(messages, start=1):
        raw["messages"].append({"id": str(index), "at": "2024-01-18T17:00:00+01:00", **message})
    return conversation_from_dict(raw, source="test")


def fake_ner(names):
    pattern = re.compile("|".join(re.escape(n) for n in names))

    def run(texts):
        return [[(m.start(), m.end(), "PER") for m in pattern.finditer(text)] for text in texts]

    return run


@pytest.fixture
def conversation():
    return make_conversation


# Five entries of one question each, for the cross-validation's tests (``test_crossval``, ``test_nlu_replay``).
TOPICS = {
    "voeux": ("combien de voeux sur parcoursup", "Tu peux formuler 10 vœux."),
    "cvec": ("combien coute la cvec", "La CVEC coûte 105 €."),
    "stage": ("combien de semaines de stage en bac pro", "22 semaines de PFMP en bac pro."),
    "bourse": ("comment demander une bourse de lycee", "La demande se fait sur Scolarité services."),
    "internat": ("comment avoir une place a l internat", "Demande-la au lycée, les places sont limitées."),
}
