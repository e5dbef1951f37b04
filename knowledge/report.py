"""Pictures of what the KB covers, written beside the build report (``var/reports/``)."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from orientbot.kb import KnowledgeEntry


def draw_coverage(entries: Sequence[KnowledgeEntry], path: Path) -> Path:
    """One bar per KB entry: how many ways it was asked, and how often; thin entries stand out."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ordered = sorted(entries, key=lambda e: (len(e.variants), e.id))
    height = max(4.0, 0.16 * len(ordered))
    figure, axis = plt.subplots(figsize=(10, height))
    positions = range(len(ordered))
    axis.barh(positions, [len(e.variants) for e in ordered], color="#3b6ea8", label="formulations différentes")
    axis.scatter([e.times_asked for e in ordered], positions, color="#d9822b", s=12, zorder=3, label="fois posée")
    axis.set_yticks(list(positions))
    axis.set_yticklabels([e.id for e in ordered], fontsize=6)
    axis.set_xlabel("nombre")
    axis.set_title(f"Base de connaissances : {len(ordered)} entrées, {sum(len(e.variants) for e in ordered)} formulations")
    axis.legend(loc="lower right")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
