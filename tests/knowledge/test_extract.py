from knowledge.extract import extract_pairs
from orientbot.followup import is_elliptic, subject_of, without_lead_in
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


STAGE_DAYS = "Le stage de 3e dure 5 jours : tu observes un métier, tu ne travailles pas, et il n'est pas payé."
CONVENTION = "La convention est signée par le collège, l'entreprise et tes parents avant le début du stage."


def test_an_elliptic_follow_up_takes_the_subject_of_the_previous_question():
    conversation = make_conversation(
        [
            {"from": "u", "text": "stage 3e cb de jours ?"},
            {"from": "c", "text": STAGE_DAYS},
            {"from": "u", "text": "ok et la convention ?"},
            {"from": "c", "text": CONVENTION},
        ]
    )
    first, follow_up = extract_pairs([conversation])
    assert first.question == "stage 3e cb de jours ?" and first.context == ""
    assert follow_up.question == "stage 3e : ok et la convention ?" and follow_up.context == "stage 3e :"
    assert follow_up.asked == "ok et la convention ?" and follow_up.answer == CONVENTION


def test_a_question_that_stands_alone_is_kept_as_asked():
    conversation = make_conversation(
        [
            {"from": "u", "text": "stage 3e cb de jours ?"},
            {"from": "c", "text": STAGE_DAYS},
            {"from": "u", "text": "et la bourse du lycée, on la demande quand ?"},  # names its subject
            {"from": "c", "text": "La demande de bourse de lycée se fait en ligne à la rentrée, avant la mi-octobre."},
        ]
    )
    assert [p.context for p in extract_pairs([conversation])] == ["", ""]
    assert extract_pairs([conversation])[1].question == "et la bourse du lycée, on la demande quand ?"


def test_a_follow_up_only_takes_the_subject_of_the_same_askers_question():
    conversation = make_conversation(
        [
            {"from": "p", "text": "Combien de jours dure le stage de 3e ?"},
            {"from": "c", "text": STAGE_DAYS},
            {"from": "u", "text": "et c'est payé ?"},  # someone else: nothing of theirs to follow up
            {"from": "c", "text": "Non, le stage d'observation de 3e n'est jamais rémunéré, c'est une séquence d'observation."},
        ]
    )
    assert extract_pairs([conversation])[1].question == "et c'est payé ?"


def test_live_questions_are_folded_only_when_reply_to_says_they_follow_up():
    messages = [
        {"from": "u", "text": "stage 3e cb de jours ?"},
        {"from": "p", "text": "et c'est payé ?"},
        {"from": "c", "text": STAGE_DAYS, "reply_to": "1"},
        {"from": "c", "text": "Non, le stage d'observation de 3e n'est jamais rémunéré, c'est une séquence d'observation.", "reply_to": "2"},
    ]
    independent = extract_pairs([make_conversation(messages, kind="live")])
    assert [p.question for p in independent] == ["stage 3e cb de jours ?", "et c'est payé ?"]
    messages[1] = {**messages[1], "reply_to": "3"}  # answers the counsellor's answer to message 1
    follow_up = extract_pairs([make_conversation(messages, kind="live")])
    assert [p.question for p in follow_up] == ["stage 3e cb de jours ?", "stage 3e : et c'est payé ?"]


def test_what_counts_as_elliptic():
    assert is_elliptic("c'est definitif ?") and is_elliptic("Super. Et je serai payé comment à mon âge ?")
    assert is_elliptic("Merci pour la rectification. Et si jamais elle n'avait rien ?")
    assert not is_elliptic("Et si je rate mon bac pro, je peux redoubler ?")  # names its subject
    assert not is_elliptic("combien de jours dure le stage ?")
    assert not is_elliptic("et si " + "vraiment " * 12 + "?")  # too long to be a mere follow-up
    assert subject_of("salut, jpeux commencer un CAP en apprentissage à 15 ans ?") == "CAP apprentissage"
    assert without_lead_in("ok merci. Et la convention ?") == "La convention ?"
