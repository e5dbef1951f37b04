"""The corpus generator of scripts/bench_pipeline.py: sized, loadable, deterministic, perturbed, renamed consistently."""
from __future__ import annotations

import random
import re

import pytest

from knowledge.load import load_corpus
from knowledge.model import ASKER_ROLES
from scripts.bench_pipeline import generate, perturb, sample_conversations, write_corpus


@pytest.fixture(scope="module")
def sample():
    return sample_conversations()


def _sources(sample):
    return {conversation.id: conversation for conversation in sample}


def _source_of(record, sources):
    return sources[record["conversation_id"].rsplit("~", 1)[0]]


def test_about_the_size_asked_and_valid_for_the_loader(sample, tmp_path):
    records = generate(sample, 3000, seed=1)
    total = sum(len(r["messages"]) for r in records)
    longest = max(len(c.messages) for c in sample)
    assert 3000 <= total < 3000 + longest

    conversations, errors = load_corpus([write_corpus(records, tmp_path)])
    assert errors == []
    assert len(conversations) == len(records)
    assert sum(len(c.messages) for c in conversations) == total


def test_deterministic_for_a_seed(sample):
    assert generate(sample, 1000, seed=7) == generate(sample, 1000, seed=7)
    assert generate(sample, 1000, seed=7) != generate(sample, 1000, seed=8)


def test_every_asker_message_is_perturbed_at_rate_one_and_answers_are_kept(sample):
    sources = _sources(sample)
    askers = 0
    for record in generate(sample, 3000, seed=2, rate=1.0):
        source = _source_of(record, sources)
        assert [m["id"] for m in record["messages"]] == [m.id for m in source.messages]
        for generated, original in zip(record["messages"], source.messages):
            if original.role in ASKER_ROLES and original.text.strip():
                askers += 1
                assert generated["text"] != original.text
    assert askers > 300


def test_participants_renamed_consistently(sample):
    sources = _sources(sample)
    for record in generate(sample, 3000, seed=3, rate=0.0):
        source = _source_of(record, sources)
        new_names = set(re.findall(r"\w{3,}", " ".join(p["display_name"] for p in record["participants"])))
        for old in source.participants:  # a renamed participant's old name appears nowhere any more
            for word in set(re.findall(r"\w{3,}", old.display_name)) - new_names:
                assert not any(re.search(rf"\b{re.escape(word)}\b", m["text"]) for m in record["messages"]), word
        for generated, original in zip(record["messages"], source.messages):
            if original.role == "conseiller":  # the counsellor's words are kept: only names may change
                assert len(generated["text"].split()) == len(original.text.split())


def test_perturb_always_changes_the_text():
    rng = random.Random(0)
    for text in ("Bonjour", "ok", "Combien de vœux peut-on faire sur Parcoursup ?", "je suis en 3e", ""):
        assert perturb(text, rng) != text
