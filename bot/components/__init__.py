"""Custom Rasa NLU components (text normalisation, safety gate).

Importing this package also makes the Redis lock store's ticket operations atomic (``lock_store_patch``) and
patches five of Rasa's costs per message (issue 13), without retraining and with the same answers: its calls to
the action server carry the latest events only (``action_payload_patch``), the check of the action server's
responses gets a validator built once (``validation_patch``), the SQLite tracker store keeps its connections,
writes without an fsync each and reads and writes with statements built once (``tracker_store_patch``), an
event's class is found in a table (``event_types_patch``), and DIET's and the ResponseSelector's prediction graph
is called directly (``tf_predict_patch``). Two keep a message's cost from growing with its conversation: each
worker keeps a conversation's tracker between its messages, checked against the SQLite store and brought up to date
from it (``tracker_cache_patch``), and the rule policy computes the states of the last turns only
(``recent_states_patch``). The Rasa server imports it when it loads the model.
"""
from bot.components import (  # noqa: F401  (import side effect: the patches)
    action_payload_patch,
    event_types_patch,
    lock_store_patch,
    recent_states_patch,
    tf_predict_patch,
    tracker_cache_patch,
    tracker_store_patch,
    validation_patch,
)
