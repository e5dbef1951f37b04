"""Pictures of what the KB covers (``var/reports/``) and of the answer policy's coverage and risk (``docs/``)."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from knowledge.crossval import Replay
from orientbot.kb import KnowledgeEntry
from orientbot.risk import curve


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


def draw_curve(result: Replay, path: Path, budget: float) -> Path:
    """Coverage against risk over the pooled out-of-fold probabilities, with the operating point."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ids = sorted(result.probabilities)
    right = [result.right[i] for i in ids]
    points = curve([result.probabilities[i] for i in ids], right)
    n = len(result.right)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.plot([c for _, c, _ in points], [r for _, _, r in points], color="#1f5f8b", label="réponses du retriever")
    ax.axhline(budget, color="#b03a2e", linestyle="--", label=f"budget d'erreurs ({_french(budget * 100, 1)} % des questions)")
    operating = [(c, r) for t, c, r in points if t >= result.served.threshold]
    if operating:
        ax.plot(*operating[-1], "o", color="#b03a2e", label=f"point de fonctionnement (p ≥ {_french(result.served.threshold, 2)})")
    ax.set_xlabel(f"couverture : part des {n} questions répondues")
    ax.set_ylabel("risque : réponses fausses / toutes les questions")
    ax.set_title("Couverture et risque, validation croisée sur les transcriptions")
    ax.set_ylim(0, 0.12)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _french(number: float, decimals: int) -> str:
    return f"{number:.{decimals}f}".replace(".", ",")
