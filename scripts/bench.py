"""Prints figures, not verdicts: latency, throughput, model size, and accuracy on the question sets.

    make bench        # starts its own servers on free ports, on a copy of the KB

Traffic goes to 127.0.0.1 only; every loop is bounded in count.
"""
from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.servers import MODEL, ROOT, running_bot  # noqa: E402

SINGLE_REQUESTS = 100
CONCURRENT_REQUESTS = 200


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def timed(bot, question):
    started = time.perf_counter()
    bot.ask(question, sender=f"bench-{uuid.uuid4().hex[:8]}")
    return time.perf_counter() - started


def main() -> int:
    questions = [json.loads(line)["question"] for line in (ROOT / "eval" / "holdout.jsonl").read_text(encoding="utf-8").splitlines()]
    print(f"model: {MODEL.stat().st_size / 1e6:.1f} MB")
    with tempfile.TemporaryDirectory() as work:
        started = time.perf_counter()
        with running_bot(Path(work)) as bot:
            print(f"servers ready in {time.perf_counter() - started:.1f} s")
            timed(bot, "bonjour")
            single = [timed(bot, questions[i % len(questions)]) for i in range(SINGLE_REQUESTS)]
            print(f"1 client, {SINGLE_REQUESTS} questions: p50 {1000 * percentile(single, 0.5):.0f} ms, "
                  f"p95 {1000 * percentile(single, 0.95):.0f} ms, p99 {1000 * percentile(single, 0.99):.0f} ms")
            for clients in (10,):
                started = time.perf_counter()
                with ThreadPoolExecutor(clients) as pool:
                    latencies = list(pool.map(lambda i: timed(bot, questions[i % len(questions)]), range(CONCURRENT_REQUESTS)))
                elapsed = time.perf_counter() - started
                print(f"{clients} clients, {CONCURRENT_REQUESTS} questions: {CONCURRENT_REQUESTS / elapsed:.1f} req/s, "
                      f"p50 {1000 * statistics.median(latencies):.0f} ms, p95 {1000 * percentile(latencies, 0.95):.0f} ms")
            processes = subprocess.run(["ps", "-eo", "rss=,args="], capture_output=True, text=True).stdout
            for line in processes.splitlines():
                if bot.url.rsplit(":", 1)[1] in line or bot.env["ACTION_SERVER_URL"].split(":")[2].split("/")[0] in line:
                    kind = "action server" if " actions " in line else "rasa server"
                    print(f"{kind} memory: {int(line.split()[0]) / 1024:.0f} MB")
            scorer = ROOT.parent / "shared" / "eval" / "score.py"
            for dataset in (ROOT / "eval" / "holdout.jsonl", ROOT.parent / "shared" / "eval" / "dev.jsonl"):
                if scorer.exists() and dataset.exists():
                    print(f"--- {dataset.relative_to(ROOT.parent)}")
                    out = subprocess.run([sys.executable, str(scorer), str(dataset), "--url", bot.url, "--show", "none"],
                                         capture_output=True, text=True).stdout
                    print("\n".join(line for line in out.splitlines() if line.split(":")[0] in
                                    ("answer_acc", "answer_escalated", "wrong_rate", "urgent_recall", "escalate_recall", "oos_acc")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
