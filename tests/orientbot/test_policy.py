"""The answer policy's decisions that lean on the conversation and on the detectors' second opinion."""
from orientbot.policy import CLARIFY, HAND_OVER, URGENT, AnswerPolicy, Message, PatternsOnly
from orientbot.retrieval import Retriever
from orientbot.settings import GateSettings
from tests.conftest import score_risk_model

# A question close to the tiny KB's Parcoursup entry, told as one's own story (ten words or more, first person).
MY_STORY = "je me suis trompé dans mes vœux parcoursup, mon dossier combien de vœux je peux encore corriger ?"


def decide(tiny_kb, message, detectors=None, min_score=0.99):
    # A risk model that serves nothing below ``min_score``: what is decided here is not an answer.
    policy = AnswerPolicy(GateSettings(), score_risk_model(min_score), detectors or PatternsOnly())
    return policy.decide(message, tiny_kb, Retriever(tiny_kb.entries()))


def test_a_message_that_goes_on_from_a_distress_message_stays_urgent(tiny_kb):
    earlier = "je veux mourir, je supporte plus rien"
    outcome = decide(tiny_kb, Message("il est sorti, je suis toute seule dans ma chambre", previous=earlier))
    assert outcome.action == HAND_OVER and outcome.priority == URGENT and outcome.distress_kind == "suicide"

    alone = decide(tiny_kb, Message("il est sorti, je suis toute seule dans ma chambre"))
    assert alone.priority != URGENT


def test_an_orientation_question_after_a_distress_message_is_read_for_itself(tiny_kb):
    outcome = decide(tiny_kb, Message("cb de voeux sur parcoursup ?", previous="je veux mourir"), min_score=0.3)
    assert outcome.priority != URGENT and outcome.kb_id == "parcoursup-voeux"


class LeansPersonal(PatternsOnly):
    """A classifier that leans to a personal case without being sure of it."""

    def leans_to_a_personal_case(self, text):
        return True


def test_an_unanswered_story_the_classifier_leans_to_goes_to_a_counsellor(tiny_kb):
    outcome = decide(tiny_kb, Message(MY_STORY), LeansPersonal())
    assert outcome.action == HAND_OVER and outcome.reason == "personal_case"
    assert outcome.candidates and outcome.candidates[0].kb_id == "parcoursup-voeux"


def test_an_unanswered_story_the_classifier_does_not_lean_to_gets_choices(tiny_kb):
    assert decide(tiny_kb, Message(MY_STORY)).action == CLARIFY


def test_a_short_question_gets_choices_even_when_the_classifier_leans(tiny_kb):
    # Not a story of one's own (fewer than ten words): the person chooses among the close entries.
    assert decide(tiny_kb, Message("combien de voeux parcoursup ?"), LeansPersonal()).action == CLARIFY
