"""Benchmark: the copying check (index ~100k training notes, check 100 pieces of ~300 notes),
beside the bare symbol extraction of the same pieces, in one run.

    python tests/benchmarks/bench_memorization.py [--train-notes 100000] [--pieces 100] [--n 8]

Everything is built in code: the training split is random-walk melodies with octave doublings;
half of the checked pieces carry a transposed 100-note copy of a training passage, so the timing
includes extending real matches. Prints, asserts nothing.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from symbolic_music.music.memorization import CopyIndex, note_symbols


def random_walk(rng: np.random.Generator, num_notes: int) -> pd.DataFrame:
    """A melody stepping up to 4 semitones at 8th, quarter or half notes (120 bpm), a fifth of
    its notes doubled an octave below."""
    pitch = np.clip(60 + np.cumsum(rng.integers(-4, 5, num_notes)), 24, 100)
    start = np.cumsum(rng.choice([0.25, 0.5, 1.0], num_notes))
    low = rng.random(num_notes) < 0.2
    table = pd.DataFrame({"pitch": np.append(pitch, pitch[low] - 12), "start": np.append(start, start[low])})
    return table.sort_values(["start", "pitch"], ignore_index=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-notes", type=int, default=100_000)
    parser.add_argument("--pieces", type=int, default=100)
    parser.add_argument("--n", type=int, default=8)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    train = {f"train_{i:03d}": random_walk(rng, 500) for i in range(args.train_notes // 600)}
    train_table = pd.concat([t.assign(piece_id=k) for k, t in train.items()], ignore_index=True)
    pieces = {}
    for i in range(args.pieces):
        piece = random_walk(rng, 250)
        if i % 2:
            source = train[f"train_{i:03d}"].iloc[200:300]
            moved = source["start"] - source["start"].iloc[0] + piece["start"].iloc[-1] + 0.5
            piece = pd.concat([piece, source.assign(pitch=source["pitch"] + 3, start=moved)], ignore_index=True)
        pieces[f"piece_{i:03d}"] = piece
    checked = sum(len(p) for p in pieces.values())

    started = time.perf_counter()
    index = CopyIndex(train_table, n=args.n)
    indexing = time.perf_counter() - started
    started = time.perf_counter()
    for piece in pieces.values():
        note_symbols(piece)
    symbols = time.perf_counter() - started
    started = time.perf_counter()
    runs = [index.longest_copied_run(piece).notes for piece in pieces.values()]
    longest = time.perf_counter() - started
    started = time.perf_counter()
    for piece in pieces.values():
        index.copied_ngram_share(piece)
    share = time.perf_counter() - started

    print(f"index: {len(train_table):,} training notes in {len(train)} pieces, n = {args.n}: {indexing:.2f} s")
    print(f"checked {args.pieces} pieces, {checked:,} notes; longest runs: copies {sorted(set(runs[1::2]))}, others max {max(runs[::2])}")
    print(f"bare symbol sequences:  {symbols:6.3f} s  ({checked / symbols:,.0f} notes/s)")
    print(f"longest_copied_run:     {longest:6.3f} s  ({checked / longest:,.0f} notes/s; {longest / symbols:.1f}x the symbols)")
    print(f"copied_ngram_share:     {share:6.3f} s  ({checked / share:,.0f} notes/s; {share / symbols:.1f}x the symbols)")


if __name__ == "__main__":
    main()
