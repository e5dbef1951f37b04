"""Command line of the knowledge pipeline.

    python -m knowledge build      # every stage; writes the KB, bot/data/generated/ and the answer risk model
    python -m knowledge check      # rebuilds in memory; exit 1 if the generated files are stale
    python -m knowledge eval       # rebuilds in memory; cross-validates the whole answer policy, draws its curve
    python -m knowledge validate   # load stage only: report malformed lines
    python -m knowledge tune-retrieval  # chooses the retriever's weights by cross-validation (prints them)
    python -m knowledge generated-dir   # where the generated training data is (out of git for a school's transcripts)
    python -m knowledge eval-nlu   # the same cross-validation with fold-trained Rasa NLU models too (~15 min)
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

from tqdm import tqdm

from knowledge import corpus, nlu_replay, tune
from knowledge.anonymise import spacy_ner
from knowledge.crossval import draws_lines, headline, items_of, replay, report_lines, risk_shape, served_model
from knowledge.export import stale_files, write
from knowledge.load import load_corpus, transcript_files
from knowledge.pipeline import build_knowledge, store
from knowledge.report import draw_coverage, draw_curve
from orientbot.detectors import fitter
from orientbot.risk import FEATURES
from orientbot.settings import PROJECT_ROOT, load_settings


def _progress(iterable, **options):
    return tqdm(iterable, file=sys.stderr, leave=False, **options)


def cross_validate(result, settings, *, progress, features=FEATURES, draws=1):
    """The whole answer policy replayed over the transcripts (``knowledge.crossval``); prints and keeps the report.

    ``draws``: how many different random fifths of the entries the folds hold out; the first is reported in
    full, all of them in a summary (which entries are held out moves the figures more than most changes do),
    and the risk model served pools them (``knowledge.crossval.served_model``).
    """
    started = time.perf_counter()
    budget = settings.gate.wrong_answer_budget
    items = items_of(result.clusters, result.entries)
    runs = [replay(items, result.entries, settings.gate, fitter(PROJECT_ROOT, settings.detectors), budget=budget,
                   features=features, progress=progress, draw=draw, weights=settings.retrieval)
            for draw in range(draws)]
    replayed = runs[0]
    if draws > 1:
        replayed.served = served_model(runs, budget=budget, features=features, shape=risk_shape(settings.gate))
    lines = report_lines(replayed, budget)
    if draws > 1:
        lines += [""] + draws_lines([headline(run) for run in runs])
    settings.reports_dir.mkdir(parents=True, exist_ok=True)
    (settings.reports_dir / "crossval.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for line in lines:
        print(f"[eval] {line}")
    print(f"[eval] {time.perf_counter() - started:.1f} s ; rapport : {settings.reports_dir / 'crossval.txt'}")
    return replayed


def main(argv=None) -> int:
    settings = load_settings()
    parser = argparse.ArgumentParser(prog="python -m knowledge", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("build", "check", "validate", "eval", "tune-retrieval", "eval-nlu",
                                            "generated-dir"))
    parser.add_argument("--transcripts", type=Path, default=settings.transcripts_dir)
    parser.add_argument("--out", type=Path, default=None,
                        help="where the Rasa files go (default: knowledge.corpus decides, out of git for a school's)")
    parser.add_argument("--database-url", default=settings.database_url)
    parser.add_argument("--draws", type=int, default=3, metavar="N",
                        help="build, eval: how many random choices of held-out entries to replay; the served risk model "
                        "pools them (the figures move with the choice)")
    parser.add_argument("--without", default="", metavar="F1,F2",
                        help="eval: risk features left out, to measure what they bring (orientbot.risk.FEATURES)")
    parser.add_argument("--report", type=Path, default=None, help="eval-nlu: where the report goes (settings.nlu_report)")
    parser.add_argument("--work", type=Path, default=None, metavar="DIR",
                        help="eval-nlu: keep the fold models and parses there, and reuse those whose data did not change")
    args = parser.parse_args(argv)
    settings = corpus.for_the_corpus(replace(settings, transcripts_dir=args.transcripts))
    args.out = args.out or settings.generated_dir
    args.report = args.report or settings.nlu_report
    if args.command == "generated-dir":
        print(args.out)
        return 0

    files = transcript_files(args.transcripts)
    if not files:
        print(f"aucun fichier de transcriptions dans {args.transcripts}", file=sys.stderr)
        return 2
    if args.command == "validate":
        conversations, errors = load_corpus(files)
        for error in errors:
            print(error, file=sys.stderr)
        print(f"{len(conversations)} conversations valides, {len(errors)} erreurs")
        return 1 if errors else 0

    started = time.perf_counter()
    print(f"[knowledge] {len(files)} fichiers ; chargement du modèle spaCy {settings.spacy_model}…", file=sys.stderr)
    result = build_knowledge(files, ner=spacy_ner(settings.spacy_model), progress=_progress)
    for error in result.load_errors:
        print(f"[knowledge] ignoré : {error}", file=sys.stderr)
    for line in result.summary():
        print(f"[knowledge] {line}")
    if args.command == "check":
        stale = stale_files(result.files, args.out)
        if stale:
            print(f"[knowledge] fichiers générés périmés : {', '.join(stale)} — lancez `make kb`", file=sys.stderr)
            return 1
        print("[knowledge] fichiers générés à jour")
        return 0
    if args.command == "tune-retrieval":
        items = items_of(result.clusters, result.entries)
        best = tune.search(items, result.entries, settings.retrieval, draws=args.draws,
                           report=lambda ranked, note: print(f"[tune] {note:20} {tune.line(ranked)}", flush=True))
        print(f"[tune] best: {tune.line(best)}")
        return 0
    if args.command == "eval-nlu":
        lines = nlu_replay.run(result, settings, fitter(PROJECT_ROOT, settings.detectors), work=args.work,
                               report=args.report, started=started)
        for line in lines:
            print(f"[eval-nlu] {line}")
        print(f"[eval-nlu] rapport : {args.report}")
        return 0
    if args.command == "eval":
        left_out = {name for name in args.without.split(",") if name}
        unknown = left_out - set(FEATURES)
        if unknown:
            parser.error(f"caractéristiques inconnues : {', '.join(sorted(unknown))}")
        replayed = cross_validate(result, settings, progress=_progress, draws=args.draws,
                                  features=[name for name in FEATURES if name not in left_out])
        if left_out:
            return 0
        picture = draw_curve(replayed, settings.curve_picture, settings.gate.wrong_answer_budget)
        print(f"[eval] courbe couverture-risque : {picture}")
        return 0
    replayed = cross_validate(result, settings, progress=_progress, draws=args.draws)
    replayed.served.save(settings.gate.risk_model)
    print(f"[knowledge] modèle de risque des réponses : {settings.gate.risk_model} (seuil {replayed.served.threshold:.3f})")
    count = store(result.entries, args.database_url)
    write(result.files, args.out)
    settings.reports_dir.mkdir(parents=True, exist_ok=True)
    (settings.reports_dir / "knowledge-build.txt").write_text("\n".join(result.summary()) + "\n", encoding="utf-8")
    picture = draw_coverage(result.entries, settings.reports_dir / "kb-coverage.png")
    print(f"[knowledge] couverture de la base : {picture}")
    print(f"[knowledge] {count} entrées enregistrées, fichiers écrits dans {args.out} ({time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
