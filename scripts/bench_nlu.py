"""CPU per message of Rasa's NLU parse, in process, with and without the NLU patches of issue 13.

    PYTHONPATH=. .venv/bin/python scripts/bench_nlu.py                 # ~1 min: table + both measurements
    PYTHONPATH=. .venv/bin/python scripts/bench_nlu.py --messages 300 --runs 10 --chunks 20

Loads models/orientation.tar.gz with ``rasa.core.agent.Agent`` and parses the askers' (eleve, parent) messages of
transcripts/*.jsonl through ``processor.parse_message``, timing with ``time.process_time()`` (CPU, steady when
other work shares the cores). "off" takes the NLU patches out (``count_vectors_patch``, ``response_key_patch``,
``features_copy_patch``, ``sparse_stack_patch``, ``inference_batches_patch``, ``graph_run_patch``: their
``uninstall``) and makes ``tf_predict_patch``'s tensors with TensorFlow's ``convert_to_tensor``; the other patches
stay as they are. Prints:
- each graph component's CPU per message, off then on (the same messages, parsed once before: warm caches);
- "repeated": the same messages parsed again and again, off and on alternated in one process (medians);
- "once": distinct messages each parsed once, in chunks of 100, off and on alternated chunk by chunk.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Dict, List, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def asker_messages() -> List[Tuple[str, str]]:
    found = []
    for path in sorted((ROOT / "transcripts").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                conversation = json.loads(line)
                roles = {p["id"]: p["role"] for p in conversation["participants"]}
                found += [(m["text"], roles[m["from"]]) for m in conversation["messages"]
                          if roles.get(m.get("from")) in ("eleve", "parent") and m.get("text")]
    return found


_NUMPY_TENSORS: List[Any] = []


def switch(on: bool) -> None:
    from bot.components import NLU_SPEED_PATCHES, tf_predict_patch

    for patch in NLU_SPEED_PATCHES:
        patch.install() if on else patch.uninstall()
    if not _NUMPY_TENSORS:
        _NUMPY_TENSORS.append(tf_predict_patch.DirectPredict._numpy_tensors)
    tf_predict_patch.DirectPredict._numpy_tensors = _NUMPY_TENSORS[0] if on else (lambda self, batch: None)


def median(values: List[float]) -> float:
    return sorted(values)[len(values) // 2]


async def main(args: argparse.Namespace) -> None:
    from rasa.core.agent import Agent
    from rasa.core.channels.channel import UserMessage
    from rasa.engine.graph import GraphNode
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)
    logging.disable(logging.WARNING)
    import bot.components  # noqa: F401  (the patches, as the Rasa server imports them)

    agent = Agent.load(str(ROOT / "models" / "orientation.tar.gz"))
    messages = asker_messages()
    distinct = list(dict(messages).items())

    async def parse(batch: List[Tuple[str, str]]) -> float:
        start = time.process_time()
        for text, audience in batch:
            await agent.processor.parse_message(UserMessage(text, metadata={"audience": audience}))
        return 1000 * (time.process_time() - start) / len(batch)

    sample = messages[:args.messages]
    await parse(sample)
    cpu: Dict[str, float] = defaultdict(float)
    original_call = GraphNode.__call__

    def timed(node: Any, *inputs: Any) -> Any:
        start = time.process_time()
        try:
            return original_call(node, *inputs)
        finally:
            cpu[node._node_name] += time.process_time() - start

    totals = {}
    for mode in ("off", "on"):
        switch(mode == "on")
        GraphNode.__call__ = timed
        try:
            totals[mode] = (await parse(sample), dict(cpu))
        finally:
            GraphNode.__call__ = original_call
            cpu.clear()
    print(f"{'component (ms CPU per message)':40s} {'off':>7s} {'on':>7s}")
    for name in sorted(totals["off"][1], key=lambda n: -totals["off"][1][n]):
        print(f"{name:40s} {1000 * totals['off'][1][name] / len(sample):7.3f} "
              f"{1000 * totals['on'][1].get(name, 0.0) / len(sample):7.3f}")
    print(f"{'parse_message (all)':40s} {totals['off'][0]:7.3f} {totals['on'][0]:7.3f}")

    repeated: Dict[bool, List[float]] = {True: [], False: []}
    for run in range(args.runs):
        for on in ((True, False) if run % 2 else (False, True)):
            switch(on)
            repeated[on].append(await parse(sample))
    once: Dict[bool, List[float]] = {True: [], False: []}
    for i in range(args.chunks):
        chunk = distinct[200 + 100 * i:300 + 100 * i]
        if len(chunk) < 100:
            break
        on = i % 4 in (0, 3)
        switch(on)
        once[on].append(await parse(chunk))
    switch(True)
    for label, results in (("repeated", repeated), ("once", once)):
        if not results[False] or not results[True]:
            print(f"{label:9s} needs at least two runs (--runs) or chunks (--chunks): one with the patches, one without")
            continue
        off, on = median(results[False]), median(results[True])
        print(f"{label:9s} off {off:.2f} ms  on {on:.2f} ms  ({100 * (on - off) / off:+.0f} %)  "
              f"[off {' '.join(f'{x:.2f}' for x in results[False])}; on {' '.join(f'{x:.2f}' for x in results[True])}]")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=300, help="messages of the table and the repeated runs")
    parser.add_argument("--runs", type=int, default=10, help="repeated runs of each mode, alternated")
    parser.add_argument("--chunks", type=int, default=20, help="chunks of 100 distinct messages, each parsed once")
    asyncio.run(main(parser.parse_args()))
