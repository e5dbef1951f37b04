"""The declared stages, run in order: load -> anonymise -> extract -> cluster -> entries -> render -> store -> export.

``build_knowledge`` is pure up to the last two stages: it returns everything
the pipeline computed; ``store`` and ``export`` are the only writes.
"""
from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, ContextManager, Dict, List, Optional, Sequence

from knowledge.anonymise import Anonymiser, NerFunction
from knowledge.cluster import ClusterResult, build_entries, cluster_pairs
from knowledge.export import render
from knowledge.extract import extract_pairs
from knowledge.load import load_corpus
from knowledge.model import AnonymisationReport, Conversation, LoadError, QAPair
from orientbot.db import create_schema, make_engine, session_scope
from orientbot.kb import KnowledgeEntry, replace_pipeline_entries

STAGES = ("load", "anonymise", "extract", "cluster", "entries", "render", "store", "export")


def _no_progress(iterable, **_):
    return iterable


def _untimed(_stage: str) -> ContextManager:
    return nullcontext()


@dataclass
class BuildResult:
    conversations: List[Conversation]
    load_errors: List[LoadError]
    report: AnonymisationReport
    pairs: List[QAPair]
    clusters: ClusterResult
    entries: List[KnowledgeEntry]
    files: Dict[str, str] = field(default_factory=dict)

    @property
    def message_count(self) -> int:
        return sum(len(c.messages) for c in self.conversations)

    def summary(self) -> List[str]:
        mined = self.clusters
        return [
            f"conversations: {len(self.conversations)} ({self.message_count} messages), load errors: {len(self.load_errors)}",
            "anonymisation: " + ", ".join(self.report.lines()),
            f"question/answer pairs: {len(self.pairs)}",
            f"KB entries: {len(self.entries)} (variants: {sum(len(e.variants) for e in self.entries)}, "
            f"questions asked once and left out: {len(mined.singletons)})",
            f"mined examples: personal_case {len(mined.personal_case_questions)}, distress "
            f"{len(mined.distress_questions)}, out_of_scope {len(mined.out_of_scope_questions)}",
        ]


def build_knowledge(
    transcripts: Sequence[Path], *, ner: Optional[NerFunction], progress: Callable = _no_progress,
    extra: Sequence[Conversation] = (), stage: Callable[[str], ContextManager] = _untimed,
) -> BuildResult:
    """Every stage but the writes; ``extra`` conversations join the loaded ones (``knowledge.seeded`` uses it).

    ``stage(name)`` is entered around each stage, named as in ``STAGES`` (``scripts/bench_pipeline.py`` times them).
    """
    with stage("load"):
        conversations, errors = load_corpus(transcripts)
        conversations = [*conversations, *extra]
    with stage("anonymise"):
        anonymised, report = Anonymiser(ner).anonymise(conversations, progress=progress)
    with stage("extract"):
        pairs = extract_pairs(anonymised)
    with stage("cluster"):
        clusters = cluster_pairs(pairs)
    with stage("entries"):
        entries = build_entries(clusters.clusters)
    with stage("render"):
        # Rasa learns only the entries the bot serves; those waiting for a counsellor's review join once reviewed.
        files = render(
            [entry for entry in entries if entry.status == "active"],
            {
                "personal_case": clusters.personal_case_questions,
                "distress": clusters.distress_questions,
                "out_of_scope": clusters.out_of_scope_questions,
            },
        )
    return BuildResult(anonymised, errors, report, pairs, clusters, entries, files)


def store(entries: Sequence[KnowledgeEntry], database_url: str) -> int:
    engine = make_engine(database_url)
    try:
        create_schema(engine)
        with session_scope(engine) as session:
            return replace_pipeline_entries(session, entries=entries)
    finally:
        engine.dispose()
