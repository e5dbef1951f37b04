"""The whole pipeline on the shipped sample transcripts, with the real French NER."""
import json
import re
from pathlib import Path

import pytest

from knowledge.anonymise import spacy_ner
from knowledge.export import stale_files
from knowledge.load import transcript_files
from knowledge.pipeline import build_knowledge, store
from orientbot.db import make_engine, session_scope
from orientbot.kb import load_entries
from orientbot.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
CONTACT_PATTERNS = {
    "email": re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    "ine": re.compile(r"\b(?:\d{10}[A-Za-z]|\d{9}[A-Za-z]{2})\b"),
    "phone": re.compile(r"(?:\+33|0)[1-9](?:[\s.-]?\d{2}){4}"),
}


@pytest.fixture(scope="module")
def built():
    settings = load_settings()
    return build_knowledge(transcript_files(ROOT / "transcripts"), ner=spacy_ner(settings.spacy_model))


def seeded_personal_data():
    """Contact data anywhere in the corpus, and each conversation's participants' names."""
    contacts, names = set(), {}
    for path in sorted((ROOT / "transcripts").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            conversation = json.loads(line)
            for message in conversation["messages"]:
                for pattern in CONTACT_PATTERNS.values():
                    contacts.update(m for m in pattern.findall(message["text"]) if not m.startswith("0 8"))
            names[conversation["conversation_id"]] = {
                token
                for person in conversation["participants"] if person["role"] != "moderateur"
                # The person's name; what follows a comma or a parenthesis is their role ("psy-EN, CIO de Rouen").
                for token in re.split(r"[\s/.]+", re.split(r"[,(]", person["display_name"])[0])
                if len(token) >= 3 and token[0].isupper() and token.isalpha() and not token.isupper() and token != "Mme"
            }
    return contacts, names


def test_corpus_size_and_both_kinds_of_session(built):
    assert len(built.conversations) >= 150 and built.message_count >= 2000
    assert {c.kind for c in built.conversations} == {"live", "one_to_one"}
    assert built.load_errors == []


def test_kb_covers_the_corpus_with_variants_and_provenance(built):
    assert len(built.entries) >= 60
    assert sum(len(e.variants) for e in built.entries) >= 5 * len(built.entries)
    assert all(e.conversation_ids for e in built.entries)
    assert sum(bool(e.sources) for e in built.entries) >= len(built.entries) // 2
    assert len({e.id for e in built.entries}) == len(built.entries)
    assert built.clusters.personal_case_questions and built.clusters.distress_questions


def test_no_personal_data_reaches_the_kb_or_the_generated_files(built):
    contacts, names = seeded_personal_data()
    generated = "\n".join(built.files.values())
    kb_text = "\n".join(
        " ".join([e.title, e.answer_eleve, e.answer_parent] + [v.text for v in e.variants]) for e in built.entries
    )
    assert sorted(c for c in contacts if c in generated or c in kb_text) == []
    # Everything the KB and the generated files hold comes from these pairs.
    name_leaks = sorted(
        (pair.conversation_id, name)
        for pair in built.pairs
        for name in names.get(pair.conversation_id, ())
        if re.search(rf"(?<![\w@.]){re.escape(name)}(?!\w)", pair.question + " " + pair.answer)
    )
    assert name_leaks == [], name_leaks


def test_generated_files_are_up_to_date(built):
    stale = stale_files(built.files, ROOT / "bot" / "data" / "generated")
    assert stale == [], f"run `make kb` and commit: {stale}"
    assert all(content.startswith("# generated") and "do not edit" in content.splitlines()[0] for content in built.files.values())


def test_store_writes_the_kb_through_sqlalchemy(built, tmp_path):
    url = f"sqlite:///{tmp_path / 'kb.db'}"
    assert store(built.entries, url) == len(built.entries)
    assert store(built.entries, url) == len(built.entries)  # a rebuild replaces, never duplicates
    with session_scope(make_engine(url)) as session:
        served = [entry.id for entry in built.entries if entry.status == "active"]
        assert [entry.id for entry in load_entries(session)] == sorted(served)
        held = load_entries(session, status="review")
        assert len(served) + len(held) == len(built.entries) and len(held) < len(built.entries) // 5
        assert all(entry.review_reasons for entry in held)


def test_coverage_picture_is_drawn(built, tmp_path):
    from knowledge.report import draw_coverage

    picture = draw_coverage(built.entries, tmp_path / "coverage.png")
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and picture.stat().st_size > 10_000
