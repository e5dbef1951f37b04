from knowledge.anonymise import anonymise_text
from knowledge.export import training_example
from orientbot.normalise import normalise
from orientbot.placeholders import PLACEHOLDERS, without_placeholders


def test_every_mark_is_taken_out_and_the_words_around_it_stay():
    for mark in PLACEHOLDERS.values():
        assert without_placeholders(f"mon fils {mark} attend").split() == ["mon", "fils", "attend"]


def test_the_models_read_an_anonymised_story_as_they_read_a_live_one():
    # A live message holds a real name the models never saw; the transcripts hold "[NOM]" instead.
    # Neither may leave a word behind that only one of them has.
    assert normalise("Ma fille [NOM] [NOM] est au [ÉTABLISSEMENT] de [LIEU]") == "ma fille est au de"
    assert "NOM" not in training_example("Mon fils [NOM], INE [INE], joignable au [TÉLÉPHONE].")


def test_the_word_nom_itself_is_kept():
    assert "nom" in normalise("Quel est le nom du formulaire ?").split()


def test_what_the_anonymiser_writes_is_what_is_taken_out():
    anonymised = anonymise_text("Écrivez à lea.martin@example.org ou au 06 12 34 56 78, INE 0123456789A")
    assert "[" in anonymised
    assert normalise(anonymised).split() == ["ecrivez", "a", "ou", "au", "ine"]
