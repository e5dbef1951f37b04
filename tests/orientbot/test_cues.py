import re
from pathlib import Path

import pytest
import yaml

from knowledge.load import load_corpus, transcript_files
from orientbot import cues
from orientbot.normalise import normalise

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def corpus():
    """Every message of the transcripts and every hand-written training example, normalised."""
    conversations, _ = load_corpus(transcript_files(ROOT / "transcripts"))
    texts = [m.text for c in conversations for m in c.messages]
    for path in sorted((ROOT / "bot" / "data" / "nlu").glob("*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            texts += [line[2:] for line in (block.get("examples") or "").splitlines() if line.startswith("- ")]
    return [normalise(t) for t in texts]


ALTERNATIVES = [(name, pattern) for name, patterns in {**cues.CUES, **cues.FOCUS}.items() for pattern in patterns]


@pytest.mark.parametrize("name,pattern", ALTERNATIVES, ids=[f"{n}:{i}" for i, (n, _) in enumerate(ALTERNATIVES)])
def test_every_cue_is_traceable_to_the_transcripts_or_the_training_data(corpus, name, pattern):
    compiled = re.compile(pattern)
    assert any(compiled.search(text) for text in corpus), f"{name}: {pattern} matches no transcript or example"


def test_cues_read_normalised_text():
    assert cues.asks_for_a_human("J'voudrais parler à un conseiller, svp")
    assert cues.sounds_like_a_complaint("C'est pas juste, j'ai été refusé partout")
    assert not cues.sounds_like_a_complaint("c'est quand la phase complémentaire ?")
    assert cues.looks_like_homework("tu peux calculer 7y - 4 = 10 pour mon dm ?")
    assert not cues.looks_like_homework("les vœux 2026-2027 ouvrent quand ?")  # a year range is no equation
    assert not cues.looks_like_homework("comment rédiger mon projet motivé ?")  # orientation, not schoolwork
    assert cues.tells_a_personal_situation("notre fille avait une place en licence et elle l'a perdue ce matin, on fait quoi")
    assert not cues.tells_a_personal_situation("mon fils est en BTS")  # too short to be a story


@pytest.mark.parametrize("text,focus", [
    ("un apprenti est payé combien ?", {"amount"}),
    ("c'est quand les résultats d'Affelnet ?", {"date"}),
    ("jusqu'à quel âge on peut être apprenti ?", {"age"}),
    ("on a droit à combien de vœux ?", {"count"}),
    ("combien de temps dure la PFMP en seconde pro ?", {"duration"}),
    ("comment on fait pour demander une bourse ?", {"procedure"}),
    ("c'est quoi la différence entre BTS et BUT ?", {"definition"}),
    ("parcoursup", set()),
])
def test_the_focus_of_a_question(text, focus):
    assert cues.focus_of(text) == focus
