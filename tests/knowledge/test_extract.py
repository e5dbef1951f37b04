from knowledge.extract import extract_pairs
from tests.knowledge.conftest import make_conversation

ANSWER = "Tu peux formuler jusqu'à 10 vœux sur Parcoursup, plus 10 en apprentissage, et ils ne sont pas classés."
CORRECTED = "Je corrige : c'est bien 10 vœux (et non 12), plus 10 en apprentissage, sans classement entre eux."


def test_live_answers_follow_reply_to_and_skip_rejected_and_unanswered():
    conversation = make_conversation(
        [
            {"from": "m", "text": "Bienvenue !"},
            {"from": "u", "text": "cb de voeux ?", "votes": 12},
            {"from": "u", "text": "t nul", "moderation": "rejected"},
            {"from": "p", "text": "Et pour la bourse, quand faut-il la demander ?"},
            {"from": "c", "text": ANSWER, "reply_to": "2", "validated": True},
            {"from": "c", "text": ANSWER, "reply_to": "3"},
        ],
        kind="live",
    )
    [pair] = extract_pairs([conversation])
    assert pair.question == "cb de voeux ?" and pair.answer == ANSWER
    assert pair.votes == 12 and pair.validated and pair.asker_role == "eleve"


def test_a_corrected_answer_is_replaced_by_its_correction():
    conversation = make_conversation(
        [
            {"from": "u", "text": "on a droit a combien de voeux ?"},
            {"from": "c", "text": "Tu as droit à 12 vœux classés par ordre de préférence sur Parcoursup cette année.", "reply_to": "1"},
            {"from": "c", "text": CORRECTED, "reply_to": "1", "corrects": "2"},
        ],
        kind="live",
    )
    [pair] = extract_pairs([conversation])
    assert pair.answer == CORRECTED and pair.corrected


def test_one_to_one_folds_the_clarification_and_multi_message_turns():
    conversation = make_conversation(
        [
            {"from": "u", "text": "bonjour"},
            {"from": "c", "text": "Bonjour, je t'écoute !"},
            {"from": "u", "text": "jvoudrais savoir un truc sur les voeux"},
            {"from": "u", "text": "on en a cb ?"},
            {"from": "c", "text": "Tu es en terminale ?"},
            {"from": "u", "text": "oui en tle generale"},
            {"from": "c", "text": "Alors voilà :"},
            {"from": "c", "text": ANSWER},
            {"from": "u", "text": "merci !"},
            {"from": "c", "text": "Avec plaisir, bonne soirée !"},
        ]
    )
    [pair] = extract_pairs([conversation])
    assert pair.question == "jvoudrais savoir un truc sur les voeux on en a cb ? oui en tle generale"
    assert pair.answer.endswith(ANSWER)


def test_a_transfer_marks_the_question_as_a_personal_case():
    conversation = make_conversation(
        [
            {"from": "p", "text": "La bourse de notre fils a été refusée alors que nos revenus ont baissé, que faire ?"},
            {"from": "c", "text": "Le Crous peut réviser un dossier en cas de changement durable ; je transmets à une collègue."},
            {"from": "system", "text": "Conversation transférée", "event": "transfer"},
        ]
    )
    [pair] = extract_pairs([conversation])
    assert pair.transferred and pair.asker_role == "parent"
