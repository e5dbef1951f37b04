from knowledge.cluster import Cluster, ClusterResult
from knowledge.crossval import FAQ, UNKNOWN, Item, items_of, judge, make_folds, replay, report_lines
from knowledge.model import QAPair
from orientbot.kb import KnowledgeEntry, Variant
from orientbot.policy import ANSWER, HAND_OVER, Outcome, PatternsOnly
from orientbot.settings import GateSettings
from tests.knowledge.conftest import TOPICS


def corpus():
    clusters, entries = [], []
    for n, (kb_id, (question, answer)) in enumerate(TOPICS.items()):
        pairs = tuple(QAPair(f"{kb_id}-{k}", f"{question} {tail}", answer, "eleve")
                      for k, tail in enumerate(("?", "svp ?", "stp", "merci", "exactement ?", "au juste ?")))
        clusters.append(Cluster(pairs))
        entries.append(KnowledgeEntry(kb_id, question, answer, answer,
                                      variants=tuple(Variant(p.question, p.conversation_id) for p in pairs)))
    lone = QAPair("lone-1", "on peut faire un stage a l etranger ?", "Oui, avec une convention.", "eleve")
    story = QAPair("story-1", "mon fils a été refusé partout, c'est injuste", "Je transmets.", "parent",
                   transferred=True)
    return ClusterResult(clusters, personal_case=[story], singletons=[lone]), entries


def test_every_mined_question_becomes_an_item_with_its_entry():
    clusters, entries = corpus()
    items = items_of(clusters, entries)
    assert sum(i.kind == FAQ for i in items) == 30 and all(i.gold for i in items if i.kind == FAQ)
    assert [i.kind for i in items if i.gold is None][:1] == [UNKNOWN]


def test_a_fold_never_trains_on_its_test_conversations_and_holds_whole_entries_out():
    clusters, entries = corpus()
    items = items_of(clusters, entries)
    folds = make_folds(items, entries, lambda mined: PatternsOnly())
    held_out_somewhere = set()
    for fold in folds:
        test_groups = {items[i].group for i in fold.test}
        for entry in fold.entries.values():
            assert not {v.conversation_id for v in entry.variants} & test_groups
            assert entry.title in {v.text for v in entry.variants}
        held_out_somewhere |= set(TOPICS) - set(fold.entries)
    assert held_out_somewhere == set(TOPICS)  # each entry is held out whole in one fold


def test_the_replay_judges_every_question_and_reports_the_rates():
    clusters, entries = corpus()
    items = items_of(clusters, entries)
    fitted = []
    result = replay(items, entries, GateSettings(), lambda mined: fitted.append(mined) or PatternsOnly(), budget=0.05)
    assert len(result.outcomes) == len(items) and all(o is not None for o in result.outcomes)
    assert 0.0 <= result.served.threshold <= 1.0 and len(result.thresholds) == 5
    # Each fold's detectors learn from its training conversations only: the story is in one fold's test.
    stories = [mined["mined:personal_case"] for mined in fitted]
    assert sorted(map(len, stories)) == [0, 1, 1, 1, 1]
    text = "\n".join(report_lines(result, 0.05))
    assert "wrong answers over all questions" in text and "by topic:" in text


def test_an_answer_to_the_wrong_entry_is_wrong_and_a_personal_case_handed_over_is_not():
    question = Item("combien de voeux ?", "", "eleve", "c1", FAQ, "voeux")
    assert judge(question, Outcome(ANSWER, "voeux")) == (True, False, False, False)
    assert judge(question, Outcome(ANSWER, "cvec"))[1]
    story = Item("mon fils a été refusé", "", "parent", "p1", "personal_case")
    assert judge(story, Outcome(HAND_OVER, "voeux", "personal_case", general_rule_first=True)) == (True, False, True, False)
    assert judge(story, Outcome(ANSWER, "voeux"))[1]


def test_the_entries_held_out_depend_on_the_draw_and_on_their_ids_not_their_order():
    clusters, entries = corpus()
    items = items_of(clusters, entries)

    def held_out(listed, draw):
        return [sorted(set(TOPICS) - set(f.entries)) for f in make_folds(items, listed, lambda m: PatternsOnly(),
                                                                          draw=draw)]

    assert held_out(entries, 0) == held_out(list(reversed(entries)), 0)
    assert held_out(entries, 0) != held_out(entries, 1)


def test_the_served_model_pools_the_draws():
    from knowledge.crossval import draws_lines, headline, served_model

    clusters, entries = corpus()
    items = items_of(clusters, entries)
    runs = [replay(items, entries, GateSettings(), lambda mined: PatternsOnly(), budget=0.05, draw=draw)
            for draw in (0, 1)]
    pooled = served_model(runs, budget=0.05)
    assert pooled.measured["draws"] == 2 and runs[0].served.measured["draws"] == 1
    assert 0.0 <= pooled.threshold <= 1.0
    lines = draws_lines([headline(run) for run in runs])
    assert lines[0].startswith("over 2 draws") and any("answered right" in line for line in lines)
