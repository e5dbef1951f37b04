"""Rasa finds an event's class by its name in a table kept up to date, not a walk of every class (issue 13).

Rasa 3.6 turns each stored or received event (``{"event": "user", …}``) into its class with
``Event.resolve_by_type``, which walks every subclass of ``Event`` and checks each for abstract methods,
for every event: the tracker store's read of a conversation (all its events), the action server's events,
each message. Here the first class of that walk with the name is remembered (the same class the walk
returns), and the table is forgotten whenever a new ``Event`` subclass is defined; a name not found goes
through Rasa's own method (``topic``, the default, the same error).

How it is applied: as ``validation_patch``, imported with ``bot.components`` when the Rasa server loads the
model. ``ORIENTBOT_CACHED_EVENT_TYPES=0`` leaves Rasa's method in place (to measure the difference).
"""
from __future__ import annotations

from typing import Dict, Optional, Text, Type

import rasa.shared.utils.common
from rasa.shared.core.events import Event

from bot.components.switches import switched_off

ENV_SWITCH = "ORIENTBOT_CACHED_EVENT_TYPES"
ORIGINAL = Event.__dict__["resolve_by_type"]  # a staticmethod
_classes: Dict[Text, Type[Event]] = {}


def _table() -> Dict[Text, Type[Event]]:
    if not _classes:
        found: Dict[Text, Type[Event]] = {}
        for cls in rasa.shared.utils.common.all_subclasses(Event):  # Rasa's walk, in its order
            found.setdefault(cls.type_name, cls)
        _classes.update(found)
    return _classes


def resolve_by_type(type_name: Text, default: Optional[Type[Event]] = None) -> Optional[Type[Event]]:
    """``Event.resolve_by_type``: the class Rasa's walk finds first, from the table."""
    cls = _table().get(type_name)
    if cls is not None:
        return cls
    return ORIGINAL.__func__(type_name, default)


resolve_by_type.orientbot_cached = True  # type: ignore[attr-defined]


def forget(*_args: object) -> None:
    """A new event class may take a name first in Rasa's walk: the table is made again on the next use."""
    _classes.clear()


def _on_new_subclass(cls: type, **kwargs: object) -> None:
    forget()
    super(Event, cls).__init_subclass__(**kwargs)  # type: ignore[misc]


def install() -> bool:
    """Puts the table in place (idempotent); False when switched off by the environment."""
    if switched_off(ENV_SWITCH):
        return False
    forget()
    Event.__init_subclass__ = classmethod(_on_new_subclass)  # type: ignore[assignment]
    Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[assignment]
    return True


def installed() -> bool:
    return getattr(Event.__dict__["resolve_by_type"].__func__, "orientbot_cached", False)


install()
