"""mgeval-style distribution comparison (Yang & Lerch 2018), in numpy alone.

For each feature, every piece gets a value (a number or a flattened histogram/matrix). The
intra-set distances of the reference set (all pairs of its pieces) and the inter-set distances
(every generated piece against every reference piece) are Euclidean. Each distance sample is
smoothed with a Gaussian KDE (Scott's bandwidth); the two densities are compared by their
overlap area (OA, 1 = the same distribution, higher is better) and KL divergence (reference
intra-set ‖ inter-set, in nats, 0 = the same).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

NOTE_LENGTH_BINS = np.array([0.0625, 0.125, 0.25, 0.5, 1.0, 2.0])  # seconds; 7 classes
GRID_POINTS = 512


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


def _kde(samples: np.ndarray, grid: np.ndarray) -> np.ndarray:
    spread = samples.std() if samples.std() > 0 else max(abs(samples.mean()), 1.0) * 1e-2
    bandwidth = spread * len(samples) ** (-1 / 5)
    density = np.exp(-0.5 * ((grid[:, None] - samples[None, :]) / bandwidth) ** 2).sum(1)
    return density / np.trapezoid(density, grid)


def overlap_and_kl(reference: np.ndarray, other: np.ndarray) -> tuple[float, float]:
    """(overlap area, KL(reference ‖ other)) of the Gaussian KDEs of two distance samples;
    ``(nan, nan)`` if either has no samples."""
    if len(reference) == 0 or len(other) == 0:
        return float("nan"), float("nan")
    both = np.concatenate([reference, other])
    margin = both.std() + 1e-9
    grid = np.linspace(both.min() - 3 * margin, both.max() + 3 * margin, GRID_POINTS)
    p, q = _kde(reference, grid), _kde(other, grid)
    overlap = float(np.trapezoid(np.minimum(p, q), grid))
    tiny = 1e-12
    kl = float(np.trapezoid(p * np.log((p + tiny) / (q + tiny)), grid))
    return overlap, max(kl, 0.0)
