"""The blind listening test, read back: ratings records in, per-system figures out (no Kedro).

The app writes one JSON object per line (see ``app/listening.py``):

    {"time": "...", "listener": "<hex>", "pair": 3, "kind": "real_vs_generated",
     "a": {"system": "real/test", "piece": "..."}, "b": {"system": "unconditioned/balanced", ...},
     "preferred": "a" | "b" | null, "rating_a": 1-5 | null, "rating_b": 1-5 | null,
     "excerpt_seconds": 15, "synthetic": false}

A system holds real music when ``systems.is_real`` says so (``real/test``, ``continuation/reference``).
"""

from __future__ import annotations

import json
import math
from collections import Counter

import numpy as np
import pandas as pd

from symbolic_music.music.systems import is_real

Z_95 = 1.959964  # two-sided 95% normal quantile
SUMMARY_COLUMNS = [
    "system", "is_real",
    "preference_n", "preference_wins", "preference_rate", "preference_low", "preference_high",
    "head_to_head_n", "head_to_head_rate",
    "rating_n", "rating_mean", "rating_low", "rating_high",
]


def parse_ratings(text: str) -> tuple[list[dict], int]:
    """JSON-lines text → (records, lines skipped).

    A line counts only when it ends with a newline and parses as a JSON object holding ``a``
    and ``b``. A trailing line without its newline (a write in progress, or one cut short) and
    any line that fails to parse are skipped and counted; blank lines are ignored. Empty text
    gives ``([], 0)``.
    """
    lines = text.split("\n")
    complete, trailing = lines[:-1], lines[-1]
    records, skipped = [], int(bool(trailing.strip()))
    for line in complete:
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            skipped += 1
            continue
        if isinstance(record, dict) and isinstance(record.get("a"), dict) and isinstance(record.get("b"), dict):
            records.append(record)
        else:
            skipped += 1
    return records, skipped


def wilson_interval(successes: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval of a proportion ``successes / n`` (95% by default); NaNs when ``n`` is 0."""
    if n == 0:
        return math.nan, math.nan
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def mean_interval(values: list[float], z: float = Z_95) -> tuple[float, float, float]:
    """(mean, low, high): the normal-approximation 95% interval ``mean ± z·s/√n`` with the sample
    standard deviation ``s``. No values give NaNs; one value gives NaN bounds."""
    if not values:
        return math.nan, math.nan, math.nan
    mean = float(np.mean(values))
    if len(values) < 2:
        return mean, math.nan, math.nan
    half = z * float(np.std(values, ddof=1)) / math.sqrt(len(values))
    return mean, mean - half, mean + half


def _sides(record: dict) -> list[tuple[str, str]]:
    """[(side, system)] of a record: ``[("a", ...), ("b", ...)]``."""
    return [(side, str(record[side].get("system", "unknown"))) for side in ("a", "b")]


def listening_table(records: list[dict]) -> pd.DataFrame:
    """One row per system heard (``SUMMARY_COLUMNS``), sorted by system name.

    - ``preference_*``: over pairs of this (generated) system against real music where the
      listener picked one, the share of picks that went to this system (0.5 = as musical as
      real music), its Wilson 95% interval, and the counts. NaN for real systems.
    - ``head_to_head_*``: the same share over pairs against another generated system (no interval).
    - ``rating_*``: the mean 1–5 rating of this system's excerpts, its normal 95% interval, and
      how many ratings.

    No records give an empty table with these columns.
    """
    wins: dict[str, list[int]] = {}
    duels: dict[str, list[int]] = {}
    ratings: dict[str, list[float]] = {}
    for record in records:
        sides = _sides(record)
        for side, system in sides:
            ratings.setdefault(system, [])
            rating = record.get(f"rating_{side}")
            if isinstance(rating, (int, float)) and 1 <= rating <= 5:
                ratings[system].append(float(rating))
        preferred = record.get("preferred")
        if preferred not in ("a", "b"):
            continue
        (_, first), (_, second) = sides
        real = [is_real(first), is_real(second)]
        if real[0] != real[1]:
            generated_side = "b" if real[0] else "a"
            generated = second if real[0] else first
            wins.setdefault(generated, []).append(int(preferred == generated_side))
        elif not any(real):
            for side, system in sides:
                duels.setdefault(system, []).append(int(preferred == side))
    rows = []
    for system in sorted(ratings):
        picks, matches = wins.get(system, []), duels.get(system, [])
        low, high = wilson_interval(sum(picks), len(picks))
        mean, mean_low, mean_high = mean_interval(ratings[system])
        rows.append({
            "system": system, "is_real": is_real(system),
            "preference_n": len(picks), "preference_wins": sum(picks),
            "preference_rate": sum(picks) / len(picks) if picks else math.nan, "preference_low": low, "preference_high": high,
            "head_to_head_n": len(matches), "head_to_head_rate": sum(matches) / len(matches) if matches else math.nan,
            "rating_n": len(ratings[system]), "rating_mean": mean, "rating_low": mean_low, "rating_high": mean_high,
        })
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def listening_counts(records: list[dict], skipped_lines: int) -> dict:
    """How much the test holds: records, lines skipped, synthetic records (test data that must
    never reach a report), listeners, and judgements by kind."""
    return {
        "records": len(records),
        "skipped_lines": skipped_lines,
        "synthetic_records": sum(bool(r.get("synthetic")) for r in records),
        "listeners": len({r.get("listener") for r in records if r.get("listener")}),
        "preferences": sum(r.get("preferred") in ("a", "b") for r in records),
        "ratings": sum(isinstance(r.get(f"rating_{side}"), (int, float)) for r in records for side in ("a", "b")),
        "pairs_by_kind": dict(sorted(Counter(str(r.get("kind", "unknown")) for r in records).items())),
    }
