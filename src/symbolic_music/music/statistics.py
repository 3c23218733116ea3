"""Corpus statistics of a note table, the reference that evaluation compares generated music to."""

from __future__ import annotations

import numpy as np
import pandas as pd

PITCH_CLASS_NAMES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]
MAX_INTERVAL = 24  # intervals beyond two octaves share the outermost histogram bins


def pitch_class_histogram(pitch: np.ndarray) -> list[float]:
    """Share of notes on each pitch class C, C#, …, B (12 values summing to 1; zeros if empty)."""
    counts = np.bincount(np.asarray(pitch, dtype=np.int64) % 12, minlength=12).astype(float)
    return (counts / counts.sum()).tolist() if counts.sum() else counts.tolist()


def weighted_pitch_class_histogram(pitch: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Share of ``weights`` (e.g. durations in seconds) on each pitch class C, C#, …, B: 12 values
    summing to 1, or zeros when there are no notes or their weights sum to 0."""
    totals = np.bincount(np.asarray(pitch, dtype=np.int64) % 12, weights=np.asarray(weights, dtype=float), minlength=12)
    return totals / totals.sum() if totals.sum() > 0 else np.zeros(12)


def interval_histogram(notes: pd.DataFrame, group: str | None = "piece_id") -> dict[str, float]:
    """Share of each melodic interval (next pitch − pitch, in semitones, clipped to ±24) between
    consecutive notes of the same piece, keyed by the interval as a string."""
    pitches = notes["pitch"].to_numpy(dtype=np.int64)
    intervals = np.diff(pitches)
    if group is not None and group in notes and len(notes):
        same_piece = notes[group].to_numpy()[1:] == notes[group].to_numpy()[:-1]
        intervals = intervals[same_piece]
    intervals = np.clip(intervals, -MAX_INTERVAL, MAX_INTERVAL)
    values, counts = np.unique(intervals, return_counts=True)
    total = counts.sum()
    return {str(int(v)): float(c / total) for v, c in zip(values, counts)}


def _moments(values: pd.Series) -> dict[str, float]:
    return {"mean": float(values.mean()), "std": float(values.std(ddof=0))} if len(values) else {"mean": float("nan"), "std": float("nan")}


def reference_statistics(notes: pd.DataFrame) -> dict:
    """Summary of a note table (``piece_id`` optional): pitch, step, duration and velocity mean and
    standard deviation; pitch-class and interval histograms; notes per second over the pieces'
    total length. Units: semitones (MIDI numbers), seconds, MIDI velocity."""
    if "piece_id" in notes and len(notes):
        per_piece = notes.groupby("piece_id").agg(n=("pitch", "size"), length=("end", "max"))
        notes_per_second = float(per_piece["n"].sum() / per_piece["length"].sum())
    else:
        length = float(notes["end"].max()) if len(notes) else 0.0
        notes_per_second = float(len(notes) / length) if length > 0 else 0.0
    return {
        "num_notes": int(len(notes)),
        "num_pieces": int(notes["piece_id"].nunique()) if "piece_id" in notes else 1,
        "pitch": _moments(notes["pitch"]),
        "step": _moments(notes["step"]),
        "duration": _moments(notes["duration"]),
        "velocity": _moments(notes["velocity"]),
        "pitch_class_histogram": pitch_class_histogram(notes["pitch"].to_numpy()),
        "interval_histogram": interval_histogram(notes),
        "notes_per_second": notes_per_second,
    }
