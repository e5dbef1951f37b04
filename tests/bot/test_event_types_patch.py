"""An event's class found in a table, the class Rasa's own walk finds (bot/components/event_types_patch.py, issue 13)."""
from __future__ import annotations

import pytest
from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered
from rasa.shared.utils.common import all_subclasses

import bot.components  # noqa: F401  (what the Rasa server imports when it loads the model)
from bot.components import event_types_patch


def rasa_walk(type_name):
    return event_types_patch.ORIGINAL.__func__(type_name, None)


def test_the_patch_is_in_place_once_the_components_are_imported():
    assert event_types_patch.installed()
    assert Event.resolve_by_type is event_types_patch.resolve_by_type


def test_every_event_name_gives_the_class_rasa_finds():
    names = {cls.type_name for cls in all_subclasses(Event)}
    assert {"user", "action", "slot", "bot", "session_started", "active_loop"} <= names
    for name in names:
        assert Event.resolve_by_type(name) is rasa_walk(name), name


def test_unknown_names_behave_as_in_rasa():
    assert Event.resolve_by_type("topic") is None
    assert Event.resolve_by_type("no_such_event", SlotSet) is SlotSet
    with pytest.raises(ValueError, match="Unknown event name 'no_such_event'"):
        Event.resolve_by_type("no_such_event")


def test_events_read_back_the_same():
    events = [UserUttered("bonjour", {"name": "faq", "confidence": 0.9}), ActionExecuted("action_answer"),
              SlotSet("audience", "eleve")]
    assert Event.from_parameters(events[0].as_dict()) == events[0]
    assert [Event.from_parameters(e.as_dict()) for e in events] == events


def test_a_new_event_class_is_seen():
    assert Event.resolve_by_type("user") is UserUttered  # the table is made

    assert "user" in event_types_patch._classes

    class OrientbotTestEvent(ActionExecuted):
        type_name = "orientbot_test_event"

    assert not event_types_patch._classes  # forgotten: a new class may come first in Rasa's walk
    assert Event.resolve_by_type("orientbot_test_event") is OrientbotTestEvent
    assert Event.resolve_by_type("orientbot_test_event") is rasa_walk("orientbot_test_event")
    assert event_types_patch._classes["orientbot_test_event"] is OrientbotTestEvent
