import pytest

from orientbot.gate import (
    ANSWER, CLARIFY, NOT_UNDERSTOOD, OUT_OF_SCOPE, asks_for_a_human, decide, looks_like_homework, sounds_like_a_complaint,
    tells_a_personal_situation,
)
from orientbot.retrieval import Match
from orientbot.settings import GateSettings

# Fixed numbers, not the calibrated defaults: these tests are about the rules, not about the calibration.
SETTINGS = GateSettings(agreement_similarity=0.25, retrieval_answer_similarity=0.36, margin_weight=2.0,
                        min_margin=0.03, retrieval_min_similarity=0.26, tiebreak_confidence=0.3, tiebreak_lead=0.2)


def run(selector, retrieval, intent="faq", confidence=0.9):
    return decide(
        intent=intent,
        intent_confidence=confidence,
        selector=[Match(k, s) for k, s in selector],
        retrieval=[Match(k, s) for k, s in retrieval],
        settings=SETTINGS,
    )


def test_agreement_of_both_views_answers_even_with_a_low_selector_confidence():
    decision = run([("a", 0.12), ("b", 0.1)], [("a", 0.3), ("b", 0.29)])
    assert decision.kind == ANSWER and decision.kb_id == "a"


def test_a_clearly_closest_known_question_answers_without_agreement():
    decision = run([("b", 0.2)], [("a", 0.45), ("b", 0.2)])
    assert decision.kind == ANSWER and decision.kb_id == "a"


def test_a_moderate_score_far_ahead_answers_but_a_low_one_does_not():
    assert run([("b", 0.2)], [("a", 0.28), ("b", 0.1)]).kb_id == "a"
    assert run([("b", 0.2)], [("a", 0.2), ("b", 0.02)]).kind != ANSWER


def test_a_near_tie_without_agreement_does_not_answer_even_with_a_high_score():
    assert run([("b", 0.2)], [("a", 0.5), ("b", 0.49)]).kind == CLARIFY


def test_a_near_tie_is_settled_only_by_a_selector_that_clearly_prefers_one_of_the_two():
    decision = run([("b", 0.6), ("c", 0.1)], [("a", 0.41), ("b", 0.405), ("c", 0.3)])
    assert decision.kind == ANSWER and decision.kb_id == "b"
    assert run([("b", 0.35), ("a", 0.25)], [("a", 0.41), ("b", 0.405)]).kind == CLARIFY  # lead too small
    assert run([("b", 0.25)], [("a", 0.41), ("b", 0.405)]).kind == CLARIFY  # confidence too low
    assert run([("c", 0.9)], [("a", 0.41), ("b", 0.405), ("c", 0.3)]).kind == CLARIFY  # not one of the tied two
    assert run([("b", 0.9)], [("a", 0.2), ("b", 0.19)]).kind != ANSWER  # both too far from the question


def test_confident_selector_without_lexical_support_does_not_answer():
    # RasaHQ/rasa#9723: nonsense gets a confident FAQ; the retriever finds nothing close.
    decision = run([("a", 0.95), ("b", 0.01)], [("b", 0.05), ("a", 0.02)])
    assert decision.kind != ANSWER


def test_two_close_candidates_give_a_clarification_with_both():
    decision = run([("b", 0.3), ("a", 0.2)], [("a", 0.33), ("b", 0.31)])
    assert decision.kind == CLARIFY
    assert {c.kb_id for c in decision.candidates} == {"a", "b"}
    assert len(decision.candidates) <= SETTINGS.max_candidates


def test_out_of_scope_intent_wins():
    assert run([("a", 0.9)], [("a", 0.9)], intent="out_of_scope", confidence=0.8).kind == OUT_OF_SCOPE


def test_nothing_close_is_not_understood():
    assert run([("a", 0.05)], [("a", 0.05)]).kind == NOT_UNDERSTOOD
    assert run([], []).kind == NOT_UNDERSTOOD


def test_unknown_ids_are_ignored():
    decision = decide(
        intent="faq", intent_confidence=0.9, selector=[Match("gone", 0.99)], retrieval=[Match("gone", 0.99)],
        settings=SETTINGS, known_ids={"a"},
    )
    assert decision.kind == NOT_UNDERSTOOD


def test_a_long_first_person_story_is_a_personal_situation_but_nonsense_is_not():
    assert tells_a_personal_situation("Je ne comprends pas pourquoi mon dossier a changé de statut entre lundi et jeudi")
    assert not tells_a_personal_situation("asdf qsdf zerzer")
    assert not tells_a_personal_situation("combien coûte la CVEC pour un étudiant boursier en licence cette année")


def test_complaints_about_ones_own_situation_are_recognised():
    assert sounds_like_a_complaint("mon tuteur me fait rester tard, c normal ?")
    assert sounds_like_a_complaint("C'est injuste, pourquoi moi ?")
    assert not sounds_like_a_complaint("combien de vœux sur Parcoursup ?")


@pytest.mark.parametrize("text, asks", [
    ("je veux parler à un conseiller", True),
    ("Est-il possible d'être recontacté par un conseiller ?", True),
    ("pas un bot, une vraie personne svp", True),
    ("mon fils a un rdv au CIO demain, que doit-il apporter ?", False),
    ("mon conseiller principal m'a dit de voir la psy", False),
    ("combien de voeux sur parcoursup ?", False),
])
def test_an_explicit_request_for_a_person(text, asks):
    assert asks_for_a_human(text) is asks


@pytest.mark.parametrize("text, homework", [
    ("tu peux me résoudre 3x + 5 = 20 et m'expliquer", True),
    ("fais mes devoirs d'anglais stp", True),
    ("y a beaucoup de devoirs en prépa ?", False),
    ("le calendrier 2026-2027 de Parcoursup", False),
    ("traduis moi cette phrase en espagnol", True),
    ("comment rédiger mon projet de formation motivé ?", False),
    ("peut-on corriger un vœu après le 12 mars ?", False),
    ("comment calculer ma moyenne pour le brevet ?", False),
])
def test_homework_is_recognised(text, homework):
    assert looks_like_homework(text) is homework


@pytest.mark.parametrize("text, complaint", [
    ("j'ai pourtant 15 de moyenne et je suis refusé partout", True),
    ("sur mon dossier y a un truc chelou, je suis passé de 50e à 300e", True),
    ("c'est bizarre, ma note a changé", True),
    ("son dossier affiche une situation incohérente", True),
    ("nous voulons contester cette décision, il a été refusé", True),
    ("mon entreprise m'a lâché avant la rentrée, aidez-moi", True),
    ("elle se retrouve sans solution, que pouvez-vous faire pour elle ?", True),
    ("comment marche la phase complémentaire ?", False),
    ("pourquoi faire un BTS plutôt qu'un BUT ?", False),
])
def test_a_complaint_about_what_happens_to_oneself(text, complaint):
    assert sounds_like_a_complaint(text) is complaint
