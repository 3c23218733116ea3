"""Benchmark: evaluating 100 generated pieces of about a minute each against a real test split
(note tables, excerpts, their measurements and the bootstrap comparison of every set), beside
the bare note extraction of the same pieces, in one run.

    python tests/benchmarks/bench_evaluation.py [--pieces 100] [--env base]

The generated pieces are the random baseline (about 8 notes/s for 60 s); the real test split is
the one in the ``--env`` catalog's note table (run data_engineering first).
"""

from __future__ import annotations

import argparse
import logging
import time

import numpy as np
from _project import load_or_explain, load_project

from symbolic_music.music.baselines import random_piece
from symbolic_music.music.notes import notes_table
from symbolic_music.pipelines.evaluation.nodes import collect_pieces, compare_systems, measure_excerpts


PIECE_SECONDS = 60


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pieces", type=int, default=100)
    parser.add_argument("--env", default="base")
    args = parser.parse_args()
    logging.getLogger("kedro").setLevel(logging.WARNING)
    catalog, params = load_project(args.env)
    notes = load_or_explain(catalog, "notes")
    train = notes[notes["split"] == "train"].assign(step=0.125)  # 8 notes/s
    rng = np.random.default_rng(0)
    generated = {f"random/sample_{i:03d}": random_piece(PIECE_SECONDS, (21, 109), train, rng) for i in range(args.pieces)}
    seconds_of_music = sum(s.to("second").end() for s in generated.values())

    started = time.perf_counter()
    for score in generated.values():
        notes_table(score)
    extraction = time.perf_counter() - started
    started = time.perf_counter()
    settings = params["evaluation"]
    pieces, lengths = collect_pieces(generated, {}, notes)
    _, excerpts = measure_excerpts(pieces, lengths, settings["excerpt_seconds"], settings)
    compare_systems(excerpts, settings, settings["bootstrap"]["seed"])
    evaluation = time.perf_counter() - started
    real = int(notes["split"].isin(["validation", "test"]).sum())
    print(f"{args.pieces} generated pieces, {seconds_of_music / 60:.0f} minutes of music, plus {real:,} real validation/test notes")
    print(f"bare note extraction: {extraction:6.2f} s")
    print(f"whole evaluation:     {evaluation:6.2f} s  ({evaluation / extraction:.1f}x the extraction; {args.pieces / evaluation:.1f} pieces/s)")


if __name__ == "__main__":
    main()
