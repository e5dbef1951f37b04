"""The rule policy's recent states and the carried-on applied events (bot/components/recent_states_patch.py, issue 13).

The project's rule policy, trained here on its rules and stories, predicts every action of long conversations
(all the intents, in a seeded order, with the slots the actions set) with Rasa's methods and with the patch:
the same predictions, and the patch's states are the last ones of Rasa's.
"""
from __future__ import annotations

import random
from pathlib import Path

import pytest
from rasa.core.policies.rule_policy import RulePolicy
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    BotUttered,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.generator import TrainingDataGenerator
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.importers.importer import TrainingDataImporter

import bot.components  # noqa: F401  (what the Rasa server imports when it loads the model)
from bot.components import recent_states_patch

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    importer = TrainingDataImporter.load_from_config(
        str(ROOT / "config.yml"), str(ROOT / "domain.yml"),
        [str(ROOT / "bot" / "data" / "rules"), str(ROOT / "bot" / "data" / "stories")])
    domain = importer.get_domain()
    trackers = TrainingDataGenerator(importer.get_stories(), domain, augmentation_factor=0).generate()
    config = {**RulePolicy.get_default_config(), "core_fallback_threshold": 0.3,
              "core_fallback_action_name": "action_answer", "enable_fallback_prediction": True}
    policy = RulePolicy.create(config, LocalModelStorage(tmp_path_factory.mktemp("rules")), Resource("rules"),
                               ExecutionContext(GraphSchema({}), "test"))
    policy.train(trackers, domain)
    return policy, domain


def rasas_states(policy, tracker, domain, use_text):
    return recent_states_patch.ORIGINAL_PREDICTION_STATES(policy, tracker, domain, use_text,
                                                          policy._get_rule_only_data())


def predictions(policy, tracker, domain, patched):
    """(probabilities, events, hide_rule_turn, end-to-end) with the patch or with Rasa's method."""
    method = recent_states_patch.prediction_states if patched else recent_states_patch.ORIGINAL_PREDICTION_STATES
    saved = RulePolicy._prediction_states
    RulePolicy._prediction_states = method
    try:
        result = policy.predict_action_probabilities(tracker, domain)
    finally:
        RulePolicy._prediction_states = saved
    return result.probabilities, result.events, result.hide_rule_turn, result.is_end_to_end_prediction


def conversation(policy, domain, seed, turns=40):
    """A tracker grown as the processor grows it, checked at every prediction; returns it."""
    rng = random.Random(seed)
    intents = list(domain.intents)
    tracker = DialogueStateTracker.from_events(f"c{seed}", [
        ActionExecuted("action_session_start"), SessionStarted(), SlotSet("audience", "eleve"),
        ActionExecuted("action_listen")], slots=domain.slots)
    window = recent_states_patch.window(policy)
    for turn in range(turns):
        intent = rng.choice(intents)
        tracker.update(UserUttered(f"message {turn} {intent}", {"name": intent, "confidence": 0.9},
                                   parse_data={"intent": {"name": intent, "confidence": 0.9}, "entities": [],
                                               "text": f"message {turn} {intent}"}))
        for _ in range(4):  # the processor's prediction loop, up to action_listen
            for use_text in (True, False):
                full = rasas_states(policy, tracker, domain, use_text)
                recent = recent_states_patch.prediction_states(policy, tracker, domain, use_text,
                                                               policy._get_rule_only_data())
                assert recent == full[-window:]
            ours = predictions(policy, tracker, domain, patched=True)
            theirs = predictions(policy, tracker, domain, patched=False)
            assert ours[0] == theirs[0] and ours[2:] == theirs[2:] and ours[1] == theirs[1]
            action = domain.action_names_or_texts[max(range(len(ours[0])), key=ours[0].__getitem__)]
            tracker.update(ActionExecuted(action))
            if action == "action_listen":
                break
            tracker.update(BotUttered(f"réponse {turn}"))
            if rng.random() < 0.3:
                tracker.update(SlotSet("clarification_pending", rng.random() < 0.5))
    return tracker


def test_the_patch_is_in_place_once_the_components_are_imported():
    assert recent_states_patch.installed()
    assert DialogueStateTracker.applied_events is recent_states_patch.applied_events


def test_the_window_covers_the_longest_rule(trained):
    policy, _ = trained
    assert 2 <= recent_states_patch.window(policy) <= 12


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_long_conversations_get_rasas_predictions_from_the_recent_states(trained, seed):
    policy, domain = trained
    tracker = conversation(policy, domain, seed)
    assert len(tracker.events) > 150  # long enough that the window is a small part of the history


def test_short_conversations_keep_every_state(trained):
    policy, domain = trained
    tracker = DialogueStateTracker.from_events("s", [ActionExecuted("action_listen"),
                                                     UserUttered("bonjour", {"name": "greet", "confidence": 1.0})],
                                               slots=domain.slots)
    for use_text in (True, False):
        assert recent_states_patch.prediction_states(policy, tracker, domain, use_text, policy._get_rule_only_data()) \
            == rasas_states(policy, tracker, domain, use_text)


EVENTS = [
    lambda i: ActionExecuted("action_listen"),
    lambda i: UserUttered(f"u{i}", {"name": "faq", "confidence": 1.0}),
    lambda i: ActionExecuted("action_answer"),
    lambda i: BotUttered(f"b{i}"),
    lambda i: SlotSet("clarification_pending", bool(i % 2)),
    lambda i: UserUtteranceReverted(),
    lambda i: ActionReverted(),
    lambda i: Restarted(),
    lambda i: SessionStarted(),
    lambda i: ActiveLoop("a_form"),
    lambda i: ActionExecuted("a_form"),
    lambda i: ActiveLoop(None),
]


@pytest.mark.parametrize("seed", range(20))
def test_applied_events_carried_on_are_rasas(seed):
    """Events appended a few at a time, reverts, restarts and loops among them: the same list after each."""
    rng = random.Random(seed)
    tracker = DialogueStateTracker("a", slots=[])
    weights = [6, 6, 5, 5, 3, 1, 1, 0.3, 0.3, 0.5, 1, 0.5]
    for step in range(120):
        for i in range(rng.randint(1, 6)):
            tracker.update(rng.choices(EVENTS, weights)[0](step * 10 + i))
        assert tracker.applied_events() == recent_states_patch.ORIGINAL_APPLIED_EVENTS(tracker)
    copied = tracker.copy()  # another list of events: its own fold
    copied.update(ActionExecuted("action_listen"))
    assert copied.applied_events() == recent_states_patch.ORIGINAL_APPLIED_EVENTS(copied)
    assert tracker.applied_events() == recent_states_patch.ORIGINAL_APPLIED_EVENTS(tracker)


def test_a_training_tracker_goes_through_rasas_method(trained, monkeypatch):
    policy, domain = trained
    calls = []
    monkeypatch.setattr(recent_states_patch, "ORIGINAL_PREDICTION_STATES",
                        lambda *args: calls.append(args) or [{}])

    class Training(DialogueStateTracker):
        pass

    recent_states_patch.prediction_states(policy, Training("t", slots=domain.slots), domain)
    assert calls
