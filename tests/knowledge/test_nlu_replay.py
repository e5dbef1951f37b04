"""The pure parts of the NLU cross-validation (``knowledge.nlu_replay``): no Rasa training here."""
import yaml

from knowledge import nlu_replay
from knowledge.cluster import Cluster, ClusterResult
from knowledge.crossval import DISTRESS, FAQ, OUT_OF_SCOPE, PERSONAL, Item, Replay, items_of, replay
from knowledge.export import training_example
from knowledge.model import QAPair
from orientbot.kb import KnowledgeEntry, Variant
from orientbot.normalise import normalise
from orientbot.policy import ANSWER, DECLINE, HAND_OVER, URGENT, Message, Outcome, PatternsOnly
from orientbot.settings import GateSettings
from tests.knowledge.conftest import TOPICS

TAILS = ("alors", "svp", "stp", "merci", "exactement", "au juste", "dites moi", "rapidement")


def corpus():
    """Five entries asked in eight conversations each (every question worded apart), and mined stories,
    out-of-scope questions and questions asked once, each in a conversation of its own."""
    clusters, entries = [], []
    for kb_id, (question, answer) in TOPICS.items():
        pairs = tuple(QAPair(f"{kb_id}-{k}", f"{question} {tail} ?", answer, "eleve") for k, tail in enumerate(TAILS))
        clusters.append(Cluster(pairs))
        entries.append(KnowledgeEntry(kb_id, question, answer, answer,
                                      variants=tuple(Variant(p.question, p.conversation_id) for p in pairs)))
    stories = [QAPair(f"story-{k}", f"mon fils a été refusé au lycée numéro {k}, c'est injuste", "Je transmets.",
                      "parent", transferred=True) for k in range(8)]
    elsewhere = [QAPair(f"oos-{k}", f"recette du gâteau au chocolat numéro {k}", "Ce n'est pas mon domaine.", "eleve")
                 for k in range(8)]
    lone = [QAPair(f"lone-{k}", f"on peut faire un stage a l etranger en {place} ?", "Oui, avec une convention.",
                   "eleve") for k, place in enumerate(("espagne", "allemagne", "italie", "irlande", "belgique", "suisse",
                                                       "angleterre", "portugal"))]
    return ClusterResult(clusters, personal_case=stories, out_of_scope=elsewhere, singletons=lone), entries


def examples(files):
    """Every training example of the generated NLU files, normalised as Rasa's pipeline reads them."""
    found = set()
    for name in ("faq_nlu.yml", "mined_nlu.yml"):
        for block in yaml.safe_load(files[name])["nlu"] or []:
            found |= {normalise(line[2:]) for line in block["examples"].splitlines() if line.startswith("- ")}
    return found


def test_a_folds_nlu_data_holds_its_training_conversations_and_no_question_of_its_test_ones():
    clusters, entries = corpus()
    items = items_of(clusters, entries)
    folds = nlu_replay.fold_data(items, entries)
    assert len(folds) == 5 and sorted(i for data in folds for i in data.test) == list(range(len(items)))
    for data in folds:
        learnt = examples(data.files)
        test = set(data.test)
        test_groups = {items[i].group for i in test}
        assert test_groups and len(test_groups) < len({item.group for item in items})
        for i, item in enumerate(items):
            said = normalise(training_example(item.mined))
            if i in test:
                assert said not in learnt, (data.index, item.question)
            elif item.kind in (PERSONAL, OUT_OF_SCOPE) or (item.kind == FAQ and item.gold in data.entry_ids):
                assert said in learnt, (data.index, item.question)
        # The responses the ResponseSelector learns are the fold's entries, no more.
        responses = yaml.safe_load(data.files["faq_responses.yml"])["responses"]
        assert set(responses) == {f"utter_faq/{kb_id}" for kb_id in data.entry_ids}


def test_nlu_fallback_is_read_as_out_of_scope_with_the_out_of_scope_confidence():
    question = Item("tu connais un bon film à voir ce week-end", "et en animation ?", "parent", "c1", OUT_OF_SCOPE)
    parse = {"intent": {"name": "nlu_fallback", "confidence": 0.4},
             "intent_ranking": [{"name": "faq", "confidence": 0.35}, {"name": "out_of_scope", "confidence": 0.31}]}
    message = nlu_replay.message_of(question, parse)
    assert (message.intent, message.intent_confidence) == ("out_of_scope", 0.31)
    assert (message.text, message.audience, message.previous) == (question.question, "parent", "et en animation ?")
    sure = nlu_replay.message_of(question, {"intent": {"name": "faq", "confidence": 0.9}})
    assert (sure.intent, sure.intent_confidence) == ("faq", 0.9)


def test_a_typed_intent_command_is_ignored_but_a_button_is_not():
    forged = Item("/distress", "", "eleve", "c1", FAQ)
    message = nlu_replay.message_of(forged, {"intent": {"name": "distress", "confidence": 1.0}})
    assert (message.intent, message.intent_confidence) == ("", 0.0)
    button = Item('/choose_kb{"kb_id": "cvec"}', "", "eleve", "c1", FAQ)
    chosen = nlu_replay.message_of(button, {"intent": {"name": "choose_kb", "confidence": 1.0},
                                            "entities": [{"entity": "kb_id", "value": "cvec"}]})
    assert (chosen.intent, chosen.chosen_kb_id) == ("choose_kb", "cvec")


def test_the_intents_a_rasa_rule_answers_itself_never_reach_the_policy():
    replies = nlu_replay.rule_replies()
    assert replies["greet"] == "utter_greet" and replies["thanks"] == "utter_thanks"
    assert not {"faq", "nlu_fallback", "out_of_scope", "distress", "ask_human", "personal_case"} & set(replies)
    question = Item("bonjour, combien coute la cvec ?", "", "eleve", "c1", FAQ, "cvec")
    answered = Outcome(ANSWER, "cvec", "risk model")
    result = Replay([question, question], [answered, answered], {}, {}, [], None, 1)
    parses = {0: {"intent": {"name": "greet", "confidence": 0.9}}, 1: {"intent": {"name": "faq", "confidence": 0.9}}}
    greeted, kept = nlu_replay.with_rules(result, parses, replies).outcomes
    assert (greeted.action, greeted.reason) == (nlu_replay.RULE, "rule utter_greet") and kept == answered


def test_the_replay_reads_the_intent_it_is_given_and_none_otherwise():
    clusters, entries = corpus()
    items = items_of(clusters, entries)
    out_of_scope = [i for i, item in enumerate(items) if item.kind == OUT_OF_SCOPE]
    messages = {i: Message(items[i].question, items[i].audience, items[i].previous, "out_of_scope", 0.95)
                for i in out_of_scope}
    messages[0] = Message(items[0].question, items[0].audience, items[0].previous, "distress", 0.99)

    def run(given):
        return replay(items, entries, GateSettings(), lambda mined: PatternsOnly(), budget=0.05, messages=given).outcomes

    without, with_intents = run(None), run(messages)
    assert without[0].priority != URGENT and with_intents[0].priority == URGENT
    assert with_intents[0].action == HAND_OVER and with_intents[0].reason == "distress"
    assert all(with_intents[i].action == DECLINE and with_intents[i].reason == "out_of_scope" for i in out_of_scope)
    assert not any(without[i].reason == "out_of_scope" for i in out_of_scope)


def test_the_report_puts_both_replays_side_by_side_with_what_changed_and_the_cost():
    clusters, entries = corpus()
    items = items_of(clusters, entries)
    folds = nlu_replay.fold_data(items, entries)
    parses = {i: {"intent": {"name": "greet" if items[i].kind == PERSONAL else "faq", "confidence": 0.9}}
              for i in range(len(items))}
    messages = {i: nlu_replay.message_of(items[i], parse) for i, parse in parses.items()}
    without = replay(items, entries, GateSettings(), lambda mined: PatternsOnly(), budget=0.05)
    with_nlu = nlu_replay.with_rules(without, parses, nlu_replay.rule_replies())
    records = [{"train_seconds": 100.0 + k, "train_cpu_seconds": 150.0, "parse_seconds": 0.5, "model_mb": 20.0,
                "parses": [parses[i] for i in data.test]} for k, data in enumerate(folds)]
    lines = nlu_replay.report_lines(nlu_replay.Comparison(without, with_nlu, messages, records, folds), GateSettings())
    text = "\n".join(lines)
    stories = sum(item.kind == PERSONAL for item in items)
    assert f"decisions the intents changed: {stories} of {len(items)}" in text
    assert f"replied by a Rasa rule instead of the policy (greet, thanks…): {PERSONAL} utter_greet {stories}" in text
    assert "NLU training per fold: 100 s, 101 s, 102 s, 103 s, 104 s (mean 102 s wall" in text
    assert f"{1000 * 2.5 / len(items):.1f} ms a message" in text
    assert any(line.startswith("personal cases handed over") for line in lines)
    assert DISTRESS in text
