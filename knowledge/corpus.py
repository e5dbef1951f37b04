"""Whether the transcripts are the project's fictional sample or a school's own, and so where what is drawn from them goes.

The sample (every transcript file tracked by git) keeps its generated training data in git
(``settings.generated_dir``, ``bot/data/generated/``) and its coverage-risk curve and NLU replay report in ``docs/``, so that a fresh
clone has them and a test can find them stale. A school's transcripts are personal data: as soon as one
transcript file is not tracked by git (a school drops its export into ``transcripts/`` or
``transcripts/imports/``), the generated training data (mined questions, verbatim distress messages) goes
to ``var/generated/`` and the curve and reports to ``var/reports/``, which git ignores; Rasa trains from there
(``make train`` asks ``python -m knowledge generated-dir``) and the detectors read from there. A directory
set explicitly in the settings is used as set. Outside a git work tree nothing can be committed, and the
settings are used as they are.
"""
from __future__ import annotations

import subprocess  # nosec B404: runs git only, with fixed arguments
from dataclasses import replace
from pathlib import Path
from typing import List, Sequence, Set

from knowledge.load import transcript_files
from orientbot.settings import PROJECT_ROOT, Settings

DEFAULTS = Settings()
SCHOOL_GENERATED_DIR = PROJECT_ROOT / "var" / "generated"
SCHOOL_CURVE_PICTURE = PROJECT_ROOT / "var" / "reports" / "coverage-risk.png"
SCHOOL_NLU_REPORT = PROJECT_ROOT / "var" / "reports" / "nlu-crossval.txt"


def _tracked(root: Path) -> Set[Path]:
    """The files git tracks under ``root``; raises OSError when ``root`` is not in a git work tree."""
    try:
        listed = subprocess.run(["git", "-C", str(root), "ls-files", "-z", "--full-name"],  # nosec B603 B607
                                capture_output=True, check=True, timeout=30)
        top = subprocess.run(["git", "-C", str(root), "rev-parse", "--show-toplevel"],  # nosec B603 B607
                             capture_output=True, check=True, text=True, timeout=30).stdout.strip()
    except (subprocess.SubprocessError, FileNotFoundError) as error:
        raise OSError(f"not a git work tree: {root}") from error
    return {(Path(top) / name).resolve() for name in listed.stdout.decode("utf-8").split("\0") if name}


def untracked(files: Sequence[Path], root: Path = PROJECT_ROOT) -> List[Path]:
    """The transcript files git does not track: a school's own ([] outside a git work tree)."""
    try:
        tracked = _tracked(root)
    except OSError:
        return []
    return [f for f in files if Path(f).resolve() not in tracked]


def for_the_corpus(settings: Settings, root: Path = PROJECT_ROOT) -> Settings:
    """``settings`` with the generated data, the curve and the NLU report out of git when the transcripts are a school's."""
    if not untracked(transcript_files(Path(settings.transcripts_dir)), Path(root)):
        return settings
    return replace(
        settings,
        generated_dir=SCHOOL_GENERATED_DIR if settings.generated_dir == DEFAULTS.generated_dir else settings.generated_dir,
        curve_picture=SCHOOL_CURVE_PICTURE if settings.curve_picture == DEFAULTS.curve_picture else settings.curve_picture,
        nlu_report=SCHOOL_NLU_REPORT if settings.nlu_report == DEFAULTS.nlu_report else settings.nlu_report,
    )
