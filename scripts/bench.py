"""Prints figures, not verdicts: latency under load, saturation throughput, each server's CPU and memory,
where a message's time goes, and accuracy on the question sets.

    make bench                                   # starts its own servers on free ports, on a copy of the KB
    .venv/bin/python scripts/bench.py --rates 4,8,12,16,20 --duration 20 --clients 8 --closed-duration 30
    .venv/bin/python scripts/bench.py --workers 2  # `make run`'s layout with Redis: 2 Rasa workers, SQLite in WAL
    ORIENTBOT_CACHED_ACTION_VALIDATOR=0 .venv/bin/python scripts/bench.py --json var/bench-before.json
    .venv/bin/python scripts/bench.py --baseline var/bench-before.json   # draws both curves

Each of Rasa's patches in ``bot/components`` has a switch to measure it against Rasa's own code, in the servers
and in the breakdown alike: ``ORIENTBOT_CACHED_ACTION_VALIDATOR``, ``ORIENTBOT_TRACKER_STORE_TUNING``,
``ORIENTBOT_CACHED_EVENT_TYPES``, ``ORIENTBOT_DIRECT_TF_PREDICT`` (``=0``: Rasa's).

The questions are the askers' messages of the transcripts (``knowledge.load``), not an evaluation set.
Every request has a sender of its own conversation:
  closed loop — C clients send back to back for D seconds, a new conversation every T messages: the
                saturation throughput;
  open loop   — messages arrive at a Poisson rate R msg/s from S sessions (distinct senders) for D seconds,
                whatever the bot's speed (what a live tchat is): p95 against the offered rate, drawn in
                docs/bench-p95.png.
CPU is read from /proc (user + system time of each server's processes over the phase, Sanic's workers added up,
100 % = one core),
memory is the resident set at the end of the phase (psutil is not installed). Traffic goes to 127.0.0.1
only; every loop is bounded in time.

The breakdown ("where a message's time goes") replays messages one at a time through the same model in
this process (``rasa.core.agent``, the endpoints.yml tracker store on a file of its own, the running
action server), with timers around Rasa's own steps: the tracker store's read and write, the NLU parse,
the policies, building the action request, the action server round trip (HTTP, the action server's work),
the check of its response (jsonschema), each in wall time and in CPU time (``time.process_time``: what the
servers spend, steady when other work shares the cores). "Rest of Rasa" is the remainder of
``Agent.handle_message``; the REST channel and Sanic are the 1-client webhook median minus the in-process median.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Optional, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.servers import MODEL, ROOT, Bot, running_bot  # noqa: E402

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
WEBHOOK = "/webhooks/rest/webhook"


# ---------------------------------------------------------------- questions


def transcript_questions() -> List[Tuple[str, str]]:
    """(message, audience) of every asker's message of the transcripts, in a fixed shuffled order."""
    from knowledge.load import load_corpus, transcript_files
    from knowledge.model import ASKER_ROLES

    conversations, _ = load_corpus(transcript_files(ROOT / "transcripts"))
    questions = [(m.text.strip(), m.role) for c in conversations for m in c.messages
                 if m.role in ASKER_ROLES and len(m.text.strip()) >= 3 and not m.rejected]
    random.Random(13).shuffle(questions)
    return questions


# ---------------------------------------------------------------- servers' CPU and memory


def server_pids(bot: Bot) -> Dict[str, List[int]]:
    """The Rasa server's and the action server's process ids, by the port on their command line.

    Several for the Rasa server with ``--workers``: Sanic's workers are forks of ``rasa run`` (same command line).
    """
    ports = {"rasa": bot.url.rsplit(":", 1)[1], "actions": bot.env["ACTION_SERVER_URL"].split(":")[2].split("/")[0]}
    found: Dict[str, List[int]] = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        args = [a.decode(errors="replace") for a in args]
        for kind, port in ports.items():
            if "--port" in args and args[args.index("--port") + 1] == port:
                found[kind].append(int(entry.name))
    return dict(found)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def memory_mb(pid: int) -> Tuple[float, float]:
    """(resident, peak resident) in MB."""
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(status["VmRSS"].split()[0]) / 1024, int(status["VmHWM"].split()[0]) / 1024


def processes_cpu_seconds(pids: List[int]) -> float:
    return sum(cpu_seconds(pid) for pid in pids)


def processes_memory_mb(pids: List[int]) -> Tuple[float, float]:
    """(resident, peak resident) in MB, added over the processes (each Rasa worker loads the model)."""
    sizes = [memory_mb(pid) for pid in pids]
    return sum(rss for rss, _ in sizes), sum(peak for _, peak in sizes)


class Usage:
    """CPU used by each server (all its processes) over a phase."""

    def __init__(self, pids: Dict[str, List[int]]):
        self.pids = pids
        self.start = {k: processes_cpu_seconds(p) for k, p in pids.items()}
        self.started = time.perf_counter()

    def stop(self) -> Dict[str, float]:
        wall = time.perf_counter() - self.started
        out = {}
        for kind, pids in self.pids.items():
            used = processes_cpu_seconds(pids) - self.start[kind]
            out[f"{kind}_cpu_pct"] = round(100 * used / wall, 0)
            out[f"{kind}_cpu_s"] = used
            out[f"{kind}_rss_mb"] = round(processes_memory_mb(pids)[0])
        return out


# ---------------------------------------------------------------- load


async def post(host: str, port: int, body: dict, timeout: float) -> Tuple[int, float]:
    """One HTTP/1.1 POST with Connection: close (as ../shared/eval/load.py); (status, seconds)."""
    started = time.perf_counter()
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    try:
        data = json.dumps(body).encode()
        writer.write(f"POST {WEBHOOK} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode() + data)
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()
    status = int(raw.split(b" ", 2)[1]) if raw.startswith(b"HTTP/") else 0
    return status, time.perf_counter() - started


def percentile(values: List[float], q: float) -> Optional[float]:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def load(url: str, questions, *, mode: str, duration: float, rate: float = 0.0, sessions: int = 600,
               clients: int = 1, turns: int = 5, timeout: float = 30.0, seed: int = 7, tag: str = "") -> dict:
    host, port = url.split("//", 1)[1].split(":")
    rnd = random.Random(seed)
    latencies: List[float] = []
    errors = 0
    run_id = f"bench{tag}{int(time.time() * 1000) % 10**8}"

    async def one(sender: str) -> None:
        nonlocal errors
        text, audience = rnd.choice(questions)
        try:
            status, seconds = await post(host, int(port), {"sender": sender, "message": text,
                                                           "metadata": {"audience": audience}}, timeout)
        except Exception:
            errors += 1
            return
        if status == 200:
            latencies.append(seconds)
        else:
            errors += 1

    started = time.perf_counter()
    if mode == "open":
        tasks, at = [], 0.0
        while True:
            at += rnd.expovariate(rate)
            if at > duration:
                break
            delay = started + at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(f"{run_id}-s{rnd.randrange(sessions)}")))
        await asyncio.gather(*tasks)
    else:
        deadline = started + duration

        async def client(i: int) -> None:
            sent = 0
            while time.perf_counter() < deadline:
                await one(f"{run_id}-c{i}-{sent // turns}")  # a new conversation every `turns` messages
                sent += 1

        await asyncio.gather(*(client(i) for i in range(clients)))
    wall = time.perf_counter() - started
    return {"mode": mode, "offered": rate if mode == "open" else None, "clients": clients if mode == "closed" else None,
            "ok": len(latencies), "errors": errors, "wall_s": round(wall, 1),
            "throughput": round(len(latencies) / wall, 2),
            **{f"p{q}_ms": None if not latencies else round(1000 * percentile(latencies, q / 100)) for q in (50, 95, 99)}}


def measured(bot: Bot, pids, questions, **kwargs) -> dict:
    usage = Usage(pids)
    result = asyncio.run(load(bot.url, questions, **kwargs))
    result.update(usage.stop())
    result["machine_load"] = round(os.getloadavg()[0], 1)  # 1-min load average at the phase's end
    for kind in pids:
        cpu = result.pop(f"{kind}_cpu_s")
        result[f"{kind}_cpu_ms_per_msg"] = round(1000 * cpu / result["ok"], 1) if result["ok"] else None
    return result


# ---------------------------------------------------------------- breakdown


STEPS = (
    ("tracker store: read", "rasa.core.tracker_store", "SQLTrackerStore", "retrieve"),
    ("tracker store: write", "rasa.core.tracker_store", "SQLTrackerStore", "save"),
    ("NLU parse (pipeline)", "rasa.core.processor", "MessageProcessor", "parse_message"),
    ("policies (next action)", "rasa.core.processor", "MessageProcessor", "_predict_next_with_tracker"),
    ("action request body (tracker state, domain)", "rasa.core.actions.action", "RemoteAction", "_action_call_format"),
    ("action server round trip (HTTP + its work)", "rasa.utils.endpoints", "EndpointConfig", "request"),
    ("action response check (jsonschema)", "rasa.core.actions.action", "RemoteAction", "_validate_action_result"),
)


CPU = " (CPU)"  # ``totals[label + CPU]``: the step's CPU time (this process, all its threads), beside its wall time


def _timed(totals: Dict[str, float], label: str, wall: float, cpu: float) -> None:
    totals[label] += time.perf_counter() - wall
    totals[label + CPU] += time.process_time() - cpu


def instrument(totals: Dict[str, float]) -> None:
    """Wraps each step of STEPS (sync or async) with timers (wall, CPU) adding into ``totals``."""
    import functools
    import importlib
    import inspect

    for label, module, cls_name, name in STEPS:
        cls = getattr(importlib.import_module(module), cls_name)
        original = getattr(cls, name)
        if name == "_validate_action_result":  # timed around whichever check is in place: breakdown()
            continue
        if inspect.iscoroutinefunction(original):
            async def timed(*args, _f=original, _label=label, **kwargs):
                started, cpu = time.perf_counter(), time.process_time()
                try:
                    return await _f(*args, **kwargs)
                finally:
                    _timed(totals, _label, started, cpu)
        else:
            def timed(*args, _f=original, _label=label, **kwargs):
                started, cpu = time.perf_counter(), time.process_time()
                try:
                    return _f(*args, **kwargs)
                finally:
                    _timed(totals, _label, started, cpu)
        setattr(cls, name, functools.wraps(original)(timed))


def breakdown(bot: Bot, questions, count: int, work: Path, *, wal: bool = False) -> dict:
    """Mean milliseconds per message of each step, messages replayed one at a time in this process.

    ``wal``: the tracker store's file is prepared as for several workers (``scripts/workers.prepare_tracker``:
    WAL mode, so that ``synchronous=NORMAL`` applies), else it is a new file as endpoints.yml makes it.
    """
    os.environ.update(bot.env)  # the servers' environment (action server URL, its secret if any, databases)
    os.environ["TRACKER_DB"] = str(work / "breakdown-tracker.db")
    if wal:
        from scripts.workers import prepare_tracker

        prepare_tracker("", work / "breakdown-tracker.db")
    import logging
    import warnings

    from rasa.core.actions.action import RemoteAction
    from rasa.core.agent import load_agent
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)
    warnings.filterwarnings("ignore")
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
    from rasa.core.utils import AvailableEndpoints

    from bot.components import validation_patch  # what the Rasa server imports with the model

    totals: Dict[str, float] = defaultdict(float)
    runs = {}

    async def replay() -> None:
        agent = await load_agent(model_path=str(MODEL), endpoints=AvailableEndpoints.read_endpoints(str(ROOT / "endpoints.yml")))
        instrument(totals)
        for variant, method in (("rasa", validation_patch.ORIGINAL), ("cached", validation_patch.validate_action_result)):
            RemoteAction._validate_action_result = method
            instrument_check(totals)
            for text, audience in questions[:5]:  # warm-up
                await agent.handle_message(UserMessage(text, CollectingOutputChannel(), f"warm-{variant}",
                                                       metadata={"audience": audience}, input_channel="rest"))
            totals.clear()
            wall, cpu = [], []
            for i, (text, audience) in enumerate(questions[:count]):
                started, cpu_started = time.perf_counter(), time.process_time()
                await agent.handle_message(UserMessage(text, CollectingOutputChannel(), f"bd-{variant}-{i}",
                                                       metadata={"audience": audience}, input_channel="rest"))
                wall.append(time.perf_counter() - started)
                cpu.append(time.process_time() - cpu_started)
            rest = "rest of Rasa (events, lock, slots, responses)"
            steps = {label: round(1000 * totals[label] / count, 2) for label, *_ in STEPS}
            total = 1000 * statistics.mean(wall)
            steps[rest] = round(total - sum(steps.values()), 2)
            cpu_steps = {label: round(1000 * totals[label + CPU] / count, 2) for label, *_ in STEPS}
            cpu_total = 1000 * statistics.mean(cpu)
            cpu_steps[rest] = round(cpu_total - sum(cpu_steps.values()), 2)
            runs[variant] = {"steps": steps, "mean_ms": round(total, 1), "p50_ms": round(1000 * statistics.median(wall), 1),
                             "cpu_steps": cpu_steps, "cpu_mean_ms": round(cpu_total, 1)}
        RemoteAction._validate_action_result = validation_patch.validate_action_result

    def instrument_check(totals):
        label = STEPS[-1][0]
        inner = RemoteAction._validate_action_result

        def timed(self, result):
            started, cpu = time.perf_counter(), time.process_time()
            try:
                return inner(self, result)
            finally:
                _timed(totals, label, started, cpu)
        RemoteAction._validate_action_result = timed

    asyncio.run(replay())
    return runs


# ---------------------------------------------------------------- report


def table(rows: List[dict], pids) -> str:
    head = ["loop", "offered", "ok", "err", "msg/s", "p50 ms", "p95 ms", "p99 ms", "load"]
    for kind in pids:
        head += [f"{kind} CPU", f"{kind} ms CPU/msg", f"{kind} MB"]
    lines = [head]
    for r in rows:
        loop = f"closed {r['clients']} clients" if r["mode"] == "closed" else "open (Poisson)"
        line = [loop, "-" if r["offered"] is None else f"{r['offered']:g}/s", r["ok"], r["errors"], r["throughput"],
                r["p50_ms"], r["p95_ms"], r["p99_ms"], r.get("machine_load", "-")]
        for kind in pids:
            line += [f"{r[f'{kind}_cpu_pct']:.0f} %", r[f"{kind}_cpu_ms_per_msg"], r[f"{kind}_rss_mb"]]
        lines.append([str(x) for x in line])
    widths = [max(len(row[i]) for row in lines) for i in range(len(head))]
    return "\n".join("  ".join(cell.rjust(w) for cell, w in zip(row, widths)) for row in lines)


def plot(rows: List[dict], path: Path, baseline: Optional[dict], label: str, workers: int = 1) -> None:
    import warnings

    import matplotlib

    warnings.filterwarnings("ignore")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2))
    series = [(label, rows)]
    if baseline:
        series.insert(0, (baseline.get("label", "baseline"), baseline["rows"]))
    for name, data in series:
        points = [(r["offered"], r["p95_ms"] / 1000) for r in data if r["mode"] == "open" and r["p95_ms"] is not None]
        if points:
            ax.plot(*zip(*points), marker="o", label=f"{name}: p95")
        saturation = [r["throughput"] for r in data if r["mode"] == "closed" and (r["clients"] or 0) > 1]
        if saturation:
            ax.axvline(max(saturation), linestyle=":", color=ax.lines[-1].get_color() if ax.lines else None,
                       label=f"{name}: saturation {max(saturation):.1f} msg/s (closed loop)")
    ax.set_yscale("log")
    ax.set_xlabel("offered rate (msg/s, Poisson, distinct senders)")
    ax.set_ylabel("p95 latency (s, log)")
    loads = [r["machine_load"] for _, data in series for r in data if "machine_load" in r]
    layout = "one Rasa process" if workers == 1 else f"{workers} Rasa workers (Redis locks, SQLite WAL)"
    ax.set_title(f"Orientation Bot, REST webhook, {layout}, {os.cpu_count()} cores"
                 + (f"\n(machine load average {min(loads):.1f}–{max(loads):.1f} during the runs)" if loads else ""),
                 fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def accuracy(bot: Bot) -> None:
    scorer = ROOT.parent / "shared" / "eval" / "score.py"
    for dataset in (ROOT / "eval" / "holdout.jsonl", ROOT.parent / "shared" / "eval" / "dev.jsonl"):
        if scorer.exists() and dataset.exists():
            print(f"--- {dataset.relative_to(ROOT.parent)}")
            out = subprocess.run([sys.executable, str(scorer), str(dataset), "--url", bot.url, "--show", "none"],
                                 capture_output=True, text=True).stdout
            print("\n".join(line for line in out.splitlines() if line.split(":")[0] in
                            ("answer_acc", "answer_escalated", "wrong_rate", "urgent_recall", "escalate_recall", "oos_acc")))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rates", default="5,10,20,30,40", help="open-loop offered rates, msg/s (comma-separated; empty: none)")
    parser.add_argument("--duration", type=float, default=15, help="seconds of each open-loop rate")
    parser.add_argument("--sessions", type=int, default=600, help="distinct senders of the open loop")
    parser.add_argument("--clients", default="1,8", help="closed-loop client counts (comma-separated; empty: none)")
    parser.add_argument("--closed-duration", type=float, default=20, help="seconds of each closed loop")
    parser.add_argument("--workers", type=int, default=1,
                        help="Rasa workers (Sanic processes), as `make run` starts them when Redis answers "
                             "(scripts/workers.py: Redis lock store, SQLite tracker store in WAL mode); 1: one process "
                             "on endpoints.yml")
    parser.add_argument("--turns", type=int, default=5, help="closed loop: messages of each conversation (sender)")
    parser.add_argument("--timeout", type=float, default=30, help="a request slower than this is an error")
    parser.add_argument("--breakdown", type=int, default=60, help="messages replayed in-process for the breakdown (0: none)")
    parser.add_argument("--no-accuracy", action="store_true", help="skip the scores on eval/ and ../shared/eval/dev.jsonl")
    parser.add_argument("--plot", default=str(ROOT / "docs" / "bench-p95.png"), help="p95 against offered rate ('': none)")
    parser.add_argument("--baseline", help="a previous run's --json, drawn beside this one")
    parser.add_argument("--label", default="", help="this run's name in the plot and the JSON")
    parser.add_argument("--json", help="write the figures there")
    args = parser.parse_args(argv)
    rates = [float(x) for x in args.rates.split(",") if x.strip()]
    clients = [int(x) for x in args.clients.split(",") if x.strip()]
    patched = os.environ.get("ORIENTBOT_CACHED_ACTION_VALIDATOR", "1").strip().lower() not in ("0", "false", "no", "off")
    label = args.label or ("cached validator" if patched else "Rasa's validator")

    questions = transcript_questions()
    print(f"model: {MODEL.stat().st_size / 1e6:.1f} MB; {len(questions)} askers' messages from transcripts/; "
          f"action response check: {label}")
    rows: List[dict] = []
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        started = time.perf_counter()
        with running_bot(work, workers=args.workers) as bot:
            pids = server_pids(bot)
            print(f"servers ready in {time.perf_counter() - started:.1f} s; Rasa: {args.workers} worker(s), "
                  f"{len(pids['rasa'])} process(es)")
            asyncio.run(load(bot.url, questions, mode="closed", clients=2, duration=5, tag="warm"))
            for count in clients:
                rows.append(measured(bot, pids, questions, mode="closed", clients=count, turns=args.turns,
                                     duration=args.closed_duration, timeout=args.timeout))
                print(json.dumps(rows[-1]), flush=True)
            for rate in rates:
                rows.append(measured(bot, pids, questions, mode="open", rate=rate, sessions=args.sessions,
                                     duration=args.duration, timeout=args.timeout, seed=int(rate * 10)))
                print(json.dumps(rows[-1]), flush=True)
                time.sleep(2)
            peaks = {kind: round(processes_memory_mb(p)[1]) for kind, p in pids.items()}
            steps = breakdown(bot, questions, args.breakdown, work, wal=args.workers > 1) if args.breakdown else {}
            if not args.no_accuracy:
                accuracy(bot)
    print()
    print(table(rows, pids))
    print(f"load: the machine's 1-min load average at the end of each loop ({load_before:.1f} before the first) on "
          f"{os.cpu_count()} cores; above ~1.5 other processes were competing and the latencies are noisy: "
          "the servers' CPU per message is the steadier figure")
    print("peak resident memory: " + ", ".join(f"{k} {v} MB" for k, v in peaks.items()))
    if steps:
        single = next((r for r in rows if r["mode"] == "closed" and r["clients"] == 1), None)
        print(f"\nWhere a message's time goes: {args.breakdown} messages one at a time, in-process "
              f"(rasa.core.agent, same model and endpoints.yml, the running action server), mean ms per message, "
              f"wall and CPU (this process's CPU time: the steady figure on a busy machine; the action server's "
              f"own work is in its CPU per message above, not here):")
        names = list(next(iter(steps.values()))["steps"])
        width = max(map(len, names))
        print(f"  {'':{width}}  {'Rasa validator':>15}  {'cached validator':>16}  {'Rasa val. CPU':>13}  {'cached CPU':>10}")
        for name in names:
            print(f"  {name:{width}}  {steps['rasa']['steps'][name]:>15}  {steps['cached']['steps'][name]:>16}"
                  f"  {steps['rasa']['cpu_steps'][name]:>13}  {steps['cached']['cpu_steps'][name]:>10}")
        print(f"  {'= Agent.handle_message, mean (p50)':{width}}  "
              f"{steps['rasa']['mean_ms']:>7} ({steps['rasa']['p50_ms']})  {steps['cached']['mean_ms']:>8} ({steps['cached']['p50_ms']})"
              f"  {steps['rasa']['cpu_mean_ms']:>13}  {steps['cached']['cpu_mean_ms']:>10}")
        if single and single["p50_ms"] is not None:
            current = steps["cached" if patched else "rasa"]["p50_ms"]
            print(f"  REST channel + Sanic + HTTP client, roughly: webhook p50 {single['p50_ms']} ms (1 client) "
                  f"- in-process p50 {current} ms = {single['p50_ms'] - current:.0f} ms (two runs, a few ms of noise)")
    if args.plot:
        baseline = json.loads(Path(args.baseline).read_text()) if args.baseline else None
        plot(rows, Path(args.plot), baseline, label, args.workers)
        print(f"\np95 against offered rate: {args.plot}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"label": label, "rows": rows, "breakdown": steps, "peaks": peaks}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
