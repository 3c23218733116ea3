"""mgeval-style distribution comparison (Yang & Lerch 2018), in numpy alone.

For each feature, every piece gets a value (a number or a flattened histogram/matrix). The
intra-set distances of the reference set (all pairs of its pieces) and the inter-set distances
(every generated piece against every reference piece) are Euclidean. Each distance sample is
smoothed with a Gaussian KDE (Scott's bandwidth) on a grid; the two densities are compared by
their overlap area (OA, 1 = the same distribution, higher is better) and KL divergence
(reference intra-set ‖ inter-set, in nats, 0 = the same).

The KDE is binned (distances counted on the grid, then smoothed), so a set's density can be
recomputed for a thousand bootstrap resamples of its pieces as one matrix product:
``Comparison.scores(weights)``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

NOTE_LENGTH_BINS = np.array([0.0625, 0.125, 0.25, 0.5, 1.0, 2.0])  # seconds; 7 classes
GRID_POINTS = 256


def _histogram(values: np.ndarray, size: int) -> np.ndarray:
    counts = np.bincount(values, minlength=size).astype(float)
    return counts / counts.sum() if counts.sum() else counts


def _transitions(classes: np.ndarray, size: int) -> np.ndarray:
    matrix = np.zeros((size, size))
    np.add.at(matrix, (classes[:-1], classes[1:]), 1)
    return (matrix / matrix.sum()).ravel() if matrix.sum() else matrix.ravel()


def piece_features(notes: pd.DataFrame) -> dict[str, np.ndarray]:
    """mgeval's features of one piece's note table (seconds): pitch count, pitch range, average
    pitch interval (mean |Δpitch| between consecutive notes), average inter-onset interval (s,
    between distinct onsets), pitch-class histogram (12), pitch-class transition matrix (144),
    note-length histogram (7 classes split at 1/16…2 s) and its transition matrix (49). An empty
    piece gives zeros."""
    pitch = notes["pitch"].to_numpy(np.int64)
    if len(pitch) == 0:
        return {"pitch_count": np.zeros(1), "pitch_range": np.zeros(1), "average_pitch_interval": np.zeros(1),
                "average_inter_onset_interval": np.zeros(1), "pitch_class_histogram": np.zeros(12),
                "pitch_class_transition_matrix": np.zeros(144), "note_length_histogram": np.zeros(7),
                "note_length_transition_matrix": np.zeros(49)}
    onsets = np.unique(notes["start"].to_numpy())
    lengths = np.digitize(notes["duration"].to_numpy(), NOTE_LENGTH_BINS)
    return {
        "pitch_count": np.array([len(np.unique(pitch))], float),
        "pitch_range": np.array([pitch.max() - pitch.min()], float),
        "average_pitch_interval": np.array([np.abs(np.diff(pitch)).mean() if len(pitch) > 1 else 0.0]),
        "average_inter_onset_interval": np.array([np.diff(onsets).mean() if len(onsets) > 1 else 0.0]),
        "pitch_class_histogram": _histogram(pitch % 12, 12),
        "pitch_class_transition_matrix": _transitions(pitch % 12, 12),
        "note_length_histogram": _histogram(lengths, 7),
        "note_length_transition_matrix": _transitions(lengths, 7),
    }


def _distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.linalg.norm(a[:, None, :] - b[None, :, :], axis=-1)


def intra_set_distances(features: np.ndarray) -> np.ndarray:
    """Distances between all pairs of distinct pieces of one set (features: pieces × dims)."""
    upper = np.triu_indices(len(features), k=1)
    return _distances(features, features)[upper]


def inter_set_distances(features: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Distances between every piece of a set and every reference piece."""
    return _distances(features, reference).ravel()


def _bandwidth(samples: np.ndarray) -> float:
    """Scott's rule; a constant sample gets a small bandwidth relative to its value."""
    spread = samples.std() if samples.std() > 0 else max(abs(samples.mean()), 1.0) * 1e-2
    return float(spread * len(samples) ** (-1 / 5))


def _smoother(grid: np.ndarray, bandwidth: float) -> np.ndarray:
    """(grid × grid) Gaussian kernel: counts on the grid @ it = the KDE on the grid, unnormalised."""
    return np.exp(-0.5 * ((grid[:, None] - grid[None, :]) / bandwidth) ** 2)


def _normalised(density: np.ndarray, step: float) -> np.ndarray:
    total = density.sum(axis=-1, keepdims=True) * step
    return np.divide(density, total, out=np.zeros_like(density), where=total > 0)


class Comparison:
    """One feature of one set against the reference set.

    ``reference`` holds the reference's intra-set distances; ``rows`` the inter-set distances,
    one row per piece of the set (against every reference piece). ``scores(weights)`` gives
    (OA, KL) for each row of ``weights`` (resamples × pieces: how often each piece is drawn);
    ``weights`` of ones is the set itself. Empty inputs give ``nan``.
    """

    def __init__(self, reference: np.ndarray, rows: np.ndarray) -> None:
        self.empty = len(reference) == 0 or rows.size == 0
        if self.empty:
            return
        both = np.concatenate([reference, rows.ravel()])
        margin = both.std() + 1e-9
        edges = np.linspace(both.min() - 3 * margin, both.max() + 3 * margin, GRID_POINTS + 1)
        grid = (edges[:-1] + edges[1:]) / 2
        self.step = float(edges[1] - edges[0])
        self.p = _normalised(np.histogram(reference, edges)[0] @ _smoother(grid, _bandwidth(reference)), self.step)
        counts = np.stack([np.histogram(row, edges)[0] for row in rows]).astype(float)
        self.row_densities = counts @ _smoother(grid, _bandwidth(rows.ravel()))

    def scores(self, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.empty:
            nan = np.full(len(weights), np.nan)
            return nan, nan
        q = _normalised(weights @ self.row_densities, self.step)
        overlap = np.minimum(self.p, q).sum(axis=1) * self.step
        tiny = 1e-12
        kl = (self.p * np.log((self.p + tiny) / (q + tiny))).sum(axis=1) * self.step
        return overlap, np.maximum(kl, 0.0)


def overlap_and_kl(reference: np.ndarray, other: np.ndarray) -> tuple[float, float]:
    """(overlap area, KL(reference ‖ other)) of the KDEs of two distance samples; ``(nan, nan)``
    if either has no samples."""
    overlap, kl = Comparison(reference, np.asarray(other, dtype=float)[None, :]).scores(np.ones((1, 1)))
    return float(overlap[0]), float(kl[0])
