"""Benchmark: turning 20 s and 60 s of piano into an audio file (render + loudness + encode),
beside rendering alone, in one run.

    python tests/benchmarks/bench_audio.py [--env base] [--repeats 3]

The pieces are random piano music built in code (8 notes/s over pitches 36–96, 0.1–1 s long,
velocities 40–110); the settings are the ``--env`` environment's ``generation.audio``. Prints
the real-time factor (seconds of work per second of audio; best of ``--repeats``) of each stage
and the whole chain's time as a ratio of rendering alone.
"""

from __future__ import annotations

import argparse
import logging
import time

import numpy as np
from _project import load_project

from symbolic_music.music.audio import encode_audio, find_soundfont, normalize_loudness, render
from symbolic_music.music.notes import score_from_notes

NOTES_PER_SECOND = 8


def piano(seconds: float, seed: int = 0):
    """Random piano notes that end exactly at ``seconds``."""
    rng = np.random.default_rng(seed)
    count = int(seconds * NOTES_PER_SECOND)
    start = np.sort(rng.uniform(0, seconds - 1.0, count))
    duration = rng.uniform(0.1, 1.0, count)
    duration[-1] = seconds - start[-1]
    return score_from_notes(rng.integers(36, 97, count), start, duration, rng.integers(40, 111, count))


def best_time(run, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="base")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    logging.getLogger("kedro").setLevel(logging.WARNING)
    _, params = load_project(args.env)
    s = params["generation"]["audio"]
    soundfont = find_soundfont(s["soundfont"])
    print(f"SoundFont {soundfont.name}, {s['sample_rate']} Hz, {s['format']}, {s['loudness_dbfs']} dBFS RMS, tail {s['tail_seconds']} s")

    for seconds in (20, 60):
        score = piano(seconds)
        samples = render(score, soundfont, s["sample_rate"], s["tail_seconds"])
        level = normalize_loudness(samples, s["loudness_dbfs"], s["peak_dbfs"])
        data = encode_audio(level, s["sample_rate"], s["format"])
        duration = len(samples) / s["sample_rate"]

        rendering = best_time(lambda: render(score, soundfont, s["sample_rate"], s["tail_seconds"]), args.repeats)
        loudness = best_time(lambda: normalize_loudness(samples, s["loudness_dbfs"], s["peak_dbfs"]), args.repeats)
        encoding = best_time(lambda: encode_audio(level, s["sample_rate"], s["format"]), args.repeats)
        total = rendering + loudness + encoding
        print(f"{seconds} s of piano ({duration:.1f} s of audio, {len(data) / 1e3:.0f} kB, {len(data) * 8 / duration / 1e3:.0f} kbit/s):")
        print(f"  render:            RTF {rendering / duration:.4f}")
        print(f"  loudness:          RTF {loudness / duration:.4f}")
        print(f"  encode:            RTF {encoding / duration:.4f}")
        print(f"  render+loud+encode RTF {total / duration:.4f}  ({duration / total:.0f}x real time; {total / rendering:.1f}x rendering alone)")


if __name__ == "__main__":
    main()
