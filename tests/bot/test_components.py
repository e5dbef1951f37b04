from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components.courtesy import QuestionBeyondCourtesy
from bot.components.normaliser import EMPTY_TEXT, TextNormaliser
from bot.components.safety import SafetyGate


def message(text, metadata=None, intent=None):
    data = {"text": text, "metadata": metadata or {}}
    msg = Message(data=data)
    if intent:
        msg.set("intent", {"name": intent, "confidence": 0.9})
        msg.set("intent_ranking", [{"name": intent, "confidence": 0.9}])
    return msg


def test_training_and_serving_see_the_same_normalised_text():
    normaliser = TextNormaliser()
    example = Message(data={"text": "cb de vœux sur psup ?", "intent": "faq"})
    normaliser.process_training_data(TrainingData([example]))
    [served] = normaliser.process([message("cb de vœux sur psup ?")])
    assert example.get("text") == served.get("text") == "combien de voeux sur parcoursup"


def test_audience_comes_from_metadata_and_defaults_to_student():
    normaliser = TextNormaliser()
    parent, student, bogus = normaliser.process(
        [message("bonjour", {"audience": "parent"}), message("bonjour"), message("bonjour", {"audience": ["x"]})]
    )
    values = [[e["value"] for e in m.get("entities") if e["entity"] == "audience"] for m in (parent, student, bogus)]
    assert values == [["parent"], ["eleve"], ["eleve"]]


def test_button_payloads_are_left_for_rasa_and_empty_text_is_marked():
    normaliser = TextNormaliser()
    payload, emoji = normaliser.process([message('/choose_kb{"kb_id": "a"}'), message("😭😭")])
    assert payload.get("text") == '/choose_kb{"kb_id": "a"}'
    assert emoji.get("text") == EMPTY_TEXT


def test_safety_gate_overrides_the_classifier():
    [urgent] = SafetyGate().process([message("jai plus envie de vivre", intent="faq")])
    assert urgent.get("intent") == {"name": "distress", "confidence": 1.0}
    assert {"entity": "distress_kind", "value": "suicide"}.items() <= urgent.get("entities")[0].items()
    [calm] = SafetyGate().process([message("combien de voeux", intent="faq")])
    assert calm.get("intent")["name"] == "faq"


def courtesy_then(texts, intent):
    """The messages as the pipeline has them when the courtesy component runs: normalised, then classified."""
    normalised = TextNormaliser().process([message(t) for t in texts])
    for m in normalised:
        m.set("intent", {"name": intent, "confidence": 0.8})
        m.set("intent_ranking", [{"name": intent, "confidence": 0.8}])
    return QuestionBeyondCourtesy().process(normalised)


def test_thanks_or_greetings_that_ask_something_go_to_the_answer_policy():
    asking = courtesy_then(["Merci ! Et pour un BTS, c'est pareil ?", "Bonsoir, vous êtes ouverts le soir ?"], "thanks")
    assert [m.get("intent")["name"] for m in asking] == ["faq", "faq"]
    assert asking[0].get("intent_ranking")[0]["name"] == "faq"
    polite = courtesy_then(["ok merci", "merci pour ces informations", "salut ça va ?"], "thanks")
    assert [m.get("intent")["name"] for m in polite] == ["thanks", "thanks", "thanks"]
    [other] = courtesy_then(["Merci ! Et pour un BTS, c'est pareil ?"], "bot_challenge")
    assert other.get("intent")["name"] == "bot_challenge"
