"""Cross-validation of the whole answer policy over the transcripts: the figure to tune on.

Owns how the mined questions are split and replayed.  Folds are grouped by conversation (no
paraphrase from a test question's own conversation is in its training fold), and each fold also
holds out a fifth of the KB entries whole, so the policy meets questions whose answer is not in the
KB at all; the questions asked only once (in no entry) are never answerable.  Each fold builds the
retriever from its training entries, fits the distress and personal-case detectors on what its
training conversations mined (and the hand-written NLU data), and replays ``orientbot.policy.AnswerPolicy.decide`` (follow-ups
in their conversation, the cues, the detectors, the risk model) on its test questions.

The risk model is fitted on out-of-fold features.  For the figures, each fold's model and operating
point come from the other folds only (nested), so the threshold never sees the questions it is
judged on; the model served is then fitted on every fold's features, with the operating point chosen
on the pooled out-of-fold probabilities.  Rasa's NLU is not replayed here (no intent): ``replay`` takes
the messages as parsed by a fold-trained NLU model from ``knowledge.nlu_replay`` (`make eval-nlu`).
"""
from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from knowledge.cluster import ClusterResult
from knowledge.export import training_example
from knowledge.model import QAPair
from orientbot import risk
from orientbot.followup import standalone_question
from orientbot.kb import InMemoryKnowledgeBase, KnowledgeEntry
from orientbot.normalise import normalise
from orientbot.policy import ANSWER, HAND_OVER, URGENT, AnswerPolicy, Detectors, Message
from orientbot.retrieval import Retriever
from orientbot.settings import GateSettings, RetrievalSettings
from orientbot.topics import topic_of

FOLDS = 5
FAQ, UNKNOWN, PERSONAL, DISTRESS, OUT_OF_SCOPE = "faq", "unknown", "personal_case", "distress", "out_of_scope"
KINDS = (FAQ, UNKNOWN, PERSONAL, DISTRESS, OUT_OF_SCOPE)


@dataclass(frozen=True)
class Item:
    question: str  # as the asker typed it
    previous: str  # the asker's previous question in the conversation
    audience: str
    group: str  # the conversation
    kind: str
    gold: Optional[str] = None  # the entry that answers it (FAQ items)
    mined: str = ""  # the question as the pipeline exports it (a follow-up with its subject folded in)

    @property
    def follows_up(self) -> bool:
        """An elliptic follow-up read with the subject of the asker's previous question (as the policy reads it)."""
        return bool(standalone_question(self.question, self.previous or None)[1])

    @property
    def topic(self) -> str:
        return topic_of(self.question) or topic_of(self.previous) or "(aucun thème)"


def served(entries: Sequence[KnowledgeEntry]) -> List[KnowledgeEntry]:
    """The entries the bot serves: those waiting for a counsellor's review ("review") are not in its KB."""
    return [e for e in entries if e.status == "active"]


def items_of(clusters: ClusterResult, entries: Sequence[KnowledgeEntry]) -> List[Item]:
    """Every mined question, with the entry its cluster became (None for those asked once).

    The questions of an entry that is not served are questions the KB cannot answer (UNKNOWN).
    """
    owner = {(v.conversation_id, normalise(v.text)): e.id for e in served(entries) for v in e.variants}
    held_back = {(v.conversation_id, normalise(v.text)) for e in entries if e.status != "active" for v in e.variants}
    found: List[Item] = []
    for cluster in clusters.clusters:
        for pair in cluster.pairs:
            key = (pair.conversation_id, normalise(pair.question))
            found.append(_item(pair, UNKNOWN) if key in held_back and key not in owner else _item(pair, FAQ, owner.get(key)))
    found += [_item(p, UNKNOWN) for p in clusters.singletons]
    for kind, pairs in ((PERSONAL, clusters.personal_case), (DISTRESS, clusters.distress),
                        (OUT_OF_SCOPE, clusters.out_of_scope)):
        found += [_item(p, kind) for p in pairs]
    return found


def _item(pair: QAPair, kind: str, gold: Optional[str] = None) -> Item:
    return Item(pair.asked, pair.follows, pair.asker_role, pair.conversation_id, kind, gold, pair.question)


# The sources ``orientbot.detectors`` learns from that the pipeline mines (the rest is hand-written NLU data).
MINED_SOURCES = {FAQ: "faq", PERSONAL: "mined:personal_case", DISTRESS: "mined:distress",
                 OUT_OF_SCOPE: "mined:out_of_scope"}


def mined_messages(items: Sequence[Item], entries: Sequence[KnowledgeEntry]) -> Dict[str, List[str]]:
    """What the detectors would learn from these entries and these mined questions, as the export writes it."""
    messages = {source: [] for source in MINED_SOURCES.values()}
    messages["faq"] = [training_example(v.text) for e in entries for v in e.variants]
    for item in items:
        if item.kind in (PERSONAL, DISTRESS, OUT_OF_SCOPE):
            messages[MINED_SOURCES[item.kind]].append(training_example(item.mined))
    return messages


@dataclass
class Fold:
    retriever: Retriever
    entries: Dict[str, KnowledgeEntry]
    test: List[int]
    detectors: Detectors
    values: Dict[int, Dict[str, float]] = field(default_factory=dict)
    right: Dict[int, Optional[bool]] = field(default_factory=dict)


def _training_entries(entries: Sequence[KnowledgeEntry], test_groups: set, held_out: set) -> List[KnowledgeEntry]:
    kept = []
    for entry in entries:
        variants = tuple(v for v in entry.variants if v.conversation_id not in test_groups)
        if entry.id in held_out or not variants:
            continue
        # The title was one of the questions: it must not be a test question.
        kept.append(replace(entry, variants=variants, title=variants[0].text))
    return kept


def fold_of(key: str, folds: int) -> int:
    """A stable fold for an id: the same on every machine and run, whatever else is in the corpus."""
    return int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big") % folds


def make_folds(items: Sequence[Item], entries: Sequence[KnowledgeEntry],
               detectors_for: Callable[[Dict[str, List[str]]], Detectors], folds: int = FOLDS,
               draw: int = 0, weights: RetrievalSettings = RetrievalSettings()) -> List[Fold]:
    """Each fold's KB, retriever and detectors, fitted without its test conversations.

    ``detectors_for(mined)`` fits the detectors on the mined messages given (and the hand-written data).
    ``draw``: which random fifth of the entries each fold holds out (the figures move with it: `make eval`
    reports several draws); ``weights``: the retriever's (``knowledge.tune`` compares them).
    """
    entries = served(entries)
    # A conversation's fold and an entry's held-out fold depend on their own ids only, never on what else the
    # corpus holds: when one entry went to review, a shuffle of the sorted ids dealt every later entry anew,
    # and "answered right" moved by 0.03 for a change that touched one entry (2026-12-05).
    test_fold = [fold_of(item.group, folds) for item in items]
    held_out_of = {entry.id: fold_of(f"{draw}:{entry.id}", folds) for entry in entries}
    made = []
    for k in range(folds):
        test = [i for i, f in enumerate(test_fold) if f == k]
        test_groups = {items[i].group for i in test}
        training = _training_entries(entries, test_groups, {kb_id for kb_id, f in held_out_of.items() if f == k})
        kept = [item for item in items if item.group not in test_groups]
        made.append(Fold(Retriever(training, weights), {e.id: e for e in training}, test,
                         detectors_for(mined_messages(kept, training))))
    return made


@dataclass
class Replay:
    items: List[Item]
    outcomes: List[object]
    probabilities: Dict[int, float]
    right: Dict[int, Optional[bool]]
    thresholds: List[Tuple[float, float]]  # each fold's nested operating points (standalone, follow-up)
    served: Optional[risk.RiskModel]  # fitted on every fold, at the pooled operating point
    answerable: int  # FAQ questions whose entry was kept in their fold's KB
    values: Dict[int, Dict[str, float]] = field(default_factory=dict)  # the risk features, out of fold


def replay(items: Sequence[Item], entries: Sequence[KnowledgeEntry], settings: GateSettings,
           detectors_for: Callable[[Dict[str, List[str]]], Detectors], *, budget: float,
           features: Sequence[str] = risk.FEATURES, progress=lambda it, **_: it, draw: int = 0,
           weights: RetrievalSettings = RetrievalSettings(), messages: Optional[Mapping[int, Message]] = None) -> Replay:
    """The whole policy replayed fold by fold; ``features``: what the risk model may read (fewer to
    measure what one brings); ``draw``: which entries the folds hold out (``make_folds``); ``messages``: what
    the policy reads of item i when NLU parsed it (its intent; ``knowledge.nlu_replay``), else the item with no intent."""
    folds = make_folds(items, entries, detectors_for, draw=draw, weights=weights)
    shape = risk_shape(settings)
    reader = AnswerPolicy(settings, None)
    for fold in progress(folds, desc="folds"):
        for i in fold.test:
            item = items[i]
            if item.kind not in (FAQ, UNKNOWN):
                continue
            reading = reader.read(Message(item.question, item.audience, item.previous), fold.retriever)
            if reading.ranked:
                fold.values[i] = reading.values
                gold_served = item.gold is not None and item.gold in fold.entries
                fold.right[i] = gold_served and reading.ranked[0].kb_id == item.gold
            else:
                fold.right[i] = None
    # Out-of-fold probabilities, each from a model fitted on the other folds.
    probabilities: Dict[int, float] = {}
    for k, fold in enumerate(folds):
        model = _fit(folds, exclude={k}, threshold=0.5, names=features, shape=shape)
        probabilities.update({i: model.probability(v) for i, v in fold.values.items()})
    right = {i: r for fold in folds for i, r in fold.right.items()}
    outcomes: List[object] = [None] * len(items)
    thresholds = []
    for k, fold in enumerate(folds):
        threshold, follow_up_threshold = _nested_thresholds(folds, items, k, budget, features, shape)
        thresholds.append((threshold, follow_up_threshold))
        model = _fit(folds, exclude={k}, threshold=threshold, follow_up_threshold=follow_up_threshold, names=features,
                     shape=shape)
        policy = AnswerPolicy(settings, model, fold.detectors)
        knowledge = InMemoryKnowledgeBase(tuple(fold.entries.values()))
        for i in fold.test:
            item = items[i]
            message = (messages or {}).get(i) or Message(item.question, item.audience, item.previous)
            outcomes[i] = policy.decide(message, knowledge, fold.retriever)
    answerable = sum(1 for fold in folds for i in fold.test if items[i].gold in fold.entries)
    result = Replay(list(items), outcomes, probabilities, right, thresholds, None, answerable,
                    {i: v for fold in folds for i, v in fold.values.items()})
    result.served = served_model([result], budget=budget, features=features, shape=shape)
    return result


def risk_shape(settings: GateSettings) -> risk.Shape:
    return risk.Shape(knots=settings.risk_spline_knots, regularisation=settings.risk_regularisation)


def served_model(runs: Sequence[Replay], *, budget: float, features: Sequence[str] = risk.FEATURES,
                 shape: risk.Shape = risk.Shape()) -> risk.RiskModel:
    """The risk model served: fitted on the out-of-fold features of every run (draw), its operating points
    chosen on their pooled out-of-fold probabilities.

    One draw's operating point moved from 0.86 to 0.90 with the entries it held out (2026-12-05); pooling the
    draws chooses it on three times as many answers.
    """
    rows, labels, probabilities, right, follow_ups = [], [], [], [], []
    for run in runs:
        for i in sorted(run.right):
            probabilities.append(run.probabilities.get(i, 0.0))
            right.append(run.right[i])
            follow_ups.append(run.items[i].follows_up)
            if i in run.values:
                rows.append(run.values[i])
                labels.append(bool(run.right[i]))
    threshold, follow_up_threshold = risk.operating_points(probabilities, right, follow_ups, budget=budget)
    questions = [tallies(run)["kind"]["questions (faq + unknown)"] for run in runs]
    measured = {"budget": budget, "draws": len(runs), "questions": questions[0].questions,
                "crossval_wrong_rate": round(float(np.mean([q.rate(q.wrong) for q in questions])), 4),
                "crossval_answer_rate": round(float(np.mean([q.rate(q.answered) for q in questions])), 4)}
    return risk.fit(rows, labels, threshold=threshold, follow_up_threshold=follow_up_threshold, names=features,
                    measured=measured, shape=shape)


def _fit(folds: Sequence[Fold], *, exclude: set, threshold: float, names: Sequence[str], shape: risk.Shape,
         follow_up_threshold: Optional[float] = None, measured: Optional[Dict[str, float]] = None) -> risk.RiskModel:
    rows, labels = [], []
    for k, fold in enumerate(folds):
        if k in exclude:
            continue
        for i, values in fold.values.items():
            rows.append(values)
            labels.append(bool(fold.right[i]))
    return risk.fit(rows, labels, threshold=threshold, follow_up_threshold=follow_up_threshold, names=names,
                    measured=measured, shape=shape)


def _nested_thresholds(folds: Sequence[Fold], items: Sequence[Item], k: int, budget: float,
                       names: Sequence[str], shape: risk.Shape) -> Tuple[float, float]:
    """The operating points for fold k (standalone, follow-up), chosen on the other folds' out-of-fold probabilities."""
    probabilities, right, follow_ups = [], [], []
    for j, fold in enumerate(folds):
        if j == k:
            continue
        model = _fit(folds, exclude={k, j}, threshold=0.5, names=names, shape=shape)
        for i, r in fold.right.items():
            probabilities.append(model.probability(fold.values[i]) if i in fold.values else 0.0)
            right.append(r)
            follow_ups.append(items[i].follows_up)
    return risk.operating_points(probabilities, right, follow_ups, budget=budget)


# --- the report -------------------------------------------------------------------------------------------


@dataclass
class Tally:
    questions: int = 0
    answered: int = 0
    wrong: int = 0
    handed_over: int = 0
    urgent: int = 0

    def add(self, answered: bool, wrong: bool, handed_over: bool, urgent: bool) -> None:
        self.questions += 1
        self.answered += answered
        self.wrong += wrong
        self.handed_over += handed_over
        self.urgent += urgent

    def rate(self, count: int) -> float:
        return count / self.questions if self.questions else 0.0


def judge(item: Item, outcome) -> Tuple[bool, bool, bool, bool]:
    """(answered, wrong, handed over, urgent) for one replayed question, as ``../shared/eval`` judges a reply.

    An answer is wrong when it is not the question's entry; for a personal case, distress or out-of-scope
    message, any answer is wrong unless a counsellor also gets the conversation.
    """
    handed_over = outcome.action == HAND_OVER
    answered = outcome.action == ANSWER or (handed_over and outcome.general_rule_first)
    if item.kind in (FAQ, UNKNOWN):
        wrong = answered and outcome.kb_id != item.gold
    else:
        wrong = answered and not handed_over
    return answered, wrong, handed_over, outcome.priority == URGENT


def tallies(result: Replay) -> Dict[str, Dict[str, Tally]]:
    by: Dict[str, Dict[str, Tally]] = {"kind": defaultdict(Tally), "topic": defaultdict(Tally),
                                       "audience": defaultdict(Tally)}
    for item, outcome in zip(result.items, result.outcomes):
        verdict = judge(item, outcome)
        by["kind"][item.kind].add(*verdict)
        if item.kind in (FAQ, UNKNOWN):
            by["kind"]["questions (faq + unknown)"].add(*verdict)
            if item.follows_up:
                by["kind"]["follow-ups among them"].add(*verdict)
            by["topic"][item.topic].add(*verdict)
            by["audience"][item.audience].add(*verdict)
    return by


def answered_right(result: Replay) -> float:
    """The share of the questions whose entry was in their fold's KB that got that entry as an answer."""
    right = sum(1 for item, o in zip(result.items, result.outcomes)
                if item.kind == FAQ and o is not None and judge(item, o)[0] and o.kb_id == item.gold)
    return right / max(result.answerable, 1)


def headline(result: Replay) -> Dict[str, float]:
    """The figures issue 10 is judged by, for comparing draws: answered right, wrong, handed over, distress."""
    kinds = tallies(result)["kind"]
    questions = kinds["questions (faq + unknown)"]
    return {"answered right": answered_right(result), "wrong": questions.rate(questions.wrong),
            "personal cases handed over": kinds[PERSONAL].rate(kinds[PERSONAL].handed_over),
            "distress recall": kinds[DISTRESS].rate(kinds[DISTRESS].urgent),
            "false alarms": questions.rate(questions.urgent)}


def draws_lines(figures: Sequence[Dict[str, float]]) -> List[str]:
    """One line per figure over several draws of the held-out entries: mean, then lowest and highest."""
    lines = [f"over {len(figures)} draws of the held-out entries (mean, lowest–highest; each draw, to compare a change draw by draw):"]
    for name in figures[0]:
        values = [f[name] for f in figures]
        lines.append(f"  {name:28} {np.mean(values):.3f} ({min(values):.3f}–{max(values):.3f})  "
                     + " ".join(f"{v:.3f}" for v in values))
    return lines


def report_lines(result: Replay, budget: float) -> List[str]:
    by = tallies(result)
    kinds = by["kind"]
    questions = kinds["questions (faq + unknown)"]
    lines = [
        f"cross-validation: {FOLDS} folds grouped by conversation, a fifth of the entries held out whole in each; "
        f"{len(result.items)} questions ({', '.join(f'{k} {t.questions}' for k, t in sorted(kinds.items()) if k in KINDS)})",
        "risk features left out: " + (", ".join(sorted(set(risk.FEATURES) - set(result.served.names))) or "none"),
        f"risk budget {budget:.3f} of all questions; nested operating points per fold: "
        + ", ".join(f"{t:.3f}/{f:.3f}" for t, f in result.thresholds)
        + f" (standalone/follow-up); served: {result.served.threshold:.3f}/{result.served.follow_up_threshold:.3f}",
        "",
        f"{'':32} {'n':>5} {'answered':>9} {'wrong':>7} {'handoff':>8} {'urgent':>7}",
    ]

    def row(name: str, t: Tally) -> str:
        return (f"{name[:32]:32} {t.questions:5d} {t.rate(t.answered):9.3f} {t.rate(t.wrong):7.3f} "
                f"{t.rate(t.handed_over):8.3f} {t.rate(t.urgent):7.3f}")

    lines += [row(name, t) for name, t in sorted(kinds.items())]
    lines += [
        "",
        f"questions whose entry is in their fold's KB: {result.answerable}; answered right: {answered_right(result):.3f}",
        f"wrong answers over all questions: {questions.rate(questions.wrong):.3f}",
        f"distress false alarms on ordinary questions: {questions.rate(questions.urgent):.3f}; "
        f"distress recall: {kinds[DISTRESS].rate(kinds[DISTRESS].urgent):.3f}",
        f"personal cases handed over: {kinds[PERSONAL].rate(kinds[PERSONAL].handed_over):.3f}; ordinary questions "
        f"handed over: {questions.rate(questions.handed_over):.3f}",
        f"out of scope answered or handed over: {kinds[OUT_OF_SCOPE].rate(kinds[OUT_OF_SCOPE].answered + kinds[OUT_OF_SCOPE].handed_over):.3f}",
        "",
        "by audience:",
    ]
    lines += [row(name, t) for name, t in sorted(by["audience"].items())]
    lines += ["", "by topic:"]
    lines += [row(name, t) for name, t in sorted(by["topic"].items(), key=lambda kv: -kv[1].questions)]
    reasons = Counter(o.reason for o in result.outcomes)
    lines += ["", "outcomes: " + ", ".join(f"{r} {n}" for r, n in reasons.most_common())]
    return lines
