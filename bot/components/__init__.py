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
(``recent_states_patch``). Six halve the NLU's CPU a message (5.9 -> 3.1 ms, ``scripts/bench_nlu.py``): the count
vectors of tokens and sentences seen before are kept (``count_vectors_patch``), sparse features are stacked and
copied without scipy's and Rasa's general paths (``sparse_stack_patch``, ``features_copy_patch``), inference
batches are made directly (``inference_batches_patch``), the ResponseSelector finds a label's key in a table
(``response_key_patch``), and the graph runner replays the order dask chose for the same graph
(``graph_run_patch``). The Rasa server imports it when it loads the model.
"""
from bot.components import (  # noqa: F401  (import side effect: the patches)
    action_payload_patch,
    count_vectors_patch,
    event_types_patch,
    features_copy_patch,
    graph_run_patch,
    inference_batches_patch,
    lock_store_patch,
    recent_states_patch,
    response_key_patch,
    sparse_stack_patch,
    tf_predict_patch,
    tracker_cache_patch,
    tracker_store_patch,
    validation_patch,
)

# The NLU's patches, for the tests and scripts/bench_nlu.py that switch them off and on together.
NLU_SPEED_PATCHES = (count_vectors_patch, response_key_patch, features_copy_patch, sparse_stack_patch,
                     inference_batches_patch, graph_run_patch)
