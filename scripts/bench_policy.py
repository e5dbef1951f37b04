"""The answer policy's own cost per message, in-process: what the action server spends deciding.

    PYTHONPATH=. .venv/bin/python scripts/bench_policy.py [--messages 300] [--passes 5]

Runs ``AnswerPolicy.decide`` as the action server builds it (``bot.actions.services``: the KB in the
database, the fitted risk model and detectors) over the askers' messages of the transcripts, and prints the
mean milliseconds per message of the best pass (the others are the machine's noise).  The normalisation
cache is emptied before each message, so every message is new to it, as live messages are.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.actions.services import default_services  # noqa: E402
from orientbot.normalise import forget_normalised  # noqa: E402
from orientbot.policy import Message  # noqa: E402
from scripts.bench import transcript_questions  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--passes", type=int, default=5)
    args = parser.parse_args(argv)
    services = default_services()
    knowledge, retrieval = services.knowledge.current()
    messages = [Message(text, "parent" if role == "parent" else "eleve")
                for text, role in transcript_questions()[: args.messages]]
    timings = []
    for _ in range(args.passes):
        started = time.perf_counter()
        for message in messages:
            forget_normalised()
            services.policy.decide(message, knowledge, retrieval)
        timings.append((time.perf_counter() - started) / len(messages) * 1000)
    print(f"AnswerPolicy.decide: {min(timings):.2f} ms per message (best of {args.passes} passes over "
          f"{len(messages)} transcript messages; the passes: {', '.join(f'{t:.2f}' for t in timings)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
