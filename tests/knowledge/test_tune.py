from dataclasses import replace

from knowledge import tune
from knowledge.crossval import FAQ, items_of, make_folds
from orientbot.policy import PatternsOnly
from orientbot.settings import RetrievalSettings
from tests.knowledge.test_crossval import corpus


def test_measure_ranks_every_answerable_question_of_every_draw():
    clusters, entries = corpus()
    items = items_of(clusters, entries)
    expected = sum(1 for draw in range(2)
                   for fold in make_folds(items, entries, lambda _: PatternsOnly(), draw=draw)
                   for i in fold.test if items[i].kind == FAQ and items[i].gold in fold.entries)
    ranked = tune.measure(items, entries, RetrievalSettings(), draws=2)
    assert ranked.questions == expected > 0
    # The toy questions are their entries' own wording: each gets its entry first.
    assert ranked.top1 == ranked.top3 == 1.0


def _fake_measure(best):
    """A score that peaks at ``best`` (one weight at a time), as a retriever's top-1 would."""
    def measure(items, entries, weights, draws):
        distance = sum(abs(getattr(weights, name) - value) for name, value in best.items())
        return tune.Ranked(weights, 1000, round(1000 * (0.9 - distance / 10)), 950)
    return measure


def test_search_moves_each_weight_to_its_best_value_and_reports_what_it_tried():
    seen = []
    best = tune.search([], [], RetrievalSettings(answer_weight=0.8, centroid_weight=0.8),
                       grid={"answer_weight": (0.3, 0.5, 1.0), "centroid_weight": (0.6, 1.0)},
                       measure=_fake_measure({"answer_weight": 0.3, "centroid_weight": 0.6}),
                       report=lambda ranked, note: seen.append(note))
    assert (best.weights.answer_weight, best.weights.centroid_weight) == (0.3, 0.6)
    assert seen[0] == "start" and "kept answer_weight" in seen and "kept centroid_weight" in seen


def test_a_gain_within_the_noise_does_not_move_the_settings():
    start = RetrievalSettings()
    near = replace(start, answer_weight=start.answer_weight + 0.01)
    best = tune.search([], [], start, grid={"answer_weight": (near.answer_weight,)}, min_gain=0.01,
                       measure=_fake_measure({"answer_weight": near.answer_weight}))
    assert best.weights == start
