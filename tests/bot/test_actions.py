from dataclasses import replace
from datetime import date

import pytest
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.faq import ActionAnswer
from bot.actions.handoff import ActionHandoff
from orientbot.kb import InMemoryKnowledgeBase
from orientbot.policy import PatternsOnly
from tests.bot.conftest import RecordingTickets, make_tracker
from tests.conftest import score_risk_model


def run(action, tracker):
    dispatcher = CollectingDispatcher()
    events = action.run(dispatcher, tracker, {})
    return dispatcher.messages, events


def customs(messages, key):
    return [m["custom"][key] for m in messages if isinstance(m.get("custom"), dict) and key in m["custom"]]


def test_confident_question_is_answered_from_the_kb_in_the_right_form(services):
    tracker = make_tracker("cb de voeux sur parcoursup ?")
    messages, events = run(ActionAnswer(services), tracker)
    [answer] = customs(messages, "answer")
    assert answer["kb_id"] == "parcoursup-voeux" and answer["sources"] == ["https://www.parcoursup.gouv.fr"]
    assert messages[0]["text"].startswith("Tu peux")
    assert len(messages) == 1  # the sources go with the answer (the chat window shows them under it), not in a second bubble
    assert events[0]["value"] is False

    parent = make_tracker("Combien de vœux pouvons-nous saisir pour notre fils sur Parcoursup ?", audience="parent")
    messages, _ = run(ActionAnswer(services), parent)
    assert messages[0]["text"].startswith("Votre enfant")


def with_cvec(services, **changes):
    """The tiny KB with its CVEC entry changed (the date the services give: 23 November 2026)."""
    entries = [replace(e, **changes) if e.id == "cvec-montant" else e for e in services.knowledge.entries()]
    services.knowledge = InMemoryKnowledgeBase(tuple(entries))
    return services


def test_an_out_of_date_answer_gives_the_general_rule_and_the_official_link(services):
    dated = ("La CVEC se paie chaque année avant l'inscription administrative. Elle coûtait 103 € en 2024-2025. "
             "Les boursiers en sont exonérés.")
    with_cvec(services, answer_eleve=dated, answer_parent=dated)
    messages, _ = run(ActionAnswer(services), make_tracker("c combien la cvec ?"))
    [answer] = customs(messages, "answer")
    assert answer["out_of_date"] is True
    assert messages[0]["text"] == ("La CVEC se paie chaque année avant l'inscription administrative. "
                                   "Les boursiers en sont exonérés.")
    assert messages[1]["response"] == "utter_answer_dated" and messages[1]["links"] == "https://cvec.etudiant.gouv.fr"


def test_an_answer_still_valid_is_said_whole(services):
    with_cvec(services, valid_until=date(2027, 4, 30))
    messages, _ = run(ActionAnswer(services), make_tracker("c combien la cvec ?"))
    assert "2024-2025" in messages[0]["text"] and customs(messages, "answer")[0]["out_of_date"] is False
    assert len(messages) == 1


def test_an_out_of_date_answer_with_nothing_undated_goes_to_a_counsellor(services):
    # The tiny KB's CVEC answer is one dated sentence, valid until 31 August 2026.
    messages, _ = run(ActionAnswer(services), make_tracker("c combien la cvec ?"))
    assert not customs(messages, "answer")
    assert messages[0]["response"] == "utter_answer_out_of_date"
    assert customs(messages, "handoff")[0]["reason"] == "out_of_date"
    assert services.tickets.tickets[0].candidates[0]["kb_id"] == "cvec-montant"


def test_did_you_mean_buttons_show_the_title_of_the_persons_register(services):
    services.policy.risk = score_risk_model(0.99)  # nothing may be served outright
    with_cvec(services, title="Combien coûte la CVEC ?", title_parent="Quel est le montant de la CVEC ?")
    messages, _ = run(ActionAnswer(services), make_tracker("combien de vœux et la cvec", audience="parent"))
    titles = [b["title"] for b in messages[0]["buttons"]]
    assert "Quel est le montant de la CVEC ?" in titles and "Combien coûte la CVEC ?" not in titles
    messages, _ = run(ActionAnswer(services), make_tracker("combien de vœux et la cvec"))
    assert "Combien coûte la CVEC ?" in [b["title"] for b in messages[0]["buttons"]]


def test_unsure_gives_buttons_then_a_second_unsure_turn_hands_over(services):
    services.policy.risk = score_risk_model(0.99)  # nothing may be served outright
    tracker = make_tracker("combien de vœux et la cvec")
    messages, events = run(ActionAnswer(services), tracker)
    assert messages[0]["response"] == "utter_clarify"
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert '/choose_kb{"kb_id": "parcoursup-voeux"}' in payloads
    assert [b["title"] for b in messages[0]["buttons"]][0] in {"Combien de vœux peut-on faire sur Parcoursup ?",
                                                                "Combien coûte la CVEC ?"}
    assert not customs(messages, "answer") and events[0]["value"] is True

    again = make_tracker("combien de vœux et la cvec", slots={"audience": "eleve", "clarification_pending": True})
    messages, _ = run(ActionAnswer(services), again)
    [handoff] = customs(messages, "handoff")
    assert handoff["reason"] == "not_understood" and handoff["priority"] == "normal"
    assert services.tickets.tickets[0].candidates[0]["kb_id"] in {"parcoursup-voeux", "cvec-montant"}


def test_without_a_risk_model_nothing_is_served_outright(services):
    services.policy.risk = None
    messages, _ = run(ActionAnswer(services), make_tracker("cb de voeux sur parcoursup ?"))
    assert not customs(messages, "answer") and messages[0]["response"] == "utter_clarify"


def test_a_bare_topic_word_gets_choices_not_a_guess(services):
    messages, events = run(ActionAnswer(services), make_tracker("parcoursup"))
    assert messages[0]["response"] == "utter_clarify" and not customs(messages, "answer")
    assert events[0]["value"] is True


def test_a_follow_up_takes_the_subject_of_the_previous_question(services):
    alone = make_tracker("et pour un apprenti ?")
    messages, _ = run(ActionAnswer(services), alone)
    assert not customs(messages, "answer")
    follow_up = make_tracker("et pour un apprenti ?", history=["combien de vœux sur parcoursup ?"])
    messages, _ = run(ActionAnswer(services), follow_up)
    assert customs(messages, "answer")[0]["kb_id"] == "parcoursup-voeux"

    # Thanks in between are not a question, and a follow-up of a follow-up keeps the first subject.
    after_thanks = make_tracker("et pour un apprenti ?", history=["combien de vœux sur parcoursup ?", "ok merci !"])
    messages, _ = run(ActionAnswer(services), after_thanks)
    assert customs(messages, "answer")[0]["kb_id"] == "parcoursup-voeux"
    chained = make_tracker("et en CAP ?", history=["combien de vœux sur parcoursup ?", "et pour un apprenti ?"])
    messages, _ = run(ActionAnswer(services), chained)
    assert customs(messages, "answer")[0]["kb_id"] == "parcoursup-voeux"


def test_a_chosen_button_answers_that_entry_and_an_unknown_one_does_not(services):
    with_cvec(services, valid_until=date(2027, 4, 30))
    chosen = make_tracker('/choose_kb{"kb_id": "cvec-montant"}', intent="choose_kb",
                          entities=[{"entity": "kb_id", "value": "cvec-montant"}])
    messages, _ = run(ActionAnswer(services), chosen)
    assert customs(messages, "answer")[0]["kb_id"] == "cvec-montant"
    bogus = make_tracker("/choose_kb", intent="choose_kb", entities=[{"entity": "kb_id", "value": "<script>"}])
    messages, _ = run(ActionAnswer(services), bogus)
    assert [m["response"] for m in messages] == ["utter_not_understood"]


def test_a_typed_intent_command_cannot_raise_an_alarm(services):
    forged = make_tracker("/distress", intent="distress", confidence=1.0)
    messages, _ = run(ActionHandoff(services), forged)
    assert not customs(messages, "handoff") and services.tickets.tickets == []


def test_out_of_scope_and_nonsense_create_no_ticket(services):
    oos = make_tracker("c'est quoi le meilleur jeu video du moment ?", intent="out_of_scope", confidence=0.8)
    messages, _ = run(ActionAnswer(services), oos)
    assert messages[0]["response"] == "utter_out_of_scope"
    nonsense = make_tracker("qsdfgh")
    messages, _ = run(ActionAnswer(services), nonsense)
    assert not customs(messages, "answer") and not customs(messages, "handoff")
    assert services.tickets.tickets == []


def test_empty_message_gets_a_clear_reply(services):
    messages, _ = run(ActionAnswer(services), make_tracker("   "))
    assert messages[0]["response"] == "utter_empty_message"


def test_distress_is_urgent_with_the_right_numbers_even_when_the_intent_was_missed(services):
    tracker = make_tracker("jai plus la force. jveux en finir", intent="ask_human")
    messages, _ = run(ActionHandoff(services), tracker)
    [handoff] = customs(messages, "handoff")
    assert handoff["priority"] == "urgent" and handoff["reason"] == "distress"
    assert messages[0]["response"] == "utter_urgent_suicide"
    assert services.tickets.tickets[0].priority == "urgent"


def test_ticket_is_written_before_the_reply_and_keeps_the_conversation(services):
    tracker = make_tracker("je veux parler à un conseiller", intent="ask_human", history=["bonjour", "<b>test</b>"])
    messages, _ = run(ActionHandoff(services), tracker)
    [ticket] = services.tickets.tickets
    assert [line["text"] for line in ticket.transcript] == ["bonjour", "<b>test</b>", "je veux parler à un conseiller"]
    assert customs(messages, "handoff")[0]["ticket_id"] == ticket.id
    assert messages[0]["response"] == "utter_handoff_asked_for_human"


def test_database_down_still_answers_and_says_how_else_to_reach_someone(services):
    services.tickets = RecordingTickets(stored=False)
    messages, _ = run(ActionHandoff(services), make_tracker("un conseiller svp", intent="ask_human"))
    assert any(m.get("response") == "utter_handoff_spooled" for m in messages)
    assert customs(messages, "handoff")[0]["queued"] is True

    services.tickets = RecordingTickets(fail=True)
    messages, _ = run(ActionHandoff(services), make_tracker("je veux mourir", intent="distress"))
    assert messages[0]["response"] == "utter_urgent_suicide"
    assert customs(messages, "handoff")[0]["priority"] == "urgent"


def test_personal_case_gets_the_general_rule_and_a_ticket(services):
    class StoriesAreCases(PatternsOnly):
        def is_personal_case(self, text):
            return "refusé" in text

    services.policy.detectors = StoriesAreCases()
    tracker = make_tracker("on m'a refusé partout, c'etait combien de voeux max sur parcoursup deja ?",
                           intent="personal_case")
    messages, _ = run(ActionHandoff(services), tracker)
    assert customs(messages, "answer")[0]["kb_id"] == "parcoursup-voeux"
    assert customs(messages, "handoff")[0]["reason"] == "personal_case"


def test_a_weak_distress_or_personal_case_intent_alone_goes_through_the_policy(services):
    weak = make_tracker("mon tel beugue, jpeux plus me connecter a snap", intent="distress", confidence=0.6)
    messages, _ = run(ActionHandoff(services), weak)
    assert not customs(messages, "handoff") and services.tickets.tickets == []
    with_cvec(services, valid_until=date(2027, 4, 30))
    # Even a sure personal_case intent: on ordinary questions it never learnt from, it fired one time in six.
    weak_personal = make_tracker("c combien la cvec ?", intent="personal_case", confidence=0.99)
    messages, _ = run(ActionHandoff(services), weak_personal)
    assert customs(messages, "answer")[0]["kb_id"] == "cvec-montant" and not customs(messages, "handoff")


def test_the_answer_path_also_catches_distress(services):
    tracker = make_tracker("je veux en finir avec tout ça", intent="faq")
    messages, _ = run(ActionAnswer(services), tracker)
    assert customs(messages, "handoff")[0]["priority"] == "urgent"
    assert not customs(messages, "answer")


def test_a_personal_story_that_matches_nothing_goes_to_a_counsellor(services):
    tracker = make_tracker("mon maître de stage m'oblige à rester jusqu'à 21h et je n'ose pas le dire au lycée")
    services.policy.settings = replace(services.policy.settings, clarify_similarity=0.9)
    messages, _ = run(ActionAnswer(services), tracker)
    assert customs(messages, "handoff")[0]["reason"] == "personal_case"


def test_a_personal_case_about_nothing_in_the_kb_is_not_handed_over(services):
    tracker = make_tracker("on a adopté un chat et il griffe tout le canapé, je sais plus quoi faire",
                           intent="personal_case", confidence=0.95)
    # This tiny KB makes everything look a little close: only the topic words may say "orientation" here.
    services.policy.settings = replace(services.policy.settings, personal_case_min_similarity=0.9)
    messages, _ = run(ActionHandoff(services), tracker)
    assert not customs(messages, "handoff") and services.tickets.tickets == []


def test_the_personal_case_classifier_hands_a_story_over(services):
    class EveryStoryIsPersonal(PatternsOnly):
        def is_personal_case(self, text):
            return True

    services.policy.detectors = EveryStoryIsPersonal()
    tracker = make_tracker("combien de voeux sur parcoursup pour mon fils qui a été refusé ?", audience="parent")
    messages, _ = run(ActionAnswer(services), tracker)
    assert customs(messages, "answer")[0]["kb_id"] == "parcoursup-voeux"
    assert customs(messages, "handoff")[0]["reason"] == "personal_case"


def test_a_complaint_about_ones_own_situation_gets_the_general_rule_and_a_counsellor(services):
    tracker = make_tracker("on m'a dit que j'avais droit à 10 voeux sur parcoursup mais moi j'en ai que 5, c'est normal ?")
    messages, _ = run(ActionAnswer(services), tracker)
    assert customs(messages, "answer")[0]["kb_id"] == "parcoursup-voeux"
    assert messages[0]["response"] == "utter_general_info_first"
    assert customs(messages, "handoff")[0]["reason"] == "personal_case"
    assert services.tickets.tickets[0].candidates[0]["kb_id"] == "parcoursup-voeux"


@pytest.mark.parametrize("intent", ["personal_case", "faq", "nlu_fallback"])
def test_homework_is_declined_kindly_without_a_ticket_whatever_the_intent(services, intent):
    tracker = make_tracker("tu peux calculer 7y - 4 = 10 pour mon dm ? c pour demain", intent=intent, confidence=0.97)
    action = ActionHandoff(services) if intent == "personal_case" else ActionAnswer(services)
    messages, _ = run(action, tracker)
    assert [m.get("response") for m in messages] == ["utter_out_of_scope"]
    assert services.tickets.tickets == []


def test_an_explicit_request_for_a_person_is_handed_over_even_when_nlu_saw_a_question(services):
    tracker = make_tracker("Pourriez-vous nous fixer un rendez-vous avec un conseiller pour notre fils ?",
                           audience="parent")
    messages, _ = run(ActionAnswer(services), tracker)
    assert customs(messages, "handoff")[0]["reason"] == "asked_for_human"
    assert not customs(messages, "answer")
