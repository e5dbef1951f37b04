"""The anonymiser measured on a seeded corpus: nothing seeded reaches what the pipeline writes."""
import pytest

from knowledge.anonymise import Anonymiser, spacy_ner
from knowledge.pipeline import build_knowledge
from knowledge.seeded import Seed, leaks, pipeline_outputs, recall_lines, seeded_conversations
from orientbot.settings import load_settings


@pytest.fixture(scope="module")
def seeded():
    return seeded_conversations(count=90, seed=7)


def test_the_seeded_corpus_covers_every_kind_in_several_shapes(seeded):
    conversations, seeds = seeded
    kinds = {seed.kind for seed in seeds}
    assert kinds >= {"name", "school", "email", "phone", "ine", "file_number", "address", "birth_date", "handle"}
    phones = {seed.value for seed in seeds if seed.kind == "phone"}
    assert any(" " in p for p in phones) and any("." in p for p in phones) and any(p.startswith(("+33", "0033")) for p in phones)
    assert any(seed.value.startswith("0") for seed in seeds if seed.kind == "ine")


def test_what_has_a_shape_is_removed_without_the_ner(seeded):
    conversations, seeds = seeded
    cleaned, _ = Anonymiser().anonymise(conversations)
    shaped = [seed for seed in seeds if seed.kind != "name"]
    assert leaks(shaped, [m.text for c in cleaned for m in c.messages]) == {}


def test_nothing_seeded_reaches_the_kb_or_the_generated_training_data(seeded):
    conversations, seeds = seeded
    result = build_knowledge([], ner=spacy_ner(load_settings().spacy_model), extra=conversations)
    outputs = pipeline_outputs(result)
    assert sum(len(text) for text in outputs) > 1000  # the seeded questions did go through to the outputs
    found = leaks(seeds, outputs)
    assert found == {}, recall_lines(seeds, found)


def test_a_leak_is_found_and_counted():
    seeds = [Seed("phone", "06 11 22 33 44"), Seed("name", "Maëlle Guérin"), Seed("address", "3 rue des Lilas, 75011 Paris")]
    found = leaks(seeds, ["appelle le 06 11 22 33 44", "MAELLE a écrit", "au 8 rue des lilas"])
    assert found == {"phone": ["06 11 22 33 44"], "name": ["Maëlle Guérin"], "address": ["3 rue des Lilas, 75011 Paris"]}
    assert recall_lines(seeds, found)[1].split()[-1] == "0.000"
