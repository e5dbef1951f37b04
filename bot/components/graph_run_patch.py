"""Rasa's graph runner replays the order dask chose instead of scheduling every run again (issue 13).

Rasa 3.6's ``DaskGraphRunner.run`` computes the minimal graph for its targets, builds a dask graph of its nodes
and lets dask's synchronous scheduler order and run it, for every message's NLU parse and again for every
prediction of the next action: dependency analysis, ordering, a task state machine and a future per task, ~0.8
ms of CPU a parse for the thirteen NLU nodes (measured as for ``count_vectors_patch``), more for the policies.
The order dask picks depends only on the graph (the nodes, their inputs, the targets, the input names), not on
the inputs' values; so the first run for given targets and input names goes through dask as Rasa's does (its
statements), with the order in which dask calls the nodes recorded, and the later runs call the same nodes, with
the same arguments (an input or an earlier node's output for each of the node's needs that is a key of the
graph, the name itself otherwise, as dask does), in that order. Same nodes, same order, same outputs
(``tests/bot/test_nlu_speed_patches.py``: the parse and the policies' prediction); the same errors (a node's
own, and Rasa's ``GraphRunError`` for a ``RuntimeError`` or an input named like a node). Rasa's debug line
"Running graph with inputs" is not written on a replayed run.

How it is applied: as ``validation_patch``, imported with ``bot.components`` when the Rasa server loads the
model, without retraining. ``ORIENTBOT_REPLAYED_GRAPH_ORDER=0`` leaves Rasa's method in place (to measure the
difference). Each runner keeps its own orders; nothing is shared between worker processes.
"""
from __future__ import annotations

from typing import Any, Dict, FrozenSet, List, Optional, Text, Tuple

import dask
from rasa.engine.exceptions import GraphRunError
from rasa.engine.graph import GraphNode
from rasa.engine.runner.dask import DaskGraphRunner

from bot.components.switches import switched_off

ENV_SWITCH = "ORIENTBOT_REPLAYED_GRAPH_ORDER"
ORIGINAL = DaskGraphRunner.__dict__["run"]
_ATTRIBUTE = "_orientbot_run_orders"

# One node's call: its name, the node, and for each of its arguments (key name, True if a key of the graph).
Step = Tuple[Text, Any, Tuple[Tuple[Any, bool], ...]]


class _Recorder:
    """Stands for a node in the dask graph of a first run: notes its name, then calls it."""

    def __init__(self, name: Text, node: Any, calls: List[Text]):
        self.name, self.node, self.calls = name, node, calls

    def __call__(self, *inputs: Any) -> Any:
        self.calls.append(self.name)
        return self.node(*inputs)


def _plan_key(run_targets: List[Text], inputs: Optional[Dict[Text, Any]]) -> Tuple[Any, ...]:
    return tuple(run_targets), tuple(inputs or ())


def run(self: DaskGraphRunner, inputs: Optional[Dict[Text, Any]] = None,
        targets: Optional[List[Text]] = None) -> Dict[Text, Any]:
    """``DaskGraphRunner.run``: dask the first time for these targets and inputs, its order replayed after."""
    run_targets = targets if targets else self._graph_schema.target_names
    plans: Dict[Any, Tuple[List[Step], FrozenSet[Text]]] = self.__dict__.setdefault(_ATTRIBUTE, {})
    try:
        key = _plan_key(run_targets, inputs)
        plan = plans.get(key)
    except TypeError:  # unhashable targets or input names: Rasa's way
        return ORIGINAL(self, inputs, targets)
    if plan is None:
        return _first_run(self, inputs, run_targets, plans, key)
    steps, node_names = plan
    if inputs and any(isinstance(value, str) for value in inputs.values()):
        keys = set(node_names)
        for input_name, input_value in inputs.items():  # Rasa's check, as each input is added to the graph
            if isinstance(input_value, str) and input_value in keys:
                raise GraphRunError(
                    f"Input value '{input_value}' clashes with a node name. Make sure "
                    f"that none of the input names passed to the `run` method are the "
                    f"same as node names in the graph schema."
                )
            keys.add(input_name)
    values: Dict[Text, Any] = {name: (name, value) for name, value in (inputs or {}).items()}
    try:
        for name, node, arguments in steps:
            values[name] = node(*[values[a] if is_key else a for a, is_key in arguments])
        return dict(values[target] for target in run_targets)
    except RuntimeError as e:
        raise GraphRunError("Error running runner.") from e


def _first_run(self: DaskGraphRunner, inputs: Optional[Dict[Text, Any]], run_targets: List[Text],
               plans: Dict[Any, Any], key: Tuple[Any, ...]) -> Dict[Text, Any]:
    """Rasa's run (its statements), each node's call noted in the order dask makes it; that order kept."""
    minimal_schema = self._graph_schema.minimal_graph_schema(run_targets)
    run_graph = self._build_dask_graph(minimal_schema)
    node_names = frozenset(run_graph)
    if inputs:
        self._add_inputs_to_graph(inputs, run_graph)
    calls: List[Text] = []
    recording = {name: (_Recorder(name, task[0], calls), *task[1:]) if isinstance(task[0], GraphNode) else task
                 for name, task in run_graph.items()}
    try:
        result = dict(dask.get(recording, run_targets))
    except RuntimeError as e:
        raise GraphRunError("Error running runner.") from e
    nodes = {name for name, task in run_graph.items() if isinstance(task[0], GraphNode)}
    if len(calls) == len(set(calls)) and set(calls) <= nodes and set(run_targets) <= set(calls):
        steps: List[Step] = []
        for name in calls:
            node, *arguments = run_graph[name]
            steps.append((name, node, tuple((a, isinstance(a, str) and a in run_graph) for a in arguments)))
        plans[key] = (steps, node_names)
    return result


run.orientbot_replayed = True  # type: ignore[attr-defined]


def install() -> bool:
    """Puts the patched method in place (idempotent); False when switched off by the environment."""
    if switched_off(ENV_SWITCH):
        return False
    DaskGraphRunner.run = run  # type: ignore[assignment]
    return True


def uninstall() -> None:
    """Puts Rasa's own method back (to measure, and for the tests' comparison)."""
    DaskGraphRunner.run = ORIGINAL  # type: ignore[assignment]


def installed() -> bool:
    return getattr(DaskGraphRunner.__dict__["run"], "orientbot_replayed", False)


install()
