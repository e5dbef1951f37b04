"""Cross-validation of the answer policy with Rasa's NLU replayed too (`make eval-nlu`).

Owns what ``knowledge.crossval`` leaves out: the NLU intent.  For each fold of ``crossval.make_folds``
(draw 0, the draw `make eval` reports in full) it writes the Rasa training data of that fold only (the
hand-written ``bot/data/nlu/*.yml``, and what ``knowledge.export.render`` writes for the fold's training
entries and the personal-case, distress and out-of-scope examples mined from its training conversations:
no question of a test conversation), trains an NLU-only model on it with the project's ``config.yml``,
parses the fold's test questions with that model, and reads each parse as the served actions do
(``bot.actions.conversation.message_of_parse``).  Then it replays ``AnswerPolicy.decide`` with the same folds,
detectors and nested risk models as `make eval` (``crossval.replay``), once without and once with the
intents, and reports both side by side, what the intents changed, and what the NLU costs.

A message whose intent one of Rasa's rules answers with a response of its own (greet, thanks, goodbye,
bot_challenge: ``bot/data/rules``) never reaches the policy in the served bot: the replay counts it as
that reply (neither answered nor handed over).  Conversations are replayed one question at a time, as in
`make eval`: no "did you mean…?" is pending, and no button is clicked.

The models are trained in a temporary directory (``--work DIR`` keeps it: a fold whose training data and
test questions did not change is then parsed again from its record, not retrained).  Nothing in
``bot/data/generated/`` or ``models/`` is touched.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import yaml

from bot.actions.conversation import message_of_parse
from knowledge.crossval import (
    DISTRESS,
    FAQ,
    KINDS,
    MINED_SOURCES,
    OUT_OF_SCOPE,
    PERSONAL,
    UNKNOWN,
    Item,
    Replay,
    headline,
    items_of,
    judge,
    make_folds,
    replay,
)
from knowledge.export import render
from orientbot.kb import KnowledgeEntry
from orientbot.policy import DECLINE, URGENT, Detectors, Message, Outcome, PatternsOnly
from orientbot.settings import PROJECT_ROOT, GateSettings, RetrievalSettings

CONFIG = PROJECT_ROOT / "config.yml"
DOMAIN = PROJECT_ROOT / "domain.yml"
HAND_WRITTEN = PROJECT_ROOT / "bot" / "data" / "nlu"
RULES = PROJECT_ROOT / "bot" / "data" / "rules"
DRAW = 0
# The actions that carry out the answer policy (bot/actions/faq.py, handoff.py): any other rule's reply is Rasa's own.
POLICY_ACTIONS = ("action_answer", "action_handoff")
RULE = "rasa_rule"  # an outcome the policy never decided: a rule answered the intent with a response
# What the parse keeps for the policy (and the record): the rest (response selector, text) is not read.
PARSE_KEYS = ("intent", "intent_ranking", "entities")
SHOWN = 40  # changed decisions listed in the report, question by question
MINED_INTENTS = {MINED_SOURCES[kind]: kind for kind in (PERSONAL, DISTRESS, OUT_OF_SCOPE)}


# --- the pure parts: each fold's training data, a parse read as the policy's message -----------------------


@dataclass(frozen=True)
class FoldData:
    index: int
    test: List[int]  # the items this fold's model parses
    entry_ids: frozenset  # the entries in this fold's KB
    files: Dict[str, str]  # the generated files, as `python -m knowledge build` would write them for this fold


def fold_files(entries: Sequence[KnowledgeEntry], mined: Mapping[str, Sequence[str]]) -> Dict[str, str]:
    """What ``knowledge.export.render`` writes for these entries and these mined messages (``crossval.mined_messages``)."""
    return render(list(entries), {intent: list(mined.get(source, ())) for source, intent in MINED_INTENTS.items()})


def fold_data(items: Sequence[Item], entries: Sequence[KnowledgeEntry], *, draw: int = DRAW,
              weights: RetrievalSettings = RetrievalSettings()) -> List[FoldData]:
    """Each fold's Rasa training data, from the very folds ``crossval.replay`` replays (``crossval.make_folds``).

    ``make_folds`` hands each fold's detectors what its training conversations mined: that is what Rasa learns too.
    """
    mined: List[Mapping[str, Sequence[str]]] = []

    def capture(messages: Mapping[str, Sequence[str]]) -> Detectors:
        mined.append(messages)
        return PatternsOnly()

    folds = make_folds(items, entries, capture, draw=draw, weights=weights)
    return [FoldData(k, list(fold.test), frozenset(fold.entries), fold_files(list(fold.entries.values()), mined[k]))
            for k, fold in enumerate(folds)]


def rule_replies(rules_dir: Path = RULES) -> Dict[str, str]:
    """Intent -> the action a Rasa rule answers it with, for the rules that do not run the answer policy."""
    replies = {}
    for path in sorted(Path(rules_dir).glob("*.yml")):
        for rule in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("rules") or []:
            steps = rule.get("steps") or []
            if len(steps) == 2 and "intent" in steps[0] and "action" in steps[1] and not rule.get("condition"):
                if steps[1]["action"] not in POLICY_ACTIONS:
                    replies[steps[0]["intent"]] = steps[1]["action"]
    return replies


def message_of(item: Item, parse: Mapping[str, Any]) -> Message:
    """What the served bot's policy reads of this question, given Rasa's parse of it."""
    return message_of_parse(item.question, dict(parse), audience=item.audience, previous=item.previous)


def rule_outcome(parse: Mapping[str, Any], replies: Mapping[str, str]) -> Optional[Outcome]:
    """The reply a Rasa rule gives instead of the policy (the parse's own intent, as Rasa's RulePolicy reads it)."""
    name = (parse.get("intent") or {}).get("name") or ""
    return Outcome(RULE, reason=f"rule {replies[name]}") if name in replies else None


# --- training and parsing (Rasa) ------------------------------------------------------------------------------


def write_training_data(files: Mapping[str, str], directory: Path) -> Tuple[Path, Path]:
    """The fold's data directory (hand-written NLU + generated files) and domain directory (with its responses)."""
    data, domain = directory / "data", directory / "domain"
    for path in (data, domain):
        shutil.rmtree(path, ignore_errors=True)
    (data / "nlu").mkdir(parents=True)
    (data / "generated").mkdir(parents=True)
    domain.mkdir(parents=True)
    for source in sorted(HAND_WRITTEN.glob("*.yml")):
        shutil.copyfile(source, data / "nlu" / source.name)
    for name, content in files.items():
        (data / "generated" / name).write_text(content, encoding="utf-8")
    shutil.copyfile(DOMAIN, domain / "domain.yml")
    (domain / "faq_responses.yml").write_text(files["faq_responses.yml"], encoding="utf-8")
    return data, domain


def _fingerprint(files: Mapping[str, str], questions: Sequence[Tuple[str, str]]) -> str:
    digest = hashlib.sha256()
    sources = [CONFIG, DOMAIN, *sorted(HAND_WRITTEN.glob("*.yml")), *sorted(PROJECT_ROOT.glob("bot/components/*.py")),
               PROJECT_ROOT / "orientbot" / "normalise.py"]
    for path in sources:
        digest.update(path.read_bytes())
    for name in sorted(files):
        digest.update(name.encode() + files[name].encode("utf-8"))
    digest.update(json.dumps(list(questions), ensure_ascii=False).encode("utf-8"))
    return digest.hexdigest()


def _quiet_rasa(cache: Path) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ["RASA_TELEMETRY_ENABLED"] = "false"
    os.environ["RASA_CACHE_DIRECTORY"] = str(cache)  # not the project's .rasa/ (`make train` uses it)
    os.environ["RASA_MAX_CACHE_SIZE"] = "0"  # no fold shares a component's training data with another


def train_and_parse(data: FoldData, items: Sequence[Item], work: Path, log=print) -> Dict[str, Any]:
    """Trains the fold's NLU model and parses its test questions; the record (parses and costs) is kept in ``work``."""
    questions = [(items[i].question, items[i].audience) for i in data.test]
    key = _fingerprint(data.files, questions)
    record_path = work / f"fold{data.index}.json"
    if record_path.exists():
        record = json.loads(record_path.read_text(encoding="utf-8"))
        if record.get("key") == key:
            log(f"fold {data.index}: reusing {record_path} (same training data and questions)")
            return {**record, "reused": True}
    _quiet_rasa(work / "cache")
    import logging

    from rasa.model_training import train_nlu
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)
    fold_dir = work / f"fold{data.index}"
    data_dir, domain_dir = write_training_data(data.files, fold_dir)
    log(f"fold {data.index}: training the NLU model ({len(data.entry_ids)} entries)…")
    wall, cpu = time.perf_counter(), time.process_time()
    model = train_nlu(str(CONFIG), str(data_dir), str(fold_dir / "models"), fixed_model_name="nlu",
                      domain=str(domain_dir))
    train_seconds, train_cpu = time.perf_counter() - wall, time.process_time() - cpu
    if not model:
        raise RuntimeError(f"fold {data.index}: Rasa trained no model from {data_dir}")
    parses, parse_seconds = asyncio.run(_parse_all(Path(model), questions))
    log(f"fold {data.index}: trained in {train_seconds:.0f} s; {len(parses)} questions parsed in {parse_seconds:.1f} s")
    record = {"key": key, "fold": data.index, "train_seconds": round(train_seconds, 1),
              "train_cpu_seconds": round(train_cpu, 1), "parse_seconds": round(parse_seconds, 3),
              "model_mb": round(Path(model).stat().st_size / 2**20, 1), "questions": [q for q, _ in questions],
              "parses": parses}
    work.mkdir(parents=True, exist_ok=True)
    record_path.write_text(json.dumps(record, ensure_ascii=False, default=float), encoding="utf-8")
    return record


async def _parse_all(model: Path, questions: Sequence[Tuple[str, str]]) -> Tuple[List[Dict[str, Any]], float]:
    """Rasa's parse of each question, as the channel sends it (with the audience); one model load, one loop."""
    from rasa.core.agent import Agent
    from rasa.core.channels.channel import UserMessage

    agent = Agent.load(str(model))
    started = time.perf_counter()
    parses = []
    for text, audience in questions:
        parse = await agent.processor.parse_message(UserMessage(text, metadata={"audience": audience}))
        parses.append({key: parse.get(key) for key in PARSE_KEYS})
    return parses, time.perf_counter() - started


# --- the two replays and the report ---------------------------------------------------------------------------


@dataclass
class Comparison:
    without: Replay
    with_nlu: Replay
    messages: Dict[int, Message]
    records: List[Dict[str, Any]]
    folds: List[FoldData]


def with_rules(result: Replay, parses: Mapping[int, Mapping[str, Any]], replies: Mapping[str, str]) -> Replay:
    """The replay with the messages a Rasa rule answers itself given that reply instead of the policy's."""
    outcomes = list(result.outcomes)
    for i, parse in parses.items():
        outcomes[i] = rule_outcome(parse, replies) or outcomes[i]
    return replace(result, outcomes=outcomes)


def compare(items: Sequence[Item], entries: Sequence[KnowledgeEntry], settings: GateSettings,
            detectors_for: Callable, *, budget: float, weights: RetrievalSettings, work: Path,
            log=print) -> Comparison:
    folds = fold_data(items, entries, draw=DRAW, weights=weights)
    records = [train_and_parse(data, items, work, log=log) for data in folds]
    parses = {i: parse for data, record in zip(folds, records) for i, parse in zip(data.test, record["parses"])}
    messages = {i: message_of(items[i], parse) for i, parse in parses.items()}
    log("replaying the policy without, then with the intents…")
    without = replay(items, entries, settings, detectors_for, budget=budget, draw=DRAW, weights=weights)
    with_nlu = replay(items, entries, settings, detectors_for, budget=budget, draw=DRAW, weights=weights,
                      messages=messages)
    return Comparison(without, with_rules(with_nlu, parses, rule_replies()), messages, records, folds)


def _reason(outcome: Outcome) -> str:
    return outcome.reason or outcome.action


def _right(item: Item, outcome: Outcome) -> bool:
    return item.kind == FAQ and judge(item, outcome)[0] and outcome.kb_id == item.gold


def report_lines(comparison: Comparison, settings: GateSettings) -> List[str]:
    items, before, after = comparison.without.items, comparison.without.outcomes, comparison.with_nlu.outcomes
    records, messages = comparison.records, comparison.messages
    in_kb = {i for data in comparison.folds for i in data.test if items[i].gold in data.entry_ids}
    kinds = Counter(item.kind for item in items)
    lines = [
        f"cross-validation of the answer policy with Rasa's NLU replayed: draw {DRAW} of `make eval`'s {len(records)} folds "
        "(grouped by conversation, a fifth of the entries held out whole);",
        "each fold's NLU model is trained with config.yml on bot/data/nlu and the fold's training entries and mined "
        "examples only;",
        f"{len(items)} questions ({', '.join(f'{k} {kinds[k]}' for k in KINDS)}); same folds, detectors and nested risk "
        "models both ways",
        "",
        f"{'':32} {'without NLU':>12} {'with NLU':>10} {'change':>8}",
    ]
    first, second = headline(comparison.without), headline(comparison.with_nlu)
    lines += [f"{name:32} {first[name]:12.3f} {second[name]:10.3f} {second[name] - first[name]:+8.3f}" for name in first]
    lines += ["", "by kind: the share answered, wrong, handed over, urgent",
              f"  {'':26} {'n':>5}   {'without NLU':>23}   {'with NLU':>23}"]
    for kind in (*KINDS, "questions (faq + unknown)"):
        picked = [i for i, item in enumerate(items) if item.kind == kind or (kind.startswith("questions")
                                                                              and item.kind in (FAQ, UNKNOWN))]
        lines.append(f"  {kind[:26]:26} {len(picked):5d}   {_rates(items, before, picked)}   {_rates(items, after, picked)}")

    reasons_before, reasons_after = Counter(map(_reason, before)), Counter(map(_reason, after))
    lines += ["", f"outcome reasons {'':16} {'without NLU':>12} {'with NLU':>10}"]
    for reason in sorted(set(reasons_before) | set(reasons_after), key=lambda r: -(reasons_before[r] + reasons_after[r])):
        lines.append(f"  {reason[:30]:30} {reasons_before[reason]:12d} {reasons_after[reason]:10d}")

    changed = [i for i in range(len(items)) if (before[i].action, before[i].reason, before[i].kb_id)
               != (after[i].action, after[i].reason, after[i].kb_id)]
    lines += ["", f"decisions the intents changed: {len(changed)} of {len(items)}"]
    moves = Counter((items[i].kind, _reason(before[i]), _reason(after[i])) for i in changed)
    for (kind, was, now), n in moves.most_common():
        lines.append(f"  {n:4d}  {kind:14} {was} -> {now}")
    lost = [i for i in in_kb if _right(items[i], before[i]) and not _right(items[i], after[i])]
    gained = [i for i in in_kb if _right(items[i], after[i]) and not _right(items[i], before[i])]
    lines += [
        "",
        f"answerable questions (entry in the fold's KB, {len(in_kb)}): answered right without NLU but not with it: "
        f"{len(lost)} ({_counted(_reason(after[i]) for i in lost) or 'none'}); the other way: {len(gained)}",
        f"answerable questions declined as out of scope with NLU: "
        f"{sum(1 for i in in_kb if after[i].action == DECLINE and after[i].reason == 'out_of_scope')} "
        f"(without: {sum(1 for i in in_kb if before[i].action == DECLINE and before[i].reason == 'out_of_scope')})",
        f"distress caught with NLU only: {_only(items, before, after, {DISTRESS}, _urgent)} of {kinds[DISTRESS]}; "
        f"caught without NLU only: {_only(items, after, before, {DISTRESS}, _urgent)}",
        f"ordinary questions (faq + unknown) raised as distress with NLU only: "
        f"{_only(items, before, after, {FAQ, UNKNOWN}, _urgent)}",
        "handed over as asked_for_human by the ask_human intent only: "
        + (_counted(items[i].kind for i in range(len(items)) if after[i].reason == "asked_for_human"
                    and before[i].reason != "asked_for_human") or "none"),
        "out of scope declined by the intent (not declined without): "
        + (_counted(items[i].kind for i in range(len(items)) if after[i].reason == "out_of_scope"
                    and before[i].reason != "out_of_scope") or "none"),
        "replied by a Rasa rule instead of the policy (greet, thanks…): "
        + (_counted(f"{items[i].kind} {after[i].reason[5:]}" for i in range(len(items)) if after[i].action == RULE)
           or "none"),
        "",
        f"the changed decisions (kind, without -> with NLU, the intent read, the question; at most {SHOWN}):",
    ]
    for i in sorted(changed, key=lambda i: (items[i].kind, _reason(before[i]), _reason(after[i])))[:SHOWN]:
        said = " ".join(items[i].question.split())
        lines.append(f"  {items[i].kind:13} {_reason(before[i])} -> {_reason(after[i])}  [{messages[i].intent} "
                     f"{messages[i].intent_confidence:.2f}]  {said[:90]}{'…' if len(said) > 90 else ''}")
    lines += [
        "",
        "intents the policy reads (top intent after the served mapping; * = at the confidence the policy acts on):",
    ]
    acting = {"out_of_scope": settings.out_of_scope_confidence, "distress": settings.distress_intent_confidence,
              "ask_human": settings.ask_human_confidence}
    read = defaultdict(Counter)
    for i, message in messages.items():
        name = message.intent or "(none)"
        confident = name in acting and message.intent_confidence >= acting[name]
        read[items[i].kind][name + ("*" if confident else "")] += 1
    for kind in KINDS:
        lines.append(f"  {kind:14} " + (", ".join(f"{name} {n}" for name, n in read[kind].most_common()) or "none"))

    trained = [r["train_seconds"] for r in records]
    cpu = [r["train_cpu_seconds"] for r in records]
    parsed = sum(len(r["parses"]) for r in records)
    lines += [
        "",
        "cost (2 cores shared with other work, under nice):",
        "  NLU training per fold: " + ", ".join(f"{s:.0f} s" for s in trained)
        + f" (mean {sum(trained) / len(trained):.0f} s wall, {sum(cpu) / len(cpu):.0f} s CPU; "
        f"model {sum(r['model_mb'] for r in records) / len(records):.0f} MB)",
        f"  parsing: {1000 * sum(r['parse_seconds'] for r in records) / max(parsed, 1):.1f} ms a message "
        f"({parsed} messages, one model load per fold)",
        f"  five trainings: {sum(trained) / 60:.0f} min: its own target (`make eval-nlu`), not part of `make eval`",
    ]
    return lines


def _urgent(outcome: Outcome) -> bool:
    return outcome.priority == URGENT


def _only(items: Sequence[Item], first: Sequence[Outcome], second: Sequence[Outcome], kinds: set,
          test: Callable[[Outcome], bool]) -> int:
    """How many questions of these kinds ``test`` holds for in ``second`` and not in ``first``."""
    return sum(1 for i, item in enumerate(items) if item.kind in kinds and test(second[i]) and not test(first[i]))


def _counted(values) -> str:
    return ", ".join(f"{value} {n}" for value, n in Counter(values).most_common())


def _rates(items: Sequence[Item], outcomes: Sequence[Outcome], picked: Sequence[int]) -> str:
    verdicts = [judge(items[i], outcomes[i]) for i in picked]
    n = max(len(verdicts), 1)
    return " ".join(f"{sum(v[k] for v in verdicts) / n:5.3f}" for k in range(4))


def run(result, settings, detectors_for: Callable, *, work: Optional[Path] = None, report: Optional[Path] = None,
        started: Optional[float] = None,
        log=lambda line: print(f"[eval-nlu] {line}", file=sys.stderr, flush=True)) -> List[str]:
    """The command `python -m knowledge eval-nlu`: trains, parses, replays, writes ``report``; returns its lines.

    ``result``: the knowledge build (``knowledge.pipeline.build_knowledge``); ``started``: when the command began.
    """
    started = time.perf_counter() if started is None else started
    items = items_of(result.clusters, result.entries)
    kept = Path(work) if work else None
    with tempfile.TemporaryDirectory(prefix="nlu-crossval-") as scratch:
        comparison = compare(items, result.entries, settings.gate, detectors_for,
                             budget=settings.gate.wrong_answer_budget, weights=settings.retrieval,
                             work=kept or Path(scratch), log=log)
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"# generated by `python -m knowledge eval-nlu` (make eval-nlu) on {when}; do not edit", ""]
    lines += report_lines(comparison, settings.gate)
    reused = sum(bool(record.get("reused")) for record in comparison.records)
    lines.append(f"  the whole command: {(time.perf_counter() - started) / 60:.0f} min (knowledge build, trainings, "
                 "parses, two replays)" + (f"; {reused} fold models reused from --work, trained earlier" if reused else ""))
    report = Path(report or settings.nlu_report)
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return lines
