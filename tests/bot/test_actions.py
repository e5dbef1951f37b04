import pytest
from dataclasses import replace

from rasa_sdk.executor import CollectingDispatcher

from bot.actions.faq import ActionAnswer
from bot.actions.handoff import ActionHandoff
from tests.bot.conftest import RecordingTickets, make_tracker


def run(action, tracker):
    dispatcher = CollectingDispatcher()
    events = action.run(dispatcher, tracker, {})
    return dispatcher.messages, events


def customs(messages, key):
    return [m["custom"][key] for m in messages if isinstance(m.get("custom"), dict) and key in m["custom"]]


def test_confident_question_is_answered_from_the_kb_in_the_right_form(services):
    tracker = make_tracker("cb de voeux sur parcoursup ?", selector=[("parcoursup-voeux", 0.9), ("cvec-montant", 0.05)])
    messages, events = run(ActionAnswer(services), tracker)
    [answer] = customs(messages, "answer")
    assert answer["kb_id"] == "parcoursup-voeux" and answer["sources"] == ["https://www.parcoursup.gouv.fr"]
    assert messages[0]["text"].startswith("Tu peux")
    assert {"response": "utter_sources"}.items() <= messages[-1].items()
    assert events[0]["value"] is False

    parent = make_tracker("Combien de vœux mon fils peut-il faire ?", audience="parent",
                          selector=[("parcoursup-voeux", 0.9)])
    messages, _ = run(ActionAnswer(services), parent)
    assert messages[0]["text"].startswith("Votre enfant")


def test_out_of_date_campaign_answers_carry_a_warning(services):
    messages, _ = run(ActionAnswer(services), make_tracker("c combien la cvec ?", selector=[("cvec-montant", 0.95)]))
    assert any(m.get("response") == "utter_answer_dated" and m.get("year") == "2025" for m in messages)


def test_unsure_gives_buttons_then_a_second_unsure_turn_hands_over(services):
    tracker = make_tracker("vœux ou cvec", selector=[("parcoursup-voeux", 0.4), ("cvec-montant", 0.38)])
    # Both entries are close, neither clears the answer thresholds.
    services.gate = replace(services.gate, agreement_similarity=0.99, retrieval_answer_similarity=0.99)
    messages, events = run(ActionAnswer(services), tracker)
    assert messages[0]["response"] == "utter_clarify"
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert '/choose_kb{"kb_id": "parcoursup-voeux"}' in payloads
    assert not customs(messages, "answer") and events[0]["value"] is True

    again = make_tracker("vœux ou cvec", selector=[("parcoursup-voeux", 0.4), ("cvec-montant", 0.38)],
                         slots={"audience": "eleve", "clarification_pending": True})
    messages, _ = run(ActionAnswer(services), again)
    [handoff] = customs(messages, "handoff")
    assert handoff["reason"] == "not_understood" and handoff["priority"] == "normal"
    assert services.tickets.tickets[0].candidates[0]["kb_id"] in {"parcoursup-voeux", "cvec-montant"}


def test_a_chosen_button_answers_that_entry_and_an_unknown_one_does_not(services):
    chosen = make_tracker('/choose_kb{"kb_id": "cvec-montant"}', intent="choose_kb",
                          entities=[{"entity": "kb_id", "value": "cvec-montant"}])
    messages, _ = run(ActionAnswer(services), chosen)
    assert customs(messages, "answer")[0]["kb_id"] == "cvec-montant"
    bogus = make_tracker("/choose_kb", intent="choose_kb", entities=[{"entity": "kb_id", "value": "<script>"}])
    messages, _ = run(ActionAnswer(services), bogus)
    assert [m["response"] for m in messages] == ["utter_not_understood"]


def test_out_of_scope_and_nonsense_create_no_ticket(services):
    oos = make_tracker("recette de crêpes", intent="out_of_scope", confidence=0.8, selector=[("cvec-montant", 0.9)])
    messages, _ = run(ActionAnswer(services), oos)
    assert messages[0]["response"] == "utter_out_of_scope"
    nonsense = make_tracker("qsdfgh", selector=[("cvec-montant", 0.95)])
    messages, _ = run(ActionAnswer(services), nonsense)
    assert not customs(messages, "answer") and not customs(messages, "handoff")
    assert services.tickets.tickets == []


def test_empty_message_gets_a_clear_reply(services):
    messages, _ = run(ActionAnswer(services), make_tracker("   ", selector=[("cvec-montant", 0.9)]))
    assert messages[0]["response"] == "utter_empty_message"


def test_distress_is_urgent_with_the_right_numbers_even_when_the_intent_was_missed(services):
    tracker = make_tracker("jpp je pense a mourir tous les soirs", intent="ask_human")
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
    tracker = make_tracker("on m'a refusé, combien de voeux j'avais droit sur parcoursup ?", intent="personal_case",
                           selector=[("parcoursup-voeux", 0.9), ("cvec-montant", 0.02)])
    messages, _ = run(ActionHandoff(services), tracker)
    assert customs(messages, "answer")[0]["kb_id"] == "parcoursup-voeux"
    assert customs(messages, "handoff")[0]["reason"] == "personal_case"


def test_a_weak_distress_or_personal_case_intent_alone_goes_through_the_gate(services):
    weak = make_tracker("mon insta bug jarrive pas a me co", intent="distress", confidence=0.6,
                        selector=[("cvec-montant", 0.1)])
    messages, _ = run(ActionHandoff(services), weak)
    assert not customs(messages, "handoff") and services.tickets.tickets == []
    weak_personal = make_tracker("c combien la cvec ?", intent="personal_case", confidence=0.5,
                                 selector=[("cvec-montant", 0.9)])
    messages, _ = run(ActionHandoff(services), weak_personal)
    assert customs(messages, "answer")[0]["kb_id"] == "cvec-montant" and not customs(messages, "handoff")


def test_the_answer_path_also_catches_distress(services):
    tracker = make_tracker("je veux en finir avec tout ça", intent="faq", selector=[("cvec-montant", 0.9)])
    messages, _ = run(ActionAnswer(services), tracker)
    assert customs(messages, "handoff")[0]["priority"] == "urgent"
    assert not customs(messages, "answer")


def test_a_personal_story_that_matches_nothing_goes_to_a_counsellor(services):
    tracker = make_tracker("mon maître de stage m'oblige à rester jusqu'à 21h et je n'ose pas le dire au lycée",
                           selector=[("cvec-montant", 0.05)])
    # Nothing close enough in this tiny KB (where one of two entries is always far ahead of the other).
    services.gate = replace(services.gate, clarify_similarity=0.9, agreement_similarity=0.99,
                            retrieval_answer_similarity=0.99)
    messages, _ = run(ActionAnswer(services), tracker)
    assert customs(messages, "handoff")[0]["reason"] == "personal_case"


def test_a_personal_case_about_nothing_in_the_kb_is_not_handed_over(services):
    tracker = make_tracker("traduis moi cette phrase en espagnol pour mon devoir", intent="personal_case", confidence=0.95)
    services.gate = replace(services.gate, personal_case_min_similarity=0.9)  # this tiny KB makes everything look close
    messages, _ = run(ActionHandoff(services), tracker)
    assert not customs(messages, "handoff") and services.tickets.tickets == []


def test_an_unsure_complaint_about_ones_own_stage_goes_to_a_counsellor(services):
    tracker = make_tracker("pendant mon stage mon patron me fait travailler jusqu'à 22h tous les soirs c normal ?",
                           selector=[("parcoursup-voeux", 0.3), ("cvec-montant", 0.28)])
    # The gate is unsure (nothing clears the answer thresholds) but the message is about orientation.
    services.gate = replace(services.gate, personal_case_min_similarity=0.0, agreement_similarity=0.99,
                            retrieval_answer_similarity=0.99)
    messages, _ = run(ActionAnswer(services), tracker)
    assert customs(messages, "handoff")[0]["reason"] == "personal_case"


def test_a_complaint_about_ones_own_situation_gets_the_general_rule_and_a_counsellor(services):
    tracker = make_tracker("on m'a dit que j'avais droit à 10 voeux sur parcoursup mais moi j'en ai que 5, c'est normal ?",
                           selector=[("parcoursup-voeux", 0.9), ("cvec-montant", 0.05)])
    messages, _ = run(ActionAnswer(services), tracker)
    assert customs(messages, "answer")[0]["kb_id"] == "parcoursup-voeux"  # the gate would have answered alone
    assert messages[0]["response"] == "utter_general_info_first"
    assert customs(messages, "handoff")[0]["reason"] == "personal_case"
    assert services.tickets.tickets[0].candidates[0]["kb_id"] == "parcoursup-voeux"


@pytest.mark.parametrize("intent", ["personal_case", "faq", "nlu_fallback"])
def test_homework_is_declined_kindly_without_a_ticket_whatever_the_intent(services, intent):
    tracker = make_tracker("tu peux me résoudre 3x + 5 = 20 et m'expliquer c pour demain", intent=intent,
                           confidence=0.97, selector=[("cvec-montant", 0.4), ("parcoursup-voeux", 0.3)])
    services.gate = replace(services.gate, personal_case_min_similarity=0.0)
    action = ActionHandoff(services) if intent == "personal_case" else ActionAnswer(services)
    messages, _ = run(action, tracker)
    assert [m.get("response") for m in messages] == ["utter_out_of_scope"]
    assert services.tickets.tickets == []


def test_an_explicit_request_for_a_person_is_handed_over_even_when_nlu_saw_a_question(services):
    tracker = make_tracker("Pourriez-vous organiser un rendez-vous entre mon fils et un conseiller ?", audience="parent",
                           selector=[("parcoursup-voeux", 0.9)])
    messages, _ = run(ActionAnswer(services), tracker)
    assert customs(messages, "handoff")[0]["reason"] == "asked_for_human"
    assert not customs(messages, "answer")
