from orientbot.risk import FEATURES, RiskModel, curve, fit, operating_point


def test_the_operating_point_keeps_wrong_answers_within_the_budget_of_all_questions():
    probabilities = [0.99, 0.95, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2]
    right = [True, True, False, True, True, False, False, True, None, False]
    # 10 questions, a budget of 10 %: one wrong answer allowed, so stop before the second (p = 0.6).
    assert operating_point(probabilities, right, budget=0.1) == 0.7
    assert operating_point(probabilities, right, budget=0.0) == 0.95
    assert operating_point([0.9], [False], budget=0.0) == 1.0  # nothing can be answered


def test_the_curve_counts_every_question_in_both_coverage_and_risk():
    points = curve([0.9, 0.8, 0.1], [True, False, None])
    assert points == [(0.9, 1 / 3, 0.0), (0.8, 2 / 3, 1 / 3)]


def test_a_fitted_model_ranks_clear_answers_above_doubtful_ones_and_survives_a_round_trip(tmp_path):
    rows, right = [], []
    for i in range(200):
        score = i / 200
        rows.append({name: (score if name in ("score", "margin") else 0.5) for name in FEATURES})
        right.append(score > 0.5)
    model = fit(rows, right, threshold=0.8, measured={"coverage": 0.3})
    high = {name: 0.9 if name in ("score", "margin") else 0.5 for name in FEATURES}
    low = {name: 0.1 if name in ("score", "margin") else 0.5 for name in FEATURES}
    assert model.probability(high) > 0.9 > 0.1 > model.probability(low)
    assert model.answers(high) and not model.answers(low)
    model.save(tmp_path / "risk.json")
    again = RiskModel.load(tmp_path / "risk.json")
    assert again == model and again.probability(high) == model.probability(high)


def test_follow_ups_get_an_operating_point_of_their_own():
    from orientbot.risk import operating_points

    probabilities = [0.9, 0.8, 0.7, 0.9, 0.8, 0.7]
    right = [True, True, True, False, True, True]
    follow_ups = [False, False, False, True, True, True]
    # Standalone questions: all right, the lowest is fine; follow-ups: the most confident is wrong.
    assert operating_points(probabilities, right, follow_ups, budget=0.0) == (0.7, 1.0)
    model = RiskModel(means=(0.0,) * len(FEATURES), scales=(1.0,) * len(FEATURES), weights=(0.0,) * len(FEATURES),
                      intercept=0.0, threshold=0.4, follow_up_threshold=0.6)
    standalone = {name: 0.0 for name in FEATURES}
    assert model.answers(standalone) and not model.answers({**standalone, "follow_up": 1.0})  # p = 0.5


def test_a_spline_model_follows_a_bump_that_one_straight_weight_cannot_and_survives_a_round_trip(tmp_path):
    from orientbot.risk import Shape

    rows, right = [], []
    for i in range(300):
        score = i / 300
        rows.append({name: (score if name == "score" else float(i % 2) if name == "parent" else 0.5)
                     for name in FEATURES})
        right.append(0.4 < score < 0.7)  # right only in a middle band of scores
    middle, edge = ({**rows[0], "score": s} for s in (0.55, 0.95))
    straight = fit(rows, right)
    curved = fit(rows, right, shape=Shape(knots=5, regularisation=1.0))
    assert straight.probability(middle) - straight.probability(edge) < 0.2
    assert curved.probability(middle) > 0.6 > 0.2 > curved.probability(edge)
    # A flag ("parent") keeps one straight weight; the score gets knots.
    assert curved.knots[curved.names.index("parent")] == () and len(curved.knots[curved.names.index("score")]) == 5
    curved.save(tmp_path / "risk.json")
    again = RiskModel.load(tmp_path / "risk.json")
    assert again == curved and again.probability(middle) == curved.probability(middle)
