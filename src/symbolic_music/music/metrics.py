"""Metrics that compare generated music with real music (no Kedro imports)."""

from __future__ import annotations

import numpy as np


def js_divergence(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen–Shannon divergence in bits between two histograms (normalised here): 0 for
    identical distributions, 1 for disjoint ones. An all-zero histogram gives ``nan``."""
    p, q = np.asarray(p, dtype=float), np.asarray(q, dtype=float)
    if p.sum() == 0 or q.sum() == 0:
        return float("nan")
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2

    def kl(a: np.ndarray, b: np.ndarray) -> float:
        mask = a > 0
        return float((a[mask] * np.log2(a[mask] / b[mask])).sum())

    return (kl(p, m) + kl(q, m)) / 2


def pitch_class_entropy(pitch: np.ndarray) -> float:
    """Shannon entropy (bits) of the pitch-class histogram: 0 for one pitch class, log2(12) ≈
    3.58 for all twelve equally often. ``nan`` for no notes."""
    if len(pitch) == 0:
        return float("nan")
    counts = np.bincount(np.asarray(pitch, dtype=np.int64) % 12, minlength=12)
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log2(p)).sum()) + 0.0


def scale_consistency(pitch: np.ndarray) -> float:
    """Largest share of notes inside one of the 24 major and natural-minor scales (MusPy's
    definition): 1 when every note fits one scale. ``nan`` for no notes."""
    if len(pitch) == 0:
        return float("nan")
    classes = np.asarray(pitch, dtype=np.int64) % 12
    best = 0.0
    for mode in ([0, 2, 4, 5, 7, 9, 11], [0, 2, 3, 5, 7, 8, 10]):
        for tonic in range(12):
            best = max(best, float(np.isin(classes, [(tonic + s) % 12 for s in mode]).mean()))
    return best


def polyphony(start: np.ndarray, end: np.ndarray, resolution: float) -> float:
    """Mean number of notes sounding over the time steps (``resolution`` s) where at least one
    sounds. 1 for a melody; ``nan`` for no notes."""
    if len(start) == 0:
        return float("nan")
    steps = np.arange(0.0, float(np.max(end)), resolution)
    sounding = ((start[None, :] <= steps[:, None]) & (end[None, :] > steps[:, None])).sum(1)
    active = sounding[sounding > 0]
    return float(active.mean()) if len(active) else float("nan")


def empty_beat_rate(start: np.ndarray, end: np.ndarray, beat: float) -> float:
    """Share of beats (``beat`` s long, up to the last note's end) in which no note sounds."""
    if len(start) == 0:
        return float("nan")
    beats = np.arange(0.0, float(np.max(end)), beat)
    occupied = (start[None, :] < beats[:, None] + beat) & (end[None, :] > beats[:, None])
    return float(1.0 - occupied.any(1).mean())


def groove_consistency(start: np.ndarray, bar: float, positions: int) -> float:
    """1 − the mean Hamming distance (as a share of ``positions``) between the onset patterns of
    consecutive bars (``bar`` s long, ``positions`` grid steps): 1 when every bar has the same
    rhythm. ``nan`` for fewer than two bars."""
    if len(start) == 0:
        return float("nan")
    bars = int(np.max(start) // bar) + 1
    if bars < 2:
        return float("nan")
    patterns = np.zeros((bars, positions), dtype=bool)
    index = np.minimum(((start % bar) / bar * positions).astype(int), positions - 1)
    patterns[(start // bar).astype(int), index] = True
    return float(1.0 - (patterns[1:] != patterns[:-1]).mean())


# --- the original study's per-piece metrics, kept by name -------------------------------------
def piece_metrics(notes, reference: dict, limits: dict) -> dict[str, float]:
    """The original per-piece metrics of one note table (seconds, MIDI numbers), each defined here.

    Basic statistics: ``num_notes``; ``duration`` (s, last note end); ``notes_per_second``;
    ``pitch_range`` (max − min); ``pitch_mean``/``pitch_std``; ``unique_pitches``;
    ``step_mean``/``step_std`` and ``duration_mean``/``duration_std`` (s).
    Melody: ``step_motion_ratio`` = share of consecutive intervals of at most 2 semitones;
    ``large_leap_ratio`` = share larger than ``limits['large_leap']`` semitones;
    ``melodic_coherence`` = 1 − large_leap_ratio.
    Validity (shares of notes): ``pitch_range_validity`` (pitch within ``limits['pitch_range']``),
    ``duration_validity`` and ``step_validity`` (within ``limits['duration_seconds']`` /
    ``limits['step_seconds']``; a step of 0, a chord, is valid).
    Variety: ``pitch_entropy`` (bits over MIDI pitches); ``most_common_pitch_ratio``.
    ``overall_quality_score`` = mean of melodic coherence, the three validities and pitch entropy
    ÷ log2(unique pitches allowed by the range), each in [0, 1].
    Similarity to ``reference`` (reference_statistics of the real test split):
    ``{pitch,step,duration}_similarity`` = exp(−|mean − reference mean| ÷ reference std), and
    ``overall_similarity`` their mean. An empty table gives ``nan`` everywhere but ``num_notes``.
    """
    pitch = notes["pitch"].to_numpy(np.int64)
    if len(pitch) == 0:
        return {"num_notes": 0.0}
    step, duration = notes["step"].to_numpy(float), notes["duration"].to_numpy(float)
    length = float(notes["end"].max())
    intervals = np.abs(np.diff(pitch))
    low, high = limits["pitch_range"]
    counts = np.bincount(pitch, minlength=128)
    shares = counts[counts > 0] / len(pitch)
    result = {
        "num_notes": float(len(pitch)),
        "duration": length,
        "notes_per_second": len(pitch) / length if length > 0 else float("nan"),
        "pitch_range": float(pitch.max() - pitch.min()),
        "pitch_mean": float(pitch.mean()),
        "pitch_std": float(pitch.std()),
        "unique_pitches": float(len(shares)),
        "step_mean": float(step.mean()),
        "step_std": float(step.std()),
        "duration_mean": float(duration.mean()),
        "duration_std": float(duration.std()),
        "step_motion_ratio": float((intervals <= 2).mean()) if len(intervals) else float("nan"),
        "large_leap_ratio": float((intervals > limits["large_leap"]).mean()) if len(intervals) else float("nan"),
        "pitch_range_validity": float(((pitch >= low) & (pitch <= high)).mean()),
        "duration_validity": float(((duration >= limits["duration_seconds"][0]) & (duration <= limits["duration_seconds"][1])).mean()),
        "step_validity": float(((step == 0) | ((step >= limits["step_seconds"][0]) & (step <= limits["step_seconds"][1]))).mean()),
        "pitch_entropy": float(-(shares * np.log2(shares)).sum()) + 0.0,
        "most_common_pitch_ratio": float(shares.max()),
    }
    result["melodic_coherence"] = 1.0 - result["large_leap_ratio"]
    result["overall_quality_score"] = float(np.nanmean([
        result["melodic_coherence"], result["pitch_range_validity"], result["duration_validity"], result["step_validity"],
        result["pitch_entropy"] / np.log2(high - low + 1),
    ]))
    for feature in ("pitch", "step", "duration"):
        spread = reference[feature]["std"] or 1.0
        result[f"{feature}_similarity"] = float(np.exp(-abs(result[f"{feature}_mean"] - reference[feature]["mean"]) / spread))
    result["overall_similarity"] = float(np.mean([result[f"{f}_similarity"] for f in ("pitch", "step", "duration")]))
    return result
