"""Task 2 against its own ceiling: how well a continuation fits its prompt, beside how well the
real continuation of the same prompt fits it (no Kedro imports).

Three features, each computed between a prefix and what follows it:
- ``key_correlation``: Pearson correlation of the duration-weighted pitch-class histograms
  (does it keep the key?); 1 is the same key profile.
- ``density_log_ratio``: |ln(notes per second after ÷ notes per second in the prefix)|; 0 is the
  same density.
- ``velocity_difference``: |mean velocity after − mean velocity of the prefix| (MIDI units).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from symbolic_music.music.bootstrap import interval, resample_weights, weighted_means

FIT_FEATURES = ["key_correlation", "density_log_ratio", "velocity_difference"]


def _pitch_class_profile(notes: pd.DataFrame) -> np.ndarray:
    return np.bincount(notes["pitch"].to_numpy(np.int64) % 12, weights=notes["duration"].to_numpy(float), minlength=12)


def _density(notes: pd.DataFrame) -> float:
    span = float(notes["end"].max() - notes["start"].min()) if len(notes) else 0.0
    return len(notes) / span if span > 0 else float("nan")


def continuation_fit(prefix: pd.DataFrame, after: pd.DataFrame) -> dict[str, float]:
    """The three features of ``after`` (a continuation) against ``prefix``, both note tables in
    seconds. ``nan`` where undefined: an empty table, or a profile with one pitch class."""
    if len(prefix) == 0 or len(after) == 0:
        return dict.fromkeys(FIT_FEATURES, float("nan"))
    a, b = _pitch_class_profile(prefix), _pitch_class_profile(after)
    correlation = float(np.corrcoef(a, b)[0, 1]) if a.std() > 0 and b.std() > 0 else float("nan")
    ratio = _density(after) / _density(prefix)
    return {
        "key_correlation": correlation,
        "density_log_ratio": float(abs(np.log(ratio))) if ratio > 0 else float("nan"),
        "velocity_difference": float(abs(after["velocity"].mean() - prefix["velocity"].mean())),
    }


def summarize_fit(fits: pd.DataFrame, resamples: int, level: float, rng: np.random.Generator) -> pd.DataFrame:
    """Per ``task`` and ``part`` (continuation or reference) of a table of fits (one row per
    piece), each feature's mean and bootstrap interval over pieces, and the count."""
    rows = []
    for (task, part), group in fits.groupby(["task", "part"], sort=False):
        weights = np.vstack([np.ones(len(group)), resample_weights(group["piece"].to_numpy(), resamples, rng)])
        row = {"task": task, "part": part, "pieces": len(group)}
        for feature in FIT_FEATURES:
            means = weighted_means(weights, group[feature].to_numpy(float))
            row[feature] = float(means[0])
            row[f"{feature}_low"], row[f"{feature}_high"] = interval(means[1:], level, row[feature])
        rows.append(row)
    return pd.DataFrame(rows)
