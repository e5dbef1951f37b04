"""The rule policy's states of the recent turns only, and a tracker's applied events carried on (issue 13).

For each action it predicts (two or three a message), Rasa 3.6's ``RulePolicy`` computes the states of the
whole conversation (``tracker.past_states``: ``applied_events()``, then a new tracker replaying them, with the
state of each turn) twice, once from the text and once from the intent, then formats them all for a debug line
and, when no rule applies, writes them all as JSON. Only the last turns can decide: a rule of L states is
checked against the last L states of the conversation (``RulePolicy._is_rule_applicable``), and the longest
rule of this model has 2. The processor also walks the whole conversation for its applied events twice a
message (``_update_tracker_session``, ``_has_session_expired``). At ~375 events (45 messages, load.py's closed
loop keeps one sender per client) the policy's states took ~13 ms of a message and the other applied events
~3.5 ms (cProfile, in-process, 2026-12-06), against ~1 ms in a 5-message conversation.

Here:
- ``RulePolicy._prediction_states`` computes the states of the last ``longest rule + 1`` turns only (the same
  replay of the applied events, Rasa's ``Domain.get_active_state`` on the trackers before the last actions and
  at the end), which are the last states of Rasa's list, each equal; ``_choose_last_user_input`` as Rasa's.
  The rules found are the same (every state a rule checks is there) and so is the prediction: when no rule
  applies, Rasa's prediction source (its states as JSON, which it then drops) is longer than any rule both
  ways, so it is in no list of rules either way (``hide_rule_turn`` False). Only the policy's debug line shows
  the recent turns instead of all. Training trackers (their states cached by Rasa) go through Rasa's method.
- ``DialogueStateTracker.applied_events`` carries on from its last answer for the same tracker when events
  were only appended since: Rasa's fold over the events, continued over the new ones (the same list), unless
  a new loop name appeared (that changes how the earlier events fold: it starts again) or the tracker keeps a
  bounded history. Remembered on the tracker object, for its own list of events only (a copy has another).

``tests/bot/test_recent_states_patch.py`` compares both with Rasa's: the project's rule policy (trained there on
its rules and stories) at every prediction of 40-message conversations of every intent, and applied events on
trackers with restarts, reverts and loops among appended events. ``ORIENTBOT_RECENT_RULE_STATES=0`` leaves Rasa's methods in place.
How it is applied: as ``validation_patch``, through ``bot/components/__init__.py``.
"""
from __future__ import annotations

import json
import weakref
from typing import Any, Dict, List, Optional, Text

from rasa.core.featurizers.tracker_featurizers import MaxHistoryTrackerFeaturizer
from rasa.core.policies.policy import SupportedData
from rasa.core.policies.rule_policy import RULES, RULES_FOR_LOOP_UNHAPPY_PATH, RulePolicy
from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    Event,
    Restarted,
    SessionStarted,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.components.switches import switched_off

ENV_SWITCH = "ORIENTBOT_RECENT_RULE_STATES"
ORIGINAL_PREDICTION_STATES = RulePolicy._prediction_states  # inherited from Policy
ORIGINAL_APPLIED_EVENTS = DialogueStateTracker.__dict__["applied_events"]

# ---------------------------------------------------------------- applied events, carried on


class _Fold:
    """Rasa's ``applied_events`` fold after the first ``count`` events of a tracker."""

    __slots__ = ("events", "count", "first", "last", "loop_names", "applied")

    def __init__(self, events: Any, count: int, loop_names: frozenset, applied: List[Event]) -> None:
        self.events = events  # the tracker's deque (its identity)
        self.count = count
        self.first = events[0] if count else None
        self.last = events[count - 1] if count else None
        self.loop_names = loop_names
        self.applied = applied


MEMO = "_orientbot_applied_fold"  # the tracker's attribute: valid only for the same deque of events (checked)


def _fold(tracker: DialogueStateTracker, events: List[Event], loop_names: frozenset, applied: List[Event]) -> None:
    """Rasa's loop of ``DialogueStateTracker.applied_events`` over ``events``, continuing ``applied``."""
    for event in events:
        if isinstance(event, (Restarted, SessionStarted)):
            applied.clear()
        elif isinstance(event, ActionReverted):
            tracker._undo_till_previous(ActionExecuted, applied)
        elif isinstance(event, UserUtteranceReverted):
            tracker._undo_till_previous(UserUttered, applied)
            tracker._undo_till_previous(ActionExecuted, applied)
        elif (isinstance(event, ActionExecuted) and event.action_name in loop_names
              and not tracker._first_loop_execution_or_unhappy_path(event.action_name, applied)):
            tracker._undo_till_previous_loop_execution(event.action_name, applied)
        else:
            applied.append(event)


def _loop_names(events: Any) -> frozenset:
    return frozenset(event.name for event in events if isinstance(event, ActiveLoop) and event.name)


def applied_events(self: DialogueStateTracker) -> List[Event]:
    """``DialogueStateTracker.applied_events``: the same list, the fold carried on over the appended events."""
    events = self.events
    if getattr(events, "maxlen", None) is not None:
        return ORIGINAL_APPLIED_EVENTS(self)
    count = len(events)
    memo = self.__dict__.get(MEMO)
    if (memo is not None and memo.events is events and memo.count <= count
            and (memo.count == 0 or (events[0] is memo.first and events[memo.count - 1] is memo.last))):
        new = [events[i] for i in range(memo.count, count)] if count - memo.count < 64 else list(events)[memo.count:]
        names = memo.loop_names | _loop_names(new) if new else memo.loop_names
        if names == memo.loop_names:
            applied = list(memo.applied)
            _fold(self, new, names, applied)
            self.__dict__[MEMO] = _Fold(events, count, names, applied)
            return list(applied)
    names = _loop_names(events)
    applied = []
    _fold(self, list(events), names, applied)
    self.__dict__[MEMO] = _Fold(events, count, names, applied)
    return list(applied)


applied_events.orientbot_recent = True  # type: ignore[attr-defined]

# ---------------------------------------------------------------- the rule policy's recent states

_windows: "weakref.WeakKeyDictionary[RulePolicy, int]" = weakref.WeakKeyDictionary()


def window(policy: RulePolicy) -> int:
    """How many of the last states can decide a rule: the longest rule's states, plus one."""
    found = _windows.get(policy)
    if found is None:
        keys = list(policy.lookup.get(RULES, {})) + list(policy.lookup.get(RULES_FOR_LOOP_UNHAPPY_PATH, {}))
        found = 1 + max((len(json.loads(key)) for key in keys), default=0)
        _windows[policy] = found
    return found


def recent_states(tracker: DialogueStateTracker, domain: Any, count: int) -> List[Dict[Text, Any]]:
    """The last ``count`` states of ``domain.states_for_tracker_history(tracker)`` (Rasa's defaults)."""
    applied = tracker.applied_events()
    actions = [i for i, event in enumerate(applied) if isinstance(event, ActionExecuted)]
    wanted = set(actions[-(count - 1):]) if count > 1 else set()
    replay = tracker.init_copy()  # as ``generate_all_prior_trackers``
    states = []
    for i, event in enumerate(applied):
        if i in wanted:
            states.append(domain._clean_state(domain.get_active_state(replay)))
        replay.update(event)
    states.append(domain._clean_state(domain.get_active_state(replay)))
    return states


def prediction_states(self: RulePolicy, tracker: DialogueStateTracker, domain: Any,
                      use_text_for_last_user_input: bool = False,
                      rule_only_data: Optional[Dict[Text, Any]] = None) -> List[Dict[Text, Any]]:
    """``Policy._prediction_states`` for the rule policy: the last states that can decide a rule."""
    featurizer = self.featurizer
    if (type(tracker) is not DialogueStateTracker or type(featurizer) is not MaxHistoryTrackerFeaturizer
            or featurizer.max_history is not None or self.supported_data() == SupportedData.ML_DATA):
        return ORIGINAL_PREDICTION_STATES(self, tracker, domain, use_text_for_last_user_input, rule_only_data)
    trackers_as_states = [recent_states(tracker, domain, window(self))]
    featurizer._choose_last_user_input(trackers_as_states, use_text_for_last_user_input)
    return trackers_as_states[0]


prediction_states.orientbot_recent = True  # type: ignore[attr-defined]


def install() -> bool:
    """Puts both in place (idempotent); False when ``ORIENTBOT_RECENT_RULE_STATES=0``."""
    if switched_off(ENV_SWITCH):
        return False
    RulePolicy._prediction_states = prediction_states  # type: ignore[assignment]
    DialogueStateTracker.applied_events = applied_events  # type: ignore[assignment]
    return True


def installed() -> bool:
    return getattr(RulePolicy.__dict__.get("_prediction_states"), "orientbot_recent", False)


install()
