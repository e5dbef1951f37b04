"""Two text detectors learned from the transcripts: distress, and a person telling their own case.

Owns the statistical side of two decisions and their measurement:

* the classifier (``TextDetector``: TF-IDF character 2-5-grams within words + word 1-2-grams
  over ``orientbot.normalise``d text, a class-balanced logistic regression);
* its training sets, read from what the knowledge pipeline wrote (``bot/data/generated/``) and
  from the hand-written NLU data (``bot/data/nlu/``), so that serving needs no transcript, no
  network and no stored model: ``load_detectors`` fits both once per process (about a second and
  a half on one core) and keeps them while those files are unchanged;
* grouped cross-validation (folds by conversation, so no paraphrase from a test message's own
  conversation is learnt from) and the choice of thresholds: ``python -m orientbot.detectors``
  prints the figures the thresholds in ``orientbot.settings.DetectorSettings`` were chosen from.

Not owned here: the distress decision itself (``orientbot.safety``: patterns first, this
classifier as an injected second opinion) and what the answer policy does with a personal case.
"""
from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import yaml
from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold

from orientbot.normalise import normalise
from orientbot.safety import Distress, detect_distress, matching_pattern, neutralise
from orientbot.settings import PROJECT_ROOT, DetectorSettings, Settings, load_settings

DISTRESS = "distress"
PERSONAL_CASE = "personal_case"
FOLDS = 5
# Recall first for distress: what is served (any pattern OR the classifier) must catch 98 % of the
# messages that tell distress.  The patterns were written from these same messages, so their share
# is measured in-sample; the classifier alone must also catch 90 % of them, so that it is a real
# second line for the wordings no pattern foresaw.
DISTRESS_MIN_RECALL = 0.98
DISTRESS_CLASSIFIER_MIN_RECALL = 0.90
# A personal case: the most recall with few false alarms on general questions.
PERSONAL_CASE_MAX_FALSE_ALARMS = 0.03

GENERATED = Path("bot") / "data" / "generated"
HAND_WRITTEN = Path("bot") / "data" / "nlu"


class TextDetector:
    """A binary text classifier on normalised text; ``probability`` is that of the positive class."""

    def __init__(self, *, C: float = 4.0, min_df: int = 1, prepare: Optional[Callable[[str], str]] = None) -> None:
        self.C = C
        self.min_df = min_df
        # Applied to the normalised text at fitting and scoring alike (distress: ``safety.neutralise``).
        self.prepare = prepare or (lambda folded: folded)
        self._chars: Optional[TfidfVectorizer] = None
        self._words: Optional[TfidfVectorizer] = None
        self._model: Optional[LogisticRegression] = None

    def _features(self, folded: Sequence[str], *, fit: bool = False):
        if fit:
            self._chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True,
                                          min_df=self.min_df, dtype=np.float32)
            self._words = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True,
                                          min_df=self.min_df, token_pattern=r"(?u)\b\w+\b", dtype=np.float32)
            return hstack([self._chars.fit_transform(folded), self._words.fit_transform(folded)]).tocsr()
        return hstack([self._chars.transform(folded), self._words.transform(folded)]).tocsr()

    def fit(self, texts: Sequence[str], labels: Sequence[int], *, already_normalised: bool = False) -> "TextDetector":
        labels = np.asarray(labels, dtype=int)
        if len(set(labels.tolist())) != 2:
            raise ValueError("a detector needs positive and negative examples")
        folded = [self.prepare(t if already_normalised else normalise(t)) or "-" for t in texts]
        self._model = LogisticRegression(C=self.C, class_weight="balanced", solver="liblinear", max_iter=1000)
        self._model.fit(self._features(folded, fit=True), labels)
        return self

    def probabilities(self, texts: Sequence[str], *, already_normalised: bool = False) -> np.ndarray:
        if self._model is None:
            raise RuntimeError("detector not fitted")
        folded = [self.prepare(t if already_normalised else normalise(t)) or "-" for t in texts]
        return self._model.predict_proba(self._features(folded))[:, 1]

    def probability(self, text: str, *, already_normalised: bool = False) -> float:
        """The probability that ``text`` is a positive (0.0 for an empty message)."""
        folded = self.prepare(text if already_normalised else normalise(text))
        if not folded:
            return 0.0
        return float(self.probabilities([folded], already_normalised=True)[0])


# --- training sets -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Example:
    text: str
    label: int  # 1: positive
    source: str  # where it was read: "mined:distress", "faq", "nlu:personal_case"...
    group: str  # the conversation it came from (cross-validation folds never split one)


@dataclass(frozen=True)
class TrainingSet:
    name: str
    examples: Tuple[Example, ...]

    @property
    def texts(self) -> List[str]:
        return [e.text for e in self.examples]

    @property
    def labels(self) -> np.ndarray:
        return np.array([e.label for e in self.examples], dtype=int)

    @property
    def groups(self) -> List[str]:
        return [e.group for e in self.examples]

    def mask(self, *sources: str) -> np.ndarray:
        return np.array([e.source in sources for e in self.examples], dtype=bool)


_ANNOTATION = re.compile(r"\[([^\]]*)\]\([^)]*\)|\[([^\]]*)\]\{[^}]*\}")


def read_nlu(path: Path) -> Dict[str, List[str]]:
    """Intent -> examples of one Rasa NLU file (entity annotations reduced to their text)."""
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    intents: Dict[str, List[str]] = {}
    for block in data.get("nlu") or []:
        if "intent" not in block:
            continue
        for line in str(block.get("examples", "")).splitlines():
            line = line.strip()
            if line.startswith("- "):
                text = _ANNOTATION.sub(lambda m: m.group(1) or m.group(2) or "", line[2:]).strip()
                if text:
                    intents.setdefault(block["intent"], []).append(text)
    return intents


def generated_dir(root: Path) -> Path:
    """Where ``root``'s generated training data is: the project's follows ``knowledge.corpus`` (out of git for a
    school's transcripts); any other root (a test's) keeps it in ``bot/data/generated``."""
    if Path(root).resolve() != PROJECT_ROOT.resolve():
        return Path(root) / GENERATED
    from knowledge.corpus import for_the_corpus

    return Path(for_the_corpus(load_settings()).generated_dir)


def source_files(root: Path) -> Tuple[Path, ...]:
    """The files the detectors learn from (their dates decide when ``load_detectors`` refits)."""
    generated, nlu = generated_dir(root), root / HAND_WRITTEN
    return (generated / "faq_nlu.yml", generated / "mined_nlu.yml", nlu / "distress.yml", nlu / "handoff.yml",
            nlu / "out_of_scope.yml", nlu / "chitchat.yml")


def labelled_messages(root: Path) -> Dict[str, List[str]]:
    """Source -> messages: what the pipeline mined and exported, and the hand-written NLU data."""
    faq_file, mined_file, distress_file, handoff_file, oos_file, chitchat_file = source_files(root)
    mined, handoff = read_nlu(mined_file), read_nlu(handoff_file)
    faq = [text for intent, texts in read_nlu(faq_file).items() if intent.startswith("faq/") for text in texts]
    chitchat = [text for texts in read_nlu(chitchat_file).values() for text in texts]
    return {
        "faq": faq,
        "mined:distress": mined.get(DISTRESS, []),
        "mined:personal_case": mined.get(PERSONAL_CASE, []),
        "mined:out_of_scope": mined.get("out_of_scope", []),
        "nlu:distress": read_nlu(distress_file).get(DISTRESS, []),
        "nlu:personal_case": handoff.get(PERSONAL_CASE, []),
        "nlu:ask_human": handoff.get("ask_human", []),
        "nlu:out_of_scope": read_nlu(oos_file).get("out_of_scope", []),
        "nlu:chitchat": chitchat,
    }


# Which sources are positives and negatives for each detector (a source in neither is left out).
RECIPES: Dict[str, Tuple[Tuple[str, ...], Tuple[str, ...]]] = {
    # Distress: everything the transcripts show as distress, against every other kind of message.
    DISTRESS: (("mined:distress", "nlu:distress"),
               ("faq", "mined:personal_case", "nlu:personal_case", "mined:out_of_scope", "nlu:out_of_scope",
                "nlu:ask_human", "nlu:chitchat")),
    # A person's own case (a refusal, an error, a complaint...) against general questions and chatter;
    # distress and bare requests for a person are decided elsewhere and left out.
    PERSONAL_CASE: (("mined:personal_case", "nlu:personal_case"),
                    ("faq", "mined:out_of_scope", "nlu:out_of_scope", "nlu:chitchat")),
}


def build_sets(messages: Mapping[str, Sequence[str]],
               groups: Optional[Callable[[str, str, int], str]] = None) -> Dict[str, TrainingSet]:
    """The two training sets from labelled messages (``labelled_messages``, or any dict in tests).

    ``groups(source, text, index)`` names the conversation a message came from; by default each
    message is a group of its own.
    """
    group_of = groups or (lambda source, text, index: f"{source}#{index}")
    sets = {}
    for name, (positives, negatives) in RECIPES.items():
        examples = []
        for label, sources in ((1, positives), (0, negatives)):
            for source in sources:
                for index, text in enumerate(messages.get(source, ())):
                    examples.append(Example(text, label, source, group_of(source, text, index)))
        sets[name] = TrainingSet(name, tuple(examples))
    return sets


# --- serving -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Detectors:
    """Both fitted detectors and the thresholds they fire at."""

    distress: TextDetector
    personal_case: TextDetector
    distress_threshold: float = DetectorSettings().distress_threshold
    personal_case_threshold: float = DetectorSettings().personal_case_threshold
    personal_case_unsure_threshold: float = DetectorSettings().personal_case_unsure_threshold

    def distress_of(self, text: str, *, already_normalised: bool = False) -> Optional[Distress]:
        """``orientbot.safety.detect_distress`` with this classifier: any pattern, or the classifier."""
        return detect_distress(text, already_normalised=already_normalised, classifier=self.distress,
                               threshold=self.distress_threshold)

    def is_personal_case(self, text: str, *, already_normalised: bool = False) -> bool:
        """Whether the message tells the person's own case (the classifier at its threshold)."""
        return self.personal_case.probability(text, already_normalised=already_normalised) >= self.personal_case_threshold

    def leans_to_a_personal_case(self, text: str) -> bool:
        """Whether the classifier leans to a personal case (the lower threshold, for a question left unanswered)."""
        return self.personal_case.probability(text) >= self.personal_case_unsure_threshold


def new_detector(name: str) -> TextDetector:
    """An unfitted detector as served: the distress one reads the text without its ordinary sayings."""
    return TextDetector(prepare=neutralise) if name == DISTRESS else TextDetector()


def fit_detectors(sets: Mapping[str, TrainingSet], settings: Optional[DetectorSettings] = None) -> Detectors:
    """Fit both detectors on their whole training sets (tests pass tiny in-memory sets)."""
    settings = settings or DetectorSettings()
    fitted = {name: new_detector(name).fit(sets[name].texts, sets[name].labels) for name in (DISTRESS, PERSONAL_CASE)}
    return Detectors(fitted[DISTRESS], fitted[PERSONAL_CASE], settings.distress_threshold,
                     settings.personal_case_threshold, settings.personal_case_unsure_threshold)


def fitter(root: Path = PROJECT_ROOT, settings: Optional[DetectorSettings] = None
           ) -> Callable[[Mapping[str, Sequence[str]]], Detectors]:
    """Fits both detectors on given mined messages and ``root``'s hand-written NLU data: the
    cross-validation (``knowledge.crossval``) refits them on each fold's training conversations."""
    settings = settings or load_settings().detectors
    hand_written = {source: texts for source, texts in labelled_messages(Path(root)).items() if source.startswith("nlu:")}

    def fit(mined: Mapping[str, Sequence[str]]) -> Detectors:
        return fit_detectors(build_sets({**hand_written, **mined}), settings)

    return fit


_CACHE: Dict[Tuple, Detectors] = {}
_LOCK = threading.Lock()


def load_detectors(root: Path = PROJECT_ROOT, settings: Optional[DetectorSettings] = None) -> Detectors:
    """Both detectors fitted on ``root``'s training data, once per process while the files are unchanged.

    No network and no stored model: the first call reads the generated and hand-written NLU files
    and fits (about 1.5 s), later calls return the same object.  Raises FileNotFoundError when
    the generated files are missing (run `make kb`).
    """
    settings = settings or load_settings().detectors
    files = source_files(Path(root))
    missing = [str(f) for f in files[:2] if not f.exists()]
    if missing:
        raise FileNotFoundError(f"training data missing: {', '.join(missing)} (make kb)")
    key = (str(Path(root).resolve()), settings, tuple(f.stat().st_mtime_ns if f.exists() else 0 for f in files))
    with _LOCK:
        if key not in _CACHE:
            _CACHE.clear()
            _CACHE[key] = fit_detectors(build_sets(labelled_messages(Path(root))), settings)
        return _CACHE[key]


# --- measurement ---------------------------------------------------------------------------------

def grouped_cross_validation(texts: Sequence[str], labels: Sequence[int], groups: Sequence[str],
                             folds: int = FOLDS, make: Callable[[], TextDetector] = TextDetector) -> np.ndarray:
    """Out-of-fold probabilities: each message scored by a detector fitted on other conversations only."""
    labels = np.asarray(labels, dtype=int)
    groups = np.asarray(list(groups))
    folds = min(folds, len(set(groups.tolist())))
    if folds < 2:
        raise ValueError("cross-validation needs at least two groups")
    folded = [normalise(t) or "-" for t in texts]
    out = np.zeros(len(folded), dtype=float)
    for train, test in GroupKFold(n_splits=folds).split(folded, labels, groups):
        detector = make().fit([folded[i] for i in train], labels[train], already_normalised=True)
        out[test] = detector.probabilities([folded[i] for i in test], already_normalised=True)
    return out


@dataclass(frozen=True)
class Rates:
    threshold: float
    recall: float
    false_alarm_rate: float
    caught: int
    positives: int
    false_alarms: int
    negatives: int

    def line(self) -> str:
        return (f"seuil {self.threshold:.2f} : rappel {self.recall:.3f} ({self.caught}/{self.positives}), "
                f"fausses alertes {self.false_alarm_rate:.3f} ({self.false_alarms}/{self.negatives})")


def rates_at(probabilities: Sequence[float], labels: Sequence[int], threshold: float, *,
             negatives: Optional[Sequence[bool]] = None, fired: Optional[Sequence[bool]] = None) -> Rates:
    """Recall on the positives and false-alarm rate on the negatives (``negatives`` restricts which count).

    ``fired`` marks messages that fire whatever the probability (the patterns, for distress).
    """
    probabilities, labels = np.asarray(probabilities, dtype=float), np.asarray(labels, dtype=int)
    hit = probabilities >= threshold
    if fired is not None:
        hit = hit | np.asarray(fired, dtype=bool)
    positive = labels == 1
    negative = (labels == 0) & (np.ones_like(positive) if negatives is None else np.asarray(negatives, dtype=bool))
    caught, alarms = int((hit & positive).sum()), int((hit & negative).sum())
    n_pos, n_neg = int(positive.sum()), int(negative.sum())
    return Rates(threshold, caught / n_pos if n_pos else 0.0, alarms / n_neg if n_neg else 0.0, caught, n_pos, alarms, n_neg)


_GRID = tuple(round(t, 2) for t in np.arange(0.02, 0.99, 0.01))


def highest_threshold_with_recall(probabilities, labels, min_recall: float = DISTRESS_MIN_RECALL, **options) -> float:
    """The highest threshold whose recall is at least ``min_recall`` (recall first)."""
    ok = [t for t in _GRID if rates_at(probabilities, labels, t, **options).recall >= min_recall]
    return max(ok) if ok else _GRID[0]


def lowest_threshold_with_false_alarms(probabilities, labels, max_rate: float = PERSONAL_CASE_MAX_FALSE_ALARMS,
                                       **options) -> float:
    """The lowest threshold whose false-alarm rate is at most ``max_rate`` (the most recall it allows)."""
    ok = [t for t in _GRID if rates_at(probabilities, labels, t, **options).false_alarm_rate <= max_rate]
    return min(ok) if ok else _GRID[-1]


class ConversationIndex:
    """Where each exported message came from in the transcripts: its conversation, its asker, its turn.

    The pipeline's load -> anonymise (regexes only: spaCy is not needed to find a message back)
    -> extract stages give every question with its conversation; an exported message is matched
    on its normalised text, else inside a longer question (a KB title is one sentence of one),
    else to its nearest question (character n-grams).  Hand-written NLU data and messages found
    nowhere are groups of their own.
    """

    def __init__(self, transcripts_dir: Path) -> None:
        from knowledge.anonymise import Anonymiser
        from knowledge.export import training_example
        from knowledge.extract import extract_pairs
        from knowledge.load import load_corpus, transcript_files

        conversations, _ = load_corpus(transcript_files(transcripts_dir))
        anonymised, _ = Anonymiser(None).anonymise(conversations)
        authors = {(c.id, m.id): m.author for c in anonymised for m in c.messages}
        self.keys: List[str] = []
        self.rows: List[Tuple[str, str, int]] = []  # conversation, asker, turn
        turn: Dict[str, int] = {}
        for pair in extract_pairs(anonymised):
            position = turn[pair.conversation_id] = turn.get(pair.conversation_id, -1) + 1
            asker = authors.get((pair.conversation_id, pair.question_ids[0]), "") if pair.question_ids else ""
            for text in dict.fromkeys([pair.question, pair.asked]):
                self.keys.append(normalise(training_example(text)))
                self.rows.append((pair.conversation_id, asker, position))
        self._exact = {key: i for i, key in reversed(list(enumerate(self.keys)))}
        self._vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 4), sublinear_tf=True)
        self._matrix = self._vectorizer.fit_transform(self.keys) if any(self.keys) else None

    def locate(self, source: str, text: str) -> Optional[Tuple[str, str, int]]:
        if source.startswith("nlu:"):
            return None
        key = normalise(text)
        if not key:
            return None
        if key in self._exact:
            return self.rows[self._exact[key]]
        inside = [i for i, k in enumerate(self.keys) if k and (key in k or k in key)]
        if inside:
            return self.rows[max(inside, key=lambda i: min(len(self.keys[i]), len(key)))]
        if self._matrix is None:
            return None
        similarity = (self._matrix @ self._vectorizer.transform([key]).T).toarray().ravel()
        best = int(similarity.argmax()) if similarity.size else -1
        return self.rows[best] if best >= 0 and similarity[best] >= 0.4 else None

    def group(self, source: str, text: str, index: int) -> str:
        """The conversation a message came from (``build_sets``'s ``groups``)."""
        found = self.locate(source, text)
        return found[0] if found else f"{source}#{index}"

    def follow_ups(self, training: TrainingSet, source: str = "mined:distress") -> np.ndarray:
        """Messages of ``source`` said after an earlier one of the same asker in the same conversation.

        In a distress conversation these mostly answer the counsellor's questions ("il dort. ma mère
        rentre à 6h"): by then the conversation is with a counsellor, and alone they tell nothing.
        """
        firsts: Dict[Tuple[str, str], int] = {}
        located = [self.locate(e.source, e.text) if e.source == source else None for e in training.examples]
        for found in located:
            if found:
                firsts[found[:2]] = min(firsts.get(found[:2], found[2]), found[2])
        return np.array([bool(found) and found[2] > firsts[found[:2]] for found in located], dtype=bool)


@dataclass(frozen=True)
class Measurement:
    name: str
    training: TrainingSet
    probabilities: np.ndarray  # out of fold
    chosen: float  # the threshold the cross-validation suggests
    serving: float  # the threshold in the settings
    counted: np.ndarray  # the positives the threshold is chosen on (distress: not the follow-ups)
    fired: np.ndarray  # the distress patterns fire (all False for the personal case)


def measure(root: Path = PROJECT_ROOT, settings: Optional[Settings] = None, folds: int = FOLDS) -> Dict[str, Measurement]:
    """Grouped cross-validation of both detectors on ``root``'s training data, and their suggested thresholds.

    Distress: recall first, on what is served (any pattern OR the classifier), counted on the messages
    that tell the distress; the follow-ups that only answer a counsellor are reported apart.
    Personal case: the most recall with at most 3 % false alarms on the general (FAQ) questions.
    """
    settings = settings or load_settings()
    index = ConversationIndex(settings.transcripts_dir)
    sets = build_sets(labelled_messages(root), index.group)
    results = {}
    for name, training in sets.items():
        probabilities = grouped_cross_validation(training.texts, training.labels, training.groups, folds,
                                                 make=lambda: new_detector(name))
        labels = training.labels
        if name == DISTRESS:
            fired = np.array([matching_pattern(t) is not None for t in training.texts], dtype=bool)
            counted = ~index.follow_ups(training)
            chosen = min(highest_threshold_with_recall(probabilities[counted], labels[counted], fired=fired[counted]),
                         highest_threshold_with_recall(probabilities[counted], labels[counted],
                                                       DISTRESS_CLASSIFIER_MIN_RECALL))
            serving = settings.detectors.distress_threshold
        else:
            fired = np.zeros(len(labels), dtype=bool)
            counted = np.ones(len(labels), dtype=bool)
            chosen = lowest_threshold_with_false_alarms(probabilities, labels, negatives=training.mask("faq"))
            serving = settings.detectors.personal_case_threshold
        results[name] = Measurement(name, training, probabilities, chosen, serving, counted, fired)
    return results


def pattern_alarms(texts: Iterable[str]) -> List[Tuple[str, Distress]]:
    """The messages the distress patterns fire on, with what fired."""
    return [(t, d) for t in texts for d in [matching_pattern(t)] if d is not None]


def _distress_lines(m: Measurement) -> List[str]:
    training, p, fired, counted = m.training, m.probabilities, m.fired, m.counted
    labels, faq = training.labels, training.mask("faq")
    follow = (labels == 1) & ~counted
    lines = [
        f"détresse : {int(labels.sum())} positifs (extraits {int(training.mask('mined:distress').sum())} dont "
        f"{int(follow.sum())} suites de conversation, écrits à la main {int(training.mask('nlu:distress').sum())}), "
        f"{int((labels == 0).sum())} négatifs dont {int(faq.sum())} variantes FAQ",
        f"  seuil suggéré (sur les messages qui disent la détresse, rappel motifs OU classifieur >= {DISTRESS_MIN_RECALL} "
        f"et classifieur seul >= {DISTRESS_CLASSIFIER_MIN_RECALL}) : {m.chosen:.2f} ; seuil servi : {m.serving:.2f}",
    ]
    for threshold in sorted({m.chosen, m.serving}):
        on_statements = rates_at(p[counted], labels[counted], threshold, fired=fired[counted])
        lines += [
            f"  à {threshold:.2f}, motifs OU classifieur : {rates_at(p, labels, threshold, fired=fired).line()}",
            f"    messages qui disent la détresse : rappel {on_statements.recall:.3f} ({on_statements.caught}/{on_statements.positives}) ; "
            f"suites : {int(((p >= threshold) | fired)[follow].sum())}/{int(follow.sum())} ; "
            f"fausses alertes sur les variantes FAQ : {rates_at(p, labels, threshold, fired=fired, negatives=faq).false_alarms}"
            f"/{int(faq.sum())}",
            f"    classifieur seul : {rates_at(p, labels, threshold).line()} ; sur les messages qui disent la détresse : "
            f"rappel {rates_at(p[counted], labels[counted], threshold).recall:.3f}",
        ]
    lines.append(f"  motifs seuls : {rates_at(np.zeros_like(p), labels, 2.0, fired=fired).line()}")
    faq_alarms = pattern_alarms(t for t, is_faq in zip(training.texts, faq) if is_faq)
    lines.append(f"  motifs sur les variantes FAQ : {len(faq_alarms)}/{int(faq.sum())} fausses alertes")
    lines += [f"    {d.kind} ({d.pattern[:50]}) : {t[:120]}" for t, d in faq_alarms]
    others = (labels == 0) & ~faq
    other_alarms = pattern_alarms(t for t, is_other in zip(training.texts, others) if is_other)
    lines.append(f"  motifs sur les autres messages ordinaires (cas personnels, hors sujet, bavardage) : "
                 f"{len(other_alarms)}/{int(others.sum())}")
    lines += [f"    {d.kind} ({d.pattern[:50]}) : {t[:120]}" for t, d in other_alarms]
    return lines


def _personal_case_lines(m: Measurement) -> List[str]:
    training, p = m.training, m.probabilities
    labels, faq = training.labels, training.mask("faq")
    lines = [
        f"cas personnel : {int(labels.sum())} positifs, {int((labels == 0).sum())} négatifs dont {int(faq.sum())} variantes FAQ",
        f"  seuil suggéré (fausses alertes sur les variantes FAQ <= {PERSONAL_CASE_MAX_FALSE_ALARMS:.0%}) : {m.chosen:.2f} ; "
        f"seuil servi : {m.serving:.2f}",
    ]
    for threshold in sorted({m.chosen, m.serving}):
        lines.append(f"  sur les variantes FAQ : {rates_at(p, labels, threshold, negatives=faq).line()}")
        lines.append(f"  sur tous les négatifs : {rates_at(p, labels, threshold).line()}")
    return lines


def report(root: Path = PROJECT_ROOT, settings: Optional[Settings] = None) -> List[str]:
    """The figures the thresholds were chosen from (``python -m orientbot.detectors``)."""
    settings = settings or load_settings()
    started = time.perf_counter()
    results = measure(root, settings)
    lines = [f"validation croisée groupée par conversation, {FOLDS} plis ({time.perf_counter() - started:.1f} s)"]
    lines += _distress_lines(results[DISTRESS]) + _personal_case_lines(results[PERSONAL_CASE])
    started = time.perf_counter()
    fit_detectors(build_sets(labelled_messages(root)), settings.detectors)
    lines.append(f"ajustement des deux détecteurs servis : {time.perf_counter() - started:.1f} s")
    return ["[detectors] " + line for line in lines]


def main() -> int:
    for line in report():
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
