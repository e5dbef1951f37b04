"""The knowledge pipeline at scale (issue 13): build time and peak memory per stage against corpus size.

Owns: this script, its test (tests/knowledge/test_bench_pipeline.py) and docs/pipeline-scale.png.

    PYTHONPATH=. .venv/bin/python scripts/bench_pipeline.py                       # 2,000, 20,000, 200,000 messages
    PYTHONPATH=. .venv/bin/python scripts/bench_pipeline.py --sizes 2000,20000 --timeout 600 --json var/scale.json

Corpora are made by ``generate`` from the sample in transcripts/: conversations drawn with replacement, given
new ids, their participants renamed (display names and the names in the messages, consistently), the askers'
messages perturbed (accents dropped, a typo, texting abbreviations, a greeting added or removed); the
counsellors' answers are kept as they are (they carry the facts). Each corpus is written as JSON Lines in a
temporary directory and read back by the real loader, so loading is measured too.

Each size runs in a fresh subprocess (``--worker``) that runs ``knowledge.pipeline.build_knowledge`` itself, each
of its stages timed through its ``stage`` hook (load, anonymise with spaCy's NER, extract, cluster, entries,
render), then ``store`` into a temporary
SQLite file and ``export`` into a temporary directory: nothing shared is written. Per stage it records the
wall time, the peak resident set during the stage (a thread samples /proc/self/statm every 20 ms) and the
process high-water mark (``getrusage(RUSAGE_SELF).ru_maxrss``). A size that exceeds ``--timeout`` or fails
is reported with the stage it was in. The worker's address space is capped (``--memory-limit``) so that an
all-pairs matrix fails with MemoryError instead of calling the OOM killer on the machine's other jobs.

Not measured: the cross-validation and risk model (``python -m knowledge build`` runs them after
``build_knowledge``), and Rasa training: instead the KB entries, variants and generated training examples are
reported per size, which is what training time and model size grow with.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from knowledge.load import load_corpus, transcript_files  # noqa: E402
from knowledge.model import ASKER_ROLES, Conversation, Message  # noqa: E402
from knowledge.pipeline import STAGES as PIPELINE_STAGES  # noqa: E402
from orientbot.normalise import TEXTING  # noqa: E402

DEFAULT_SIZES = (2_000, 20_000, 200_000)
PLOT = ROOT / "docs" / "pipeline-scale.png"
RENAMED_ROLES = ASKER_ROLES + ("conseiller",)
SURNAMES = (
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau", "Simon",
    "Laurent", "Lefebvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier", "Morel",
    "Girard", "Andre", "Mercier", "Dupont", "Lambert", "Bonnet", "Francois", "Martinez", "Legrand", "Garnier",
    "Faure", "Rousseau", "Blanc", "Guerin", "Muller", "Henry", "Roussel", "Nicolas", "Perrin", "Morin", "Mathieu",
)
_GREETING = re.compile(r"^\s*(?:bonjour|bonsoir|salut|slt|bjr|bsr|coucou|hello)\b[\s,!.]*", re.I)
_GREETINGS = ("Bonjour, ", "bonjour ", "Bonsoir ", "slt ", "bjr ", "Salut, ")
_WORD = re.compile(r"[^\W\d_]{4,}")


# ---------------------------------------------------------------- generator


def _abbreviations() -> Dict[str, List[str]]:
    """Expansion -> the texting abbreviations of it (the inverse of ``orientbot.normalise.TEXTING``)."""
    inverse: Dict[str, List[str]] = {}
    for short, long in TEXTING.items():
        if short.isalnum() and len(short) >= 2 and short != long:
            inverse.setdefault(long, []).append(short)
    return inverse


_ABBREVIATIONS = _abbreviations()
_EXPANSION = re.compile(r"\b(" + "|".join(re.escape(e) for e in sorted(_ABBREVIATIONS, key=len, reverse=True)) + r")\b", re.I)


def _first_names() -> List[str]:
    """The anonymiser's list of common first names (its first line is a comment)."""
    text = (ROOT / "knowledge" / "data" / "prenoms.txt").read_text(encoding="utf-8")
    return sorted(set(text.split("\n", 1)[1].split()))


def drop_accents(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


def typo(text: str, rng: random.Random) -> str:
    """Swap two neighbouring letters, or drop one, in a word of four letters or more."""
    words = list(_WORD.finditer(text))
    if not words:
        return text
    word = rng.choice(words)
    i = rng.randrange(word.start(), word.end() - 1)
    if rng.random() < 0.5 and text[i] != text[i + 1]:
        return text[:i] + text[i + 1] + text[i] + text[i + 2:]
    return text[:i] + text[i + 1:]


def abbreviate(text: str, rng: random.Random) -> str:
    """Every phrase texting has a short form of ("je suis", "combien", "rendez vous") written short."""
    return _EXPANSION.sub(lambda m: rng.choice(_ABBREVIATIONS[m.group(1).lower()]), text)


def toggle_greeting(text: str, rng: random.Random) -> str:
    """Remove the greeting the message opens with, or add one (a message that is only a greeting gets another)."""
    rest = _GREETING.sub("", text, count=1)
    if rest != text and rest.strip():
        return rest[:1].upper() + rest[1:]
    return rng.choice(_GREETINGS) + (text[:1].lower() + text[1:] if rest == text else rest)


def perturb(text: str, rng: random.Random) -> str:
    """One to three perturbations; the result always differs from ``text`` (a greeting is added if need be)."""
    operations = [lambda t: drop_accents(t), lambda t: typo(t, rng), lambda t: abbreviate(t, rng),
                  lambda t: toggle_greeting(t, rng)]
    perturbed = text
    for operation in rng.sample(operations, rng.randint(1, 3)):
        perturbed = operation(perturbed)
    return perturbed if perturbed != text else toggle_greeting(text, rng)


def _renaming(conversation: Conversation, rng: random.Random, first_names: Sequence[str]) -> Dict[str, str]:
    """Old name word -> new one, for every asker and counsellor ("Karine Dubois, psy-EN": Karine, Dubois)."""
    mapping: Dict[str, str] = {}
    for participant in conversation.participants:
        if participant.role not in RENAMED_ROLES:
            continue
        name = re.split(r"[,(]", participant.display_name, maxsplit=1)[0]
        words = [w.strip(".-'’") for w in name.split()]
        words = [w for w in words if len(w) >= 3 and w[:1].isupper() and w not in ("Mme", "Madame", "Monsieur")]
        for index, word in enumerate(words):
            mapping.setdefault(word, rng.choice(first_names) if index == 0 else rng.choice(SURNAMES))
    return mapping


def _renamed(text: str, pattern: Optional[re.Pattern], mapping: Dict[str, str]) -> str:
    return pattern.sub(lambda m: mapping[m.group(0)], text) if pattern else text


def _message_record(message: Message, text: str) -> Dict[str, Any]:
    """A message in the transcripts' JSON Lines format (transcripts/FORMAT.md)."""
    record: Dict[str, Any] = {"id": message.id, "at": message.at, "from": message.author, "text": text}
    optional = {"reply_to": message.reply_to, "votes": message.votes or None, "corrects": message.corrects,
                "validated": message.validated or None, "event": message.event,
                "moderation": "rejected" if message.rejected else None}
    record.update({key: value for key, value in optional.items() if value is not None})
    return record


def recombined(conversation: Conversation, copy: int, rng: random.Random, rate: float,
               first_names: Sequence[str]) -> Dict[str, Any]:
    """One new conversation record from ``conversation``: new id, renamed participants, perturbed askers."""
    mapping = _renaming(conversation, rng, first_names)
    pattern = re.compile(r"\b(" + "|".join(re.escape(w) for w in sorted(mapping, key=len, reverse=True)) + r")\b") if mapping else None
    messages = []
    for message in conversation.messages:
        text = _renamed(message.text, pattern, mapping)
        if message.role in ASKER_ROLES and text.strip() and rng.random() < rate:
            text = perturb(text, rng)
        messages.append(_message_record(message, text))
    participants = [{"id": p.id, "role": p.role, "display_name": _renamed(p.display_name, pattern, mapping)}
                    for p in conversation.participants]
    return {"conversation_id": f"{conversation.id}~{copy}", "kind": conversation.kind,
            "started_at": conversation.started_at, "title": conversation.title,
            "participants": participants, "messages": messages}


def generate(sample: Sequence[Conversation], messages: int, *, seed: int = 13, rate: float = 0.6) -> List[Dict[str, Any]]:
    """Conversation records totalling about ``messages`` messages (the last one may go a little over).

    Deterministic for a seed; ``rate`` is the share of the askers' messages perturbed.
    """
    rng = random.Random(seed)
    first_names = _first_names()
    copies: Counter = Counter()
    records: List[Dict[str, Any]] = []
    total = 0
    while total < messages:
        source = rng.choice(sample)
        copies[source.id] += 1
        record = recombined(source, copies[source.id], rng, rate, first_names)
        records.append(record)
        total += len(record["messages"])
    return records


def write_corpus(records: Sequence[Dict[str, Any]], directory: Path) -> Path:
    path = directory / "generated.jsonl"
    with open(path, "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


def sample_conversations() -> List[Conversation]:
    conversations, _ = load_corpus(transcript_files(ROOT / "transcripts"))
    return conversations


# ---------------------------------------------------------------- worker (one size, one process)


def _rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


class RssSampler:
    """Peak resident set since the last ``reset``, sampled by a daemon thread."""

    def __init__(self, interval: float = 0.02) -> None:
        self.peak = _rss_mb()
        self._interval = interval
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while True:
            self.peak = max(self.peak, _rss_mb())
            time.sleep(self._interval)

    def reset(self) -> None:
        self.peak = _rss_mb()


def _emit(events, **fields) -> None:
    events.write(json.dumps(fields) + "\n")
    events.flush()


@contextmanager
def _stage(name: str, events, sampler: RssSampler) -> Iterator[None]:
    _emit(events, event="start", stage=name)
    sampler.reset()
    started = time.perf_counter()
    yield
    seconds = time.perf_counter() - started
    _emit(events, event="done", stage=name, seconds=round(seconds, 3), peak_rss_mb=round(max(sampler.peak, _rss_mb()), 1),
          rss_mb=round(_rss_mb(), 1), maxrss_mb=round(_maxrss_mb(), 1))


def _training_examples(files: Dict[str, str]) -> int:
    return sum(1 for content in files.values() for line in content.splitlines() if line.startswith("    - "))


def run_worker(size: int, seed: int, rate: float, events_path: Path, memory_limit_gb: float) -> None:
    """Every stage on a generated corpus of ``size`` messages; one JSON line per event in ``events_path``."""
    if memory_limit_gb > 0:
        limit = int(memory_limit_gb * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from knowledge.anonymise import spacy_ner
    from knowledge.export import write
    from knowledge.pipeline import build_knowledge, store
    from orientbot.settings import load_settings

    sampler = RssSampler()
    with open(events_path, "a", encoding="utf-8") as events, tempfile.TemporaryDirectory(prefix="bench-pipeline-") as tmp:
        directory = Path(tmp)
        with _stage("generate", events, sampler):
            path = write_corpus(generate(sample_conversations(), size, seed=seed, rate=rate), directory)
        with _stage("ner_model", events, sampler):
            ner = spacy_ner(load_settings().spacy_model)
        # The pipeline itself, each of its stages timed, then its two writes.
        result = build_knowledge([path], ner=ner, stage=lambda name: _stage(name, events, sampler))
        entries, files = result.entries, result.files
        _emit(events, event="count", conversations=len(result.conversations), messages=result.message_count,
              load_errors=len(result.load_errors), pairs=len(result.pairs), clusters=len(result.clusters.clusters),
              entries=len(entries), active_entries=sum(e.status == "active" for e in entries),
              variants=sum(len(e.variants) for e in entries), training_examples=_training_examples(files),
              training_bytes=sum(len(c.encode()) for c in files.values()))
        with _stage("store", events, sampler):
            store(entries, f"sqlite:///{directory / 'kb.sqlite'}")
        with _stage("export", events, sampler):
            write(files, directory / "generated")
        _emit(events, event="end", maxrss_mb=round(_maxrss_mb(), 1))


# ---------------------------------------------------------------- driver


def _read_events(path: Path) -> Dict[str, Any]:
    result: Dict[str, Any] = {"stages": {}, "counts": {}, "current": None, "finished": False}
    if not path.exists():
        return result
    for line in path.read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        kind = event.pop("event")
        if kind == "start":
            result["current"] = event["stage"]
        elif kind == "done":
            result["stages"][event.pop("stage")] = event
            result["current"] = None
        elif kind == "count":
            result["counts"].update(event)
        elif kind == "end":
            result["finished"] = True
            result["maxrss_mb"] = event["maxrss_mb"]
    return result


def run_size(size: int, *, seed: int, rate: float, timeout: float, memory_limit_gb: float) -> Dict[str, Any]:
    """One size in a fresh interpreter; a timeout or a crash is reported with the stage it stopped in."""
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-events-") as tmp:
        events = Path(tmp) / "events.jsonl"
        command = [sys.executable, str(Path(__file__).resolve()), "--worker", str(size), "--seed", str(seed),
                   "--rate", str(rate), "--events", str(events), "--memory-limit", str(memory_limit_gb)]
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   start_new_session=True)
        status = "ok"
        try:
            _, stderr = process.communicate(timeout=timeout)
            if process.returncode != 0:
                status = f"failed (exit {process.returncode}): " + (stderr.strip().splitlines() or ["?"])[-1][:200]
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)  # the worker's own session: it and its children only
            process.communicate()
            status = f"timeout after {timeout:.0f} s"
        result = _read_events(events)
    result.update(size=size, status=status, wall_seconds=round(time.perf_counter() - started, 1))
    if status != "ok":
        result["status"] = f"{status} (in stage {result['current'] or 'after the last one'})"
    return result


def _nlogn(n: float) -> float:
    return n * math.log(n)


def growth_lines(results: Sequence[Dict[str, Any]], stages: Sequence[str]) -> List[str]:
    """Per stage, time ratio between consecutive sizes against n log n's; flags the stages growing faster."""
    lines = []
    for small, large in zip(results, results[1:]):
        n1, n2 = small["counts"].get("messages", small["size"]), large["counts"].get("messages", large["size"])
        reference = _nlogn(n2) / _nlogn(n1)
        lines.append(f"{n1:,} -> {n2:,} messages (x{n2 / n1:.1f}): n log n grows x{reference:.1f}")
        for stage in stages:
            a, b = small["stages"].get(stage), large["stages"].get(stage)
            if not a or not b:
                lines.append(f"  {stage:10} not measured at both sizes")
                continue
            ratio = b["seconds"] / max(a["seconds"], 1e-3)
            if b["seconds"] < 0.5:
                flag = "(too short to judge)"
            elif ratio > 1.5 * reference:
                flag = "FASTER THAN n log n"
            elif ratio > reference:
                flag = "slightly above n log n"
            else:
                flag = "ok"
            lines.append(f"  {stage:10} x{ratio:7.1f}  {flag}")
    return lines


def table_lines(results: Sequence[Dict[str, Any]], stages: Sequence[str]) -> List[str]:
    header = f"{'stage':18}" + "".join(f"{r['counts'].get('messages', r['size']):>24,}" for r in results)
    lines = [header, f"{'':18}" + "".join(f"{'s / peak RSS MB':>24}" for _ in results)]
    for stage in stages:
        cells = []
        for result in results:
            done = result["stages"].get(stage)
            cells.append(f"{done['seconds']:>12.2f} / {done['peak_rss_mb']:>7.0f}" if done
                         else "(running: killed)" if result["current"] == stage else "-")
        lines.append(f"{stage:18}" + "".join(f"{c:>24}" for c in cells))
    total = [sum(s["seconds"] for name, s in r["stages"].items() if name in PIPELINE_STAGES) for r in results]
    lines.append(f"{'pipeline':18}" + "".join(f"{t:>24.1f}" for t in total))
    lines.append(f"{'max RSS MB':18}" + "".join(f"{r.get('maxrss_mb', max([s['maxrss_mb'] for s in r['stages'].values()] or [0])):>24.0f}"
                                              for r in results))
    for key in ("conversations", "load_errors", "pairs", "clusters", "entries", "active_entries", "variants",
                "training_examples", "training_bytes"):
        lines.append(f"{key:18}" + "".join(f"{r['counts'].get(key, '-'):>24}" for r in results))
    lines.append(f"{'status':18}" + "".join(f"{r['status'][:23]:>24}" for r in results))
    return lines


def plot(results: Sequence[Dict[str, Any]], stages: Sequence[str], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (times, memory) = plt.subplots(1, 2, figsize=(13, 5.2))
    for stage in stages:
        points = [(r["counts"].get("messages", r["size"]), r["stages"][stage]["seconds"]) for r in results if stage in r["stages"]]
        if points:
            times.plot(*zip(*points), marker="o", label=stage)
    totals = [(r["counts"].get("messages", r["size"]), sum(s["seconds"] for n, s in r["stages"].items() if n in PIPELINE_STAGES))
              for r in results if r["status"] == "ok"]
    if totals:
        times.plot(*zip(*totals), marker="s", color="black", linewidth=2, label="pipeline total")
        n0, t0 = totals[0]
        xs = [r["counts"].get("messages", r["size"]) for r in results]
        times.plot(xs, [t0 * _nlogn(x) / _nlogn(n0) for x in xs], "k--", alpha=0.5, label="n log n (from the total)")
    for result in results:
        if result["status"] != "ok":
            times.annotate(f"{result['size']:,}: {result['status'][:40]}", (result["size"], 1), fontsize=7, color="red")
    times.set(xscale="log", yscale="log", xlabel="messages in the corpus", ylabel="seconds", title="time per stage")
    times.legend(fontsize=7)
    times.grid(True, which="both", alpha=0.3)
    for stage in stages:
        points = [(r["counts"].get("messages", r["size"]), r["stages"][stage]["peak_rss_mb"]) for r in results if stage in r["stages"]]
        if points:
            memory.plot(*zip(*points), marker="o", label=stage)
    memory.set(xscale="log", xlabel="messages in the corpus", ylabel="MB",
               title="peak resident set during each stage (whole process)")
    memory.legend(fontsize=7)
    memory.grid(True, which="both", alpha=0.3)
    figure.suptitle(title)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _load() -> str:
    return _as_text(os.getloadavg())


def _as_text(load: Any) -> str:
    return " ".join(f"{x:.2f}" for x in load) if isinstance(load, (list, tuple)) else str(load)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)), help="messages per corpus, comma-separated")
    parser.add_argument("--timeout", type=float, default=1500, help="seconds per size")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--rate", type=float, default=0.6, help="share of the askers' messages perturbed")
    parser.add_argument("--memory-limit", type=float, default=16, metavar="GB", help="address-space cap of a worker (0: none)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--reuse", type=Path, metavar="JSON",
                        help="an earlier --json: its sizes not in --sizes join the table and the plot (to re-run one size)")
    parser.add_argument("--plot", type=Path, default=PLOT)
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--events", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        run_worker(args.worker, args.seed, args.rate, args.events, args.memory_limit)
        return 0

    sizes = [int(s) for s in args.sizes.split(",") if s]
    machine = f"{os.cpu_count()} cores, load average {_load()} at start"
    print(f"[bench-pipeline] {machine}", flush=True)
    results = []
    for size in sizes:
        result = run_size(size, seed=args.seed, rate=args.rate, timeout=args.timeout, memory_limit_gb=args.memory_limit)
        result["load_average_after"] = _load()
        print(f"[bench-pipeline] {size:,} messages: {result['status']} in {result['wall_seconds']} s "
              f"(load average {result['load_average_after']})", flush=True)
        results.append(result)
    if args.reuse:
        earlier = json.loads(args.reuse.read_text(encoding="utf-8"))
        results += [r for r in earlier["results"] if r["size"] not in sizes]
        results.sort(key=lambda r: r["size"])
        reused = ", ".join(f"{r['size']:,}" for r in earlier["results"] if r["size"] not in sizes)
        machine = earlier["machine"] if not sizes else f"{machine}; {reused} messages from an earlier run"
    stages = ["generate", "ner_model", *PIPELINE_STAGES]
    for line in table_lines(results, stages) + [""] + growth_lines(results, PIPELINE_STAGES):
        print(line)
    after = "; ".join(f"{r['size']:,}: {_as_text(r.get('load_average_after', '?'))}" for r in results)
    plot(results, PIPELINE_STAGES, args.plot, f"Knowledge pipeline at scale ({machine})\nload average after each size: {after}")
    print(f"[bench-pipeline] plot: {args.plot}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"machine": machine, "results": results}, indent=1), encoding="utf-8")
    return 0 if all(r["status"] == "ok" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
