"""Which topics of the reference list the knowledge base answers, and which it lacks.

The reference list is ``topics.md`` (``../shared/eval/topics.md`` by default): ``## `` headings are
sections, ``### `` sub-headings are topics, and the bullets under a topic state its facts (its
``Sources:`` lines are left out). A few frequent questions that the list does not name (the stage de
seconde, the spécialités, BTS or BUT…) are added as ``EXTRA_TOPICS``.

A KB entry *covers* a topic when its text (titles, question variants, answers) is close to one of the
topic's facts: TF-IDF over the project's normalised words (``orientbot.normalise``, the normaliser the
retriever uses), cosine similarity at or above ``threshold``. The functions are pure: text and entries
in, a ``Coverage`` out; only ``draw`` and ``main`` write.

    python -m knowledge.coverage                 # builds the KB in memory from transcripts/, prints, draws docs/kb-topics.png
    python -m knowledge.coverage --from-db       # reads the KB database instead (``make kb`` first)
    python -m knowledge.coverage --topics PATH   # another topics file

A missing topics file is reported ("topics file not found") and exits 0: it never fails a build.
"""
from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from orientbot.kb import KnowledgeEntry
from orientbot.normalise import STOPWORDS, normalise
from orientbot.settings import PROJECT_ROOT

DEFAULT_TOPICS_PATH = PROJECT_ROOT.parent / "shared" / "eval" / "topics.md"
DEFAULT_PICTURE = PROJECT_ROOT / "docs" / "kb-topics.png"
DEFAULT_THRESHOLD = 0.3
EXTRA_SECTION = "Questions fréquentes hors liste"

_HEADING = re.compile(r"^(#{2,3})\s+(.*\S)\s*$")
_BULLET = re.compile(r"^\s*[-*]\s+(.*\S)\s*$")


@dataclass(frozen=True)
class Topic:
    """One ``### slug`` of the reference list: its section and its facts."""

    slug: str
    section: str
    facts: Tuple[str, ...]

    @property
    def safety(self) -> bool:
        """Distress topics are answered by the safety gate (emergency numbers, urgent handoff), never by an entry."""
        return self.section.lower().startswith(("distress", "détresse", "urgence"))


# Frequent questions of collège and lycée students and parents that topics.md does not list.
EXTRA_TOPICS: Tuple[Topic, ...] = (
    Topic("stage-seconde", EXTRA_SECTION, (
        "Le stage d'observation de seconde générale et technologique est obligatoire depuis 2024 : deux semaines "
        "en juin, en fin d'année de seconde, avec une convention ; les offres sont sur la plateforme 1élève1stage.",)),
    Topic("stage-3e", EXTRA_SECTION, (
        "Le stage d'observation de 3e dure une semaine (5 jours) en entreprise, administration ou association, "
        "avec une convention signée par le collège ; offres sur 1élève1stage.",)),
    Topic("specialites", EXTRA_SECTION, (
        "En voie générale on choisit trois enseignements de spécialité en première et on en garde deux en "
        "terminale ; le choix se prépare au printemps de la seconde et compte pour Parcoursup.",)),
    Topic("bts-ou-but", EXTRA_SECTION, (
        "Différence entre BTS et BUT : le BTS se prépare en 2 ans en lycée (section de techniciens supérieurs), "
        "le BUT en 3 ans en IUT, grade de licence.",)),
    Topic("bac-techno-series", EXTRA_SECTION, (
        "Les séries du bac technologique (STMG, STI2D, ST2S, STL, STD2A, STHR, STAV, S2TMD) se choisissent en fin "
        "de seconde générale et technologique.",)),
    Topic("portes-ouvertes-salons", EXTRA_SECTION, (
        "Journées portes ouvertes et salons de l'orientation : visiter lycées et établissements du supérieur, "
        "rencontrer enseignants et étudiants pour choisir.",)),
    Topic("amenagements-handicap", EXTRA_SECTION, (
        "Aménagements d'examen et handicap : PAP, PAI, PPS avec la MDPH, tiers-temps au brevet et au bac "
        "demandé auprès de l'établissement.",)),
    Topic("grand-oral", EXTRA_SECTION, (
        "Le grand oral du bac en terminale : 20 minutes devant un jury sur une question liée aux spécialités, "
        "puis le projet d'orientation ; coefficient 10 en voie générale.",)),
    Topic("bac-notation", EXTRA_SECTION, (
        "La note du bac général et technologique : 40 % de contrôle continu, 60 % d'épreuves finales (français, "
        "philosophie, spécialités, grand oral) ; rattrapage entre 8 et 10.",)),
    Topic("3e-prepa-metiers", EXTRA_SECTION, (
        "La 3e prépa-métiers, souvent en lycée professionnel, fait découvrir des métiers avec des stages et "
        "prépare la voie professionnelle ou l'apprentissage ; demande en fin de 4e.",)),
    Topic("parcoursup-dossier", EXTRA_SECTION, (
        "Ce que les formations examinent sur Parcoursup : bulletins de première et terminale, fiche Avenir, "
        "projet de formation motivé, activités et centres d'intérêt.",)),
    Topic("cap-ou-bac-pro", EXTRA_SECTION, (
        "Différence entre CAP et bac pro : CAP en 2 ans pour un métier précis (niveau 3), bac pro en 3 ans "
        "(niveau 4) qui permet aussi le BTS.",)),
    Topic("brevet", EXTRA_SECTION, (
        "Le diplôme national du brevet (DNB) passé en fin de 3e au collège.",)),
)


@dataclass(frozen=True)
class TopicCoverage:
    topic: Topic
    entries: Tuple[Tuple[str, float], ...]  # (entry id, similarity), best first

    @property
    def covered(self) -> bool:
        return bool(self.entries)

    @property
    def missing(self) -> bool:
        return not self.entries and not self.topic.safety


@dataclass(frozen=True)
class Coverage:
    topics: Tuple[TopicCoverage, ...] = ()
    source: str = ""
    missing_file: bool = False
    threshold: float = DEFAULT_THRESHOLD
    notes: Tuple[str, ...] = field(default_factory=tuple)

    @property
    def covered(self) -> List[TopicCoverage]:
        return [t for t in self.topics if t.covered]

    @property
    def missing(self) -> List[TopicCoverage]:
        """Topics no entry covers (distress topics excepted: the safety gate answers them)."""
        return [t for t in self.topics if t.missing]

    @property
    def measured(self) -> List[TopicCoverage]:
        return [t for t in self.topics if not t.topic.safety]


def parse_topics(text: str) -> List[Topic]:
    """The ``### `` topics of a topics.md text, with their section (``## ``) and bullet facts."""
    topics: List[Topic] = []
    section, slug, facts = "", None, []  # type: str, Optional[str], List[str]

    def close() -> None:
        if slug is not None:
            topics.append(Topic(slug, section, tuple(facts)))

    for line in text.splitlines():
        heading = _HEADING.match(line)
        if heading:
            close()
            slug, facts = None, []
            if heading.group(1) == "##":
                section = heading.group(2)
            else:
                slug = heading.group(2)
            continue
        bullet = _BULLET.match(line)
        if slug is not None and bullet and not line.lstrip().startswith("Sources"):
            facts.append(bullet.group(1))
    close()
    return topics


def read_topics(path: Path) -> Optional[List[Topic]]:
    """The topics of ``path``, or None when the file does not exist."""
    if not path.is_file():
        return None
    return parse_topics(path.read_text(encoding="utf-8"))


def entry_text(entry: KnowledgeEntry) -> str:
    """Everything an entry says of its subject: titles, question variants, both answers."""
    parts = [entry.title, entry.title_parent, entry.answer_eleve, entry.answer_parent]
    parts.extend(v.text for v in entry.variants)
    return " ".join(p for p in parts if p)


def _topic_queries(topic: Topic) -> List[str]:
    words = topic.slug.replace("-", " ")
    return [f"{words} {fact}" for fact in topic.facts] or [words]


def _analyse(text: str) -> List[str]:
    return [w for w in normalise(text).split() if w not in STOPWORDS and len(w) > 1]


def measure(topics: Sequence[Topic], entries: Sequence[KnowledgeEntry], *,
            threshold: float = DEFAULT_THRESHOLD, source: str = "") -> Coverage:
    """Each topic with the entries whose text is at least ``threshold`` similar to one of its facts."""
    if not topics:
        return Coverage((), source, threshold=threshold)
    if not entries:
        return Coverage(tuple(TopicCoverage(t, ()) for t in topics), source, threshold=threshold)
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics.pairwise import cosine_similarity

    queries: List[Tuple[int, str]] = [(i, q) for i, t in enumerate(topics) for q in _topic_queries(t)]
    documents = [entry_text(e) for e in entries]
    vectoriser = TfidfVectorizer(analyzer=_analyse, ngram_range=(1, 1), sublinear_tf=True)
    vectoriser.fit(documents + [q for _, q in queries])
    similarity = cosine_similarity(vectoriser.transform([q for _, q in queries]), vectoriser.transform(documents))
    best: Dict[int, Dict[str, float]] = {}
    for row, (index, _) in enumerate(queries):
        scores = best.setdefault(index, {})
        for column, entry in enumerate(entries):
            value = float(similarity[row, column])
            if value >= threshold and value > scores.get(entry.id, 0.0):
                scores[entry.id] = value
    result = []
    for index, topic in enumerate(topics):
        ranked = sorted(best.get(index, {}).items(), key=lambda item: (-item[1], item[0]))
        result.append(TopicCoverage(topic, tuple((kb_id, round(score, 3)) for kb_id, score in ranked)))
    return Coverage(tuple(result), source, threshold=threshold)


def coverage_of(path: Path, entries: Sequence[KnowledgeEntry], *, threshold: float = DEFAULT_THRESHOLD,
                extra: Iterable[Topic] = EXTRA_TOPICS) -> Coverage:
    """The coverage of the topics in ``path`` (plus ``extra``); says so when the file is absent."""
    topics = read_topics(path)
    extras = list(extra)
    if topics is None:
        measured = measure(extras, entries, threshold=threshold, source=str(path))
        return Coverage(measured.topics, str(path), missing_file=True, threshold=threshold,
                        notes=(f"topics file not found: {path}",))
    return measure(topics + extras, entries, threshold=threshold, source=str(path))


def table(coverage: Coverage, *, shown: int = 3) -> List[str]:
    """A plain-text table: one line per topic, its number of entries and the best ones; missing ones flagged."""
    lines = list(coverage.notes)
    if not coverage.topics:
        return lines + ["no topics to measure"]
    width = max(len(t.topic.slug) for t in coverage.topics)
    section = None
    for item in coverage.topics:
        if item.topic.section != section:
            section = item.topic.section
            lines.append(f"## {section}")
        mark = "!!" if item.missing else "  "
        best = ", ".join(f"{kb_id} ({score:.2f})" for kb_id, score in item.entries[:shown])
        empty = "safety gate (distress), not a KB entry" if item.topic.safety else "MISSING"
        lines.append(f"{mark} {item.topic.slug:<{width}}  {len(item.entries):>3}  {best or empty}")
    total = len(coverage.measured)
    covered = len([t for t in coverage.measured if t.covered])
    lines.append(f"covered: {covered}/{total} topics; missing: {len(coverage.missing)}"
                 + (f" ({', '.join(t.topic.slug for t in coverage.missing)})" if coverage.missing else "")
                 + f"; threshold {coverage.threshold}")
    return lines


def draw(coverage: Coverage, path: Path) -> Path:
    """One bar per topic: how many entries cover it; missing topics drawn in red (like ``report.draw_coverage``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    items = list(coverage.topics)
    height = max(4.0, 0.2 * len(items) + 1.2)
    figure, axis = plt.subplots(figsize=(9, height))
    positions = list(range(len(items)))[::-1]
    counts = [len(t.entries) for t in items]
    colours = ["#3b6ea8" if t.covered else ("#999999" if t.topic.safety else "#c0392b") for t in items]
    axis.barh(positions, [max(c, 0.15) for c in counts], color=colours)
    axis.set_yticks(positions)
    axis.set_yticklabels([t.topic.slug + ("  (manquant)" if t.missing else "  (détresse : porte de sécurité)"
                                            if t.topic.safety and not t.covered else "") for t in items], fontsize=7)
    for label, item in zip(axis.get_yticklabels(), items):
        if item.missing:
            label.set_color("#c0392b")
    axis.set_xlabel("entrées de la base qui traitent le sujet")
    measured = coverage.measured
    title = f"Sujets de référence : {len([t for t in measured if t.covered])}/{len(measured)} couverts"
    if coverage.missing_file:
        title += " (topics.md absent : sujets fréquents seulement)"
    axis.set_title(title)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def _entries_from_transcripts() -> List[KnowledgeEntry]:
    from knowledge.anonymise import spacy_ner
    from knowledge.load import transcript_files
    from knowledge.pipeline import build_knowledge
    from orientbot.settings import load_settings

    settings = load_settings()
    built = build_knowledge(transcript_files(PROJECT_ROOT / "transcripts"), ner=spacy_ner(settings.spacy_model))
    return list(built.entries)


def _entries_from_database() -> List[KnowledgeEntry]:
    from orientbot.db import make_engine, session_scope
    from orientbot.kb import load_entries
    from orientbot.settings import load_settings

    engine = make_engine(load_settings().database_url)
    try:
        with session_scope(engine) as session:
            return load_entries(session)
    finally:
        engine.dispose()


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m knowledge.coverage", description=__doc__.split("\n")[0])
    parser.add_argument("--topics", type=Path, default=DEFAULT_TOPICS_PATH, help="the topics file (topics.md)")
    parser.add_argument("--picture", type=Path, default=DEFAULT_PICTURE, help="where to draw the picture")
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    parser.add_argument("--from-db", action="store_true", help="read the KB database instead of building in memory")
    options = parser.parse_args(argv)
    entries = _entries_from_database() if options.from_db else _entries_from_transcripts()
    coverage = coverage_of(options.topics, entries, threshold=options.threshold)
    print("\n".join(table(coverage)))
    print(f"picture: {draw(coverage, options.picture)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
