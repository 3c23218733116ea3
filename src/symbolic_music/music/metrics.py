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
