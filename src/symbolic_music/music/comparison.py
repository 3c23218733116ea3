"""The yardstick: sets of excerpts against the real test split, every figure with a bootstrap
interval over pieces (no Kedro imports).

Per excerpt: mgeval's features (``music.distribution``), MusPy-style means and the original
study's metrics (``music.metrics``), and note histograms. Per set: overlap area (OA) and KL of
each feature against the reference, Jensen–Shannon divergences of the pooled histograms, and
means of the per-excerpt metrics, each with a percentile interval from resampling pieces
(``music.bootstrap``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from symbolic_music.music import metrics as m
from symbolic_music.music.bootstrap import interval, resample_weights, weighted_means
from symbolic_music.music.distribution import Comparison, intra_set_distances, piece_features
from symbolic_music.music.statistics import MAX_INTERVAL

MUSPY_METRICS = ["pitch_class_entropy", "scale_consistency", "polyphony", "empty_beat_rate", "groove_consistency"]
ORIGINAL_METRICS = ["notes_per_second", "pitch_range", "pitch_entropy", "melodic_coherence", "step_motion_ratio",
                    "large_leap_ratio", "most_common_pitch_ratio", "overall_quality_score", "overall_similarity"]
HISTOGRAMS = ["pitch", "pitch_class", "interval", "step", "duration"]


def note_histograms(notes: pd.DataFrame, time_bins: list[float]) -> dict[str, np.ndarray]:
    """Counts of pitches (128), pitch classes (12), melodic intervals between consecutive notes
    of one excerpt or piece (−24…24, clipped), and steps and durations in ``time_bins`` (s)."""
    pitch = notes["pitch"].to_numpy(np.int64)
    group = notes["excerpt_id"] if "excerpt_id" in notes else notes["piece_id"]
    same = group.to_numpy()[1:] == group.to_numpy()[:-1]
    intervals = np.clip(np.diff(pitch)[same], -MAX_INTERVAL, MAX_INTERVAL) + MAX_INTERVAL
    bins = np.asarray(time_bins)
    return {
        "pitch": np.bincount(pitch, minlength=128),
        "pitch_class": np.bincount(pitch % 12, minlength=12),
        "interval": np.bincount(intervals, minlength=2 * MAX_INTERVAL + 1),
        "step": np.bincount(np.digitize(notes["step"], bins), minlength=len(bins) + 1),
        "duration": np.bincount(np.digitize(notes["duration"], bins), minlength=len(bins) + 1),
    }


def muspy_metrics(notes: pd.DataFrame, params: dict) -> dict[str, float]:
    """MusPy-style metrics of one excerpt (see ``music.metrics``); ``nan`` where undefined."""
    start, end, pitch = notes["start"].to_numpy(), notes["end"].to_numpy(), notes["pitch"].to_numpy()
    beat = params["beat_seconds"]
    return {
        "pitch_class_entropy": m.pitch_class_entropy(pitch),
        "scale_consistency": m.scale_consistency(pitch),
        "polyphony": m.polyphony(start, end, params["polyphony_resolution_seconds"]),
        "empty_beat_rate": m.empty_beat_rate(start, end, beat),
        "groove_consistency": m.groove_consistency(start, beat * params["beats_per_bar"], params["groove_positions"]),
    }


@dataclass
class Excerpts:
    """Every excerpt to compare, one row each in ``index`` (``excerpt_id``, ``piece_id``,
    ``system``, ``short``), with aligned ``features`` (mgeval), ``histograms`` and ``scalars``."""

    index: pd.DataFrame
    features: dict[str, np.ndarray]
    histograms: dict[str, np.ndarray]
    scalars: pd.DataFrame

    @classmethod
    def measure(cls, notes: pd.DataFrame, index: pd.DataFrame, reference_statistics: dict, params: dict) -> Excerpts:
        """Measure every excerpt of ``index`` from its notes (an excerpt without notes gets zeros
        and ``nan`` metrics, as the functions it calls define)."""
        by_excerpt = dict(tuple(notes.groupby("excerpt_id", sort=False)))
        empty = notes.iloc[:0]
        features, histograms, scalars = [], [], []
        for excerpt_id in index["excerpt_id"]:
            table = by_excerpt.get(excerpt_id, empty)
            features.append(piece_features(table))
            histograms.append(note_histograms(table, params["time_bins_seconds"]))
            scalars.append({**muspy_metrics(table, params), **m.piece_metrics(table, reference_statistics, params["limits"])})
        stack = lambda rows, key: np.stack([row[key] for row in rows]).astype(float)  # noqa: E731
        return cls(
            index.reset_index(drop=True),
            {name: stack(features, name) for name in features[0]},
            {name: stack(histograms, name) for name in HISTOGRAMS},
            pd.DataFrame(scalars).reindex(columns=MUSPY_METRICS + ORIGINAL_METRICS).astype(float),
        )


def js_divergences(histograms: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Jensen–Shannon divergence (bits) of each row of ``histograms`` against ``reference``."""
    return np.array([m.js_divergence(row, reference) for row in histograms])


def compare(excerpts: Excerpts, system: str, reference: str, resamples: int, level: float, rng: np.random.Generator) -> dict:
    """One set against the reference: each figure, and its interval over ``resamples``
    bootstrap resamples of the set's pieces (the reference stays fixed). Keys: ``<figure>``,
    ``<figure>_low``, ``<figure>_high`` for ``mean_oa``, ``mean_kl``, ``js_<histogram>`` and the
    per-excerpt metrics, and ``oa_<feature>``/``kl_<feature>`` as point values."""
    rows = (excerpts.index["system"] == system).to_numpy()
    reference_rows = (excerpts.index["system"] == reference).to_numpy()
    weights = np.vstack([np.ones(rows.sum()), resample_weights(excerpts.index.loc[rows, "piece_id"].to_numpy(), resamples, rng)])
    samples: dict[str, np.ndarray] = {}
    overlaps, kls = [], []
    for name, values in excerpts.features.items():
        reference_values = values[reference_rows]
        distances = np.linalg.norm(values[rows][:, None, :] - reference_values[None, :, :], axis=-1)
        overlap, kl = Comparison(intra_set_distances(reference_values), distances).scores(weights)
        samples[f"oa_{name}"], samples[f"kl_{name}"] = overlap, kl
        overlaps.append(overlap)
        kls.append(kl)
    samples["mean_oa"], samples["mean_kl"] = np.mean(overlaps, axis=0), np.mean(kls, axis=0)
    for name, histograms in excerpts.histograms.items():
        samples[f"js_{name}"] = js_divergences(weights @ histograms[rows], histograms[reference_rows].sum(0))
    for name in excerpts.scalars:
        samples[name] = weighted_means(weights, excerpts.scalars.loc[rows, name].to_numpy())
    result = {}
    for name, values in samples.items():
        result[name] = float(values[0])
        if not name.startswith(("oa_", "kl_")):
            bounds = (0.0, 1.0) if name == "mean_oa" else (0.0, np.inf) if name.startswith(("js_", "mean_kl")) else (-np.inf, np.inf)
            result[f"{name}_low"], result[f"{name}_high"] = interval(values[1:], level, result[name], bounds)
    return result
