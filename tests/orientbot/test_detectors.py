import json
import os

import numpy as np
import pytest

from orientbot import detectors
from orientbot.detectors import (
    DISTRESS,
    PERSONAL_CASE,
    ConversationIndex,
    Detectors,
    TextDetector,
    build_sets,
    fit_detectors,
    grouped_cross_validation,
    highest_threshold_with_recall,
    labelled_messages,
    load_detectors,
    lowest_threshold_with_false_alarms,
    rates_at,
    read_nlu,
)
from orientbot.settings import DetectorSettings, load_settings

# Tiny training data of our own, in the transcripts' registers (SMS spelling, parents' vouvoiement).
SAD = [
    "je vais tres mal en ce moment, je pleure tous les soirs",
    "ma fille pleure tous les soirs et ne mange plus",
    "mon fils ne sort plus de sa chambre et pleure",
    "jsuis trop mal, je pleure sans arret",
    "elle va tres mal, elle pleure en cachette",
    "mon pote va mal, il pleure tout le temps",
]
ORDINARY = [
    "combien de voeux sur parcoursup",
    "c'est quand les resultats d'affelnet",
    "quel bac pour faire infirmier",
    "la bourse du crous c'est combien",
    "comment s'inscrire en licence d'histoire",
    "jusqu'a quand confirmer mes voeux",
    "un bts en alternance c'est possible",
    "les dates des portes ouvertes du lycee",
]
OWN_CASE = [
    "mon dossier a ete refuse alors que j'ai 15 de moyenne, c'est injuste",
    "on a refuse la bourse de mon fils, je conteste la decision",
    "ma proposition a disparu de mon dossier, vous pouvez verifier",
    "le lycee a perdu le dossier de ma fille, c'est inadmissible",
    "mon dossier a ete rejete a tort, je demande un reexamen",
    "mon patron a rompu mon contrat et le cfa veut me renvoyer",
]


def tiny_messages():
    return {
        "faq": ORDINARY,
        "mined:distress": SAD[:4],
        "nlu:distress": SAD[4:],
        "mined:personal_case": OWN_CASE[:4],
        "nlu:personal_case": OWN_CASE[4:],
        "nlu:chitchat": ["bonjour", "merci beaucoup", "au revoir"],
    }


def test_a_detector_learns_a_tiny_set():
    texts, labels = SAD + ORDINARY, [1] * len(SAD) + [0] * len(ORDINARY)
    detector = TextDetector().fit(texts, labels)
    assert detector.probability("ma soeur pleure tous les soirs, elle va tres mal") > 0.5
    assert detector.probability("combien de voeux pour le bts") < 0.5
    assert detector.probability("") == 0.0
    assert detector.probabilities(["je pleure", "quel bac"]).shape == (2,)


def test_a_detector_needs_both_classes():
    with pytest.raises(ValueError):
        TextDetector().fit(["a", "b"], [1, 1])
    with pytest.raises(RuntimeError):
        TextDetector().probability("pas encore ajuste")


def test_normalised_text_is_what_the_detector_reads():
    detector = TextDetector().fit(SAD + ORDINARY, [1] * len(SAD) + [0] * len(ORDINARY))
    assert detector.probability("JSUIS TROP MAL, JE PLEURE") == pytest.approx(detector.probability("je suis trop mal je pleure"))


def test_cross_validation_never_learns_from_the_conversation_it_scores():
    texts = SAD + ORDINARY
    labels = [1] * len(SAD) + [0] * len(ORDINARY)
    groups = [f"conv-{i // 2}" for i in range(len(texts))]  # two messages per conversation
    seen = []

    class Recording(TextDetector):
        def fit(self, texts, labels, *, already_normalised=False):
            seen.append(set(texts))
            return super().fit(texts, labels, already_normalised=already_normalised)

    probabilities = grouped_cross_validation(texts, labels, groups, folds=3, make=Recording)
    assert probabilities.shape == (len(texts),) and ((0 <= probabilities) & (probabilities <= 1)).all()
    assert len(seen) == 3
    from orientbot.normalise import normalise
    for trained in seen:
        trained_groups = {g for t, g in zip(texts, groups) if normalise(t) in trained}
        left_out = {g for t, g in zip(texts, groups) if normalise(t) not in trained}
        assert trained_groups.isdisjoint(left_out)


def test_rates_at_a_threshold():
    probabilities = [0.9, 0.6, 0.2, 0.7, 0.1, 0.05]
    labels = [1, 1, 1, 0, 0, 0]
    rates = rates_at(probabilities, labels, 0.5)
    assert (rates.caught, rates.positives, rates.false_alarms, rates.negatives) == (2, 3, 1, 3)
    assert rates.recall == pytest.approx(2 / 3) and rates.false_alarm_rate == pytest.approx(1 / 3)
    # what fires whatever the probability (the patterns), and which negatives count
    rates = rates_at(probabilities, labels, 0.5, fired=[False, False, True, False, False, False],
                     negatives=[False, False, False, False, True, True])
    assert (rates.caught, rates.false_alarms, rates.negatives) == (3, 0, 2)


def test_thresholds_chosen_from_the_probabilities():
    probabilities = [0.95, 0.8, 0.55, 0.3, 0.5, 0.2, 0.1, 0.05]
    labels = [1, 1, 1, 1, 0, 0, 0, 0]
    assert highest_threshold_with_recall(probabilities, labels, 1.0) == 0.30
    assert highest_threshold_with_recall(probabilities, labels, 0.75) == 0.55
    assert lowest_threshold_with_false_alarms(probabilities, labels, 0.0) == 0.51
    assert lowest_threshold_with_false_alarms(probabilities, labels, 0.25) == 0.21


def test_read_nlu(tmp_path):
    path = tmp_path / "x.yml"
    path.write_text(
        'version: "3.1"\nnlu:\n- intent: faq/bourse\n  examples: |\n    - la [bourse](topic) c combien\n'
        "    - montant bourse\n- intent: distress\n  examples: |\n    - je vais mal\n- synonym: x\n  examples: |\n    - y\n",
        encoding="utf-8",
    )
    assert read_nlu(path) == {"faq/bourse": ["la bourse c combien", "montant bourse"], "distress": ["je vais mal"]}
    assert read_nlu(tmp_path / "missing.yml") == {}


def test_training_sets_follow_the_recipes():
    sets = build_sets(tiny_messages())
    distress, personal = sets[DISTRESS], sets[PERSONAL_CASE]
    assert distress.labels.sum() == len(SAD)
    assert set(distress.mask("faq").nonzero()[0]) <= set(np.flatnonzero(distress.labels == 0))
    assert sum(distress.mask("mined:personal_case", "nlu:personal_case")) == len(OWN_CASE)  # negatives for distress
    assert personal.labels.sum() == len(OWN_CASE)
    assert not personal.mask("mined:distress", "nlu:distress").any()  # distress is decided elsewhere
    assert len(set(distress.groups)) == len(distress.examples)  # by default each message alone
    grouped = build_sets(tiny_messages(), lambda source, text, index: source)
    assert set(grouped[DISTRESS].groups) >= {"faq", "mined:distress"}


def test_fitted_detectors_serve_the_decisions():
    found = fit_detectors(build_sets(tiny_messages()), DetectorSettings(distress_threshold=0.5, personal_case_threshold=0.5))
    assert isinstance(found, Detectors)
    hit = found.distress_of("mon frere pleure tous les soirs, il va tres mal")
    assert hit is not None and hit.pattern == "classifier" and hit.probability >= 0.5
    assert found.distress_of("je veux mourir").pattern != "classifier"  # the patterns first
    assert found.distress_of("combien de voeux sur parcoursup ?") is None
    assert found.is_personal_case("ma candidature a ete refusee alors que mon dossier est bon, je conteste")
    assert not found.is_personal_case("quel bac pour faire infirmier ?")


def test_a_lower_threshold_says_where_the_personal_case_classifier_leans():
    story = "ma candidature a ete refusee alors que mon dossier est bon, je conteste"
    probability = fit_detectors(build_sets(tiny_messages())).personal_case.probability(story)
    sure = DetectorSettings(personal_case_threshold=min(probability + 0.01, 1.0), personal_case_unsure_threshold=probability)
    found = fit_detectors(build_sets(tiny_messages()), sure)
    assert found.leans_to_a_personal_case(story) and not found.is_personal_case(story)
    doubtful = DetectorSettings(personal_case_unsure_threshold=min(probability + 0.01, 1.0))
    assert not fit_detectors(build_sets(tiny_messages()), doubtful).leans_to_a_personal_case(story)


def write_root(root, messages):
    generated, nlu = root / detectors.GENERATED, root / detectors.HAND_WRITTEN
    generated.mkdir(parents=True)
    nlu.mkdir(parents=True)

    def block(intents):
        lines = ['version: "3.1"', "nlu:"]
        for intent, examples in intents.items():
            lines += [f"- intent: {intent}", "  examples: |"] + [f"    - {e}" for e in examples]
        return "\n".join(lines) + "\n"

    (generated / "faq_nlu.yml").write_text(block({"faq/voeux": messages["faq"]}), encoding="utf-8")
    (generated / "mined_nlu.yml").write_text(
        block({"distress": messages["mined:distress"], "personal_case": messages["mined:personal_case"]}), encoding="utf-8")
    (nlu / "distress.yml").write_text(block({"distress": messages["nlu:distress"]}), encoding="utf-8")
    (nlu / "handoff.yml").write_text(
        block({"ask_human": ["un conseiller svp"], "personal_case": messages["nlu:personal_case"]}), encoding="utf-8")
    (nlu / "chitchat.yml").write_text(block({"greet": messages["nlu:chitchat"]}), encoding="utf-8")


def test_load_detectors_fits_once_from_the_files_and_refits_when_they_change(tmp_path):
    write_root(tmp_path, tiny_messages())
    assert labelled_messages(tmp_path)["nlu:ask_human"] == ["un conseiller svp"]
    settings = DetectorSettings(distress_threshold=0.4, personal_case_threshold=0.6)
    first = load_detectors(tmp_path, settings)
    assert load_detectors(tmp_path, settings) is first
    assert (first.distress_threshold, first.personal_case_threshold) == (0.4, 0.6)
    faq = tmp_path / detectors.GENERATED / "faq_nlu.yml"
    faq.write_text(faq.read_text(encoding="utf-8") + "    - les dates du brevet\n", encoding="utf-8")
    os.utime(faq, ns=(faq.stat().st_atime_ns, faq.stat().st_mtime_ns + 10**9))
    assert load_detectors(tmp_path, settings) is not first


def test_load_detectors_without_the_generated_files(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_detectors(tmp_path, DetectorSettings())


def conversation(cid, messages, kind="one_to_one"):
    people = [{"id": "u1", "role": "eleve", "display_name": "Élève"}, {"id": "c1", "role": "conseiller", "display_name": "C"}]
    return {
        "conversation_id": cid, "kind": kind, "started_at": "2024-03-01T18:00:00+01:00", "participants": people,
        "messages": [{"id": str(i), "at": f"2024-03-01T18:{i:02d}:00+01:00", "from": who, "text": text}
                     for i, (who, text) in enumerate(messages, start=1)],
    }


def test_messages_are_found_back_in_their_conversation(tmp_path):
    (tmp_path / "t.jsonl").write_text("\n".join(json.dumps(c) for c in [
        conversation("conv-a", [("u1", "on se moque de moi a chaque recre au college"),
                                ("c1", "Ce n'est pas normal et ce n'est pas de ta faute. Appelle le 3018, c'est gratuit."),
                                ("u1", "oui je suis dans ma chambre, ma mere rentre ce soir"),
                                ("c1", "Tres bien. Montre-lui les messages ce soir et parle aussi a un adulte de confiance.")]),
        conversation("conv-b", [("u1", "combien de voeux on peut faire sur parcoursup ?"),
                                ("c1", "Tu peux formuler jusqu'a 10 voeux, et 10 de plus en apprentissage.")]),
    ]) + "\n", encoding="utf-8")
    index = ConversationIndex(tmp_path)
    assert index.group("mined:distress", "on se moque de moi a chaque recre au college", 0) == "conv-a"
    assert index.group("faq", "combien de voeux on peut faire sur parcoursup", 0) == "conv-b"
    assert index.group("nlu:distress", "je veux mourir", 3) == "nlu:distress#3"
    sets = build_sets({"mined:distress": ["on se moque de moi a chaque recre au college",
                                          "oui je suis dans ma chambre, ma mere rentre ce soir"],
                       "faq": ["combien de voeux on peut faire sur parcoursup ?"]}, index.group)
    assert index.follow_ups(sets[DISTRESS]).tolist() == [False, True, False]


@pytest.mark.skipif(not (detectors.PROJECT_ROOT / detectors.GENERATED / "mined_nlu.yml").exists(),
                    reason="no generated training data (make kb)")
def test_the_served_detectors_load_from_the_project():
    served = load_detectors(detectors.PROJECT_ROOT, load_settings().detectors)
    assert served is load_detectors(detectors.PROJECT_ROOT, load_settings().detectors)
    assert 0.0 <= served.distress.probability("combien de voeux sur parcoursup ?") < served.distress_threshold
    assert served.distress_of("c'est le dernier délai pour confirmer mes voeux ?") is None
