"""The latest events only in Rasa's calls to the action server (issue 13), patched into Rasa at import.

Rasa 3.6 sends the action server the whole conversation with each custom action call
(``RemoteAction._action_call_format``: ``tracker.current_state(EventVerbosity.ALL)``), every event turned into a
dict by Rasa, written as JSON and parsed again by the action server, whose parse then grew with the conversation:
under the closed-loop load (32 clients, one sender each, ~40 messages a conversation) parsing the request was
12 % of the action server's CPU (py-spy, 2026-12-06). Here the call carries the same state with only the latest
``serve.action_events_sent`` events, which is more than the actions read (``bot.actions.conversation``: a ticket's
transcript, the person's earlier questions); slots, the latest message and the rest of the state are Rasa's own.
The domain is sent as Rasa decides (``enable_selective_domain`` in the endpoints: the actions never read it).

How it is applied: as ``validation_patch``, through ``bot/components/__init__.py``, which the Rasa server imports when
it loads the model. ``ORIENTBOT_SERVE_ACTION_EVENTS_SENT=0`` leaves Rasa's own method in place.
"""
from __future__ import annotations

import itertools
from typing import Any, Dict, Text

import rasa
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.trackers import EventVerbosity

from orientbot.settings import load_settings

ORIGINAL = RemoteAction.__dict__["_action_call_format"]


def latest_events(tracker: Any, count: int) -> list:
    """The tracker's last ``count`` events as dicts, oldest first (only those are turned into dicts)."""
    return [event.as_dict() for event in reversed(list(itertools.islice(reversed(tracker.events), count)))]


def action_call_format(self: RemoteAction, tracker: Any, domain: Any) -> Dict[Text, Any]:
    """``RemoteAction._action_call_format`` with the latest events only."""
    state = tracker.current_state(EventVerbosity.NONE)
    state["events"] = latest_events(tracker, action_call_format.events_sent)
    result = {"next_action": self._name, "sender_id": tracker.sender_id, "tracker": state, "version": rasa.__version__}
    if not self._is_selective_domain_enabled() or domain.does_custom_action_explicitly_need_domain(self.name()):
        result["domain"] = domain.as_dict()
    return result


action_call_format.events_sent = 0  # type: ignore[attr-defined]


def install() -> bool:
    """Puts the shorter call in place (idempotent); False when ``serve.action_events_sent`` is 0."""
    count = load_settings().serve.action_events_sent
    if count <= 0:
        RemoteAction._action_call_format = ORIGINAL  # type: ignore[assignment]
        return False
    action_call_format.events_sent = count  # type: ignore[attr-defined]
    RemoteAction._action_call_format = action_call_format  # type: ignore[assignment]
    return True


def installed() -> bool:
    return RemoteAction.__dict__["_action_call_format"] is action_call_format


install()
