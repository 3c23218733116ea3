"""eda nodes: piece table and note table in, matplotlib figures and a summary table out."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from symbolic_music.music.statistics import PITCH_CLASS_NAMES

SPLIT_ORDER = ["train", "validation", "test"]


def _figure(params: dict, width: float = 8, height: float = 4.5):
    return plt.subplots(figsize=(width, height), dpi=params["figure_dpi"])


def plot_recordings_per_year(pieces: pd.DataFrame, params: dict) -> plt.Figure:
    """Piece table → bar chart of pieces per year, stacked by split."""
    fig, ax = _figure(params)
    counts = pieces.groupby(["year", "split"]).size().unstack(fill_value=0).reindex(columns=SPLIT_ORDER, fill_value=0)
    counts.plot.bar(stacked=True, ax=ax)
    ax.set(xlabel="year", ylabel="pieces", title="Pieces per year")
    fig.tight_layout()
    return fig


def plot_piece_durations(pieces: pd.DataFrame, params: dict) -> plt.Figure:
    """Piece table → histogram of piece durations in minutes, per split."""
    fig, ax = _figure(params)
    sns.histplot(pieces.assign(minutes=pieces["duration"] / 60), x="minutes", hue="split", hue_order=SPLIT_ORDER,
                 bins=params["histogram_bins"], multiple="stack", ax=ax)
    ax.set(title="Piece durations", xlabel="minutes")
    fig.tight_layout()
    return fig


def plot_pieces_per_composer(pieces: pd.DataFrame, params: dict) -> plt.Figure:
    """Piece table → horizontal bars of the ``top_composers`` composers by piece count."""
    counts = pieces["composer"].value_counts().head(params["top_composers"])
    fig, ax = _figure(params, height=max(3, 0.35 * len(counts) + 1))
    sns.barplot(x=counts.values, y=counts.index, ax=ax, color="steelblue")
    ax.set(xlabel="pieces", ylabel="", title="Pieces per composer")
    fig.tight_layout()
    return fig


def plot_note_distributions(notes: pd.DataFrame, params: dict) -> plt.Figure:
    """Note table → four density histograms (pitch, step, duration, velocity), one colour per split."""
    fig, axes = plt.subplots(2, 2, figsize=(11, 7), dpi=params["figure_dpi"])
    clipped = notes.assign(
        step=notes["step"].clip(upper=params["step_clip_seconds"]),
        duration=notes["duration"].clip(upper=params["duration_clip_seconds"]),
    )
    for ax, (column, unit) in zip(axes.flat, [("pitch", "MIDI note"), ("step", "s"), ("duration", "s"), ("velocity", "MIDI velocity")]):
        sns.histplot(clipped, x=column, hue="split", hue_order=SPLIT_ORDER, stat="density", common_norm=False,
                     bins=params["histogram_bins"], element="step", fill=False, ax=ax)
        ax.set(title=f"{column} per split", xlabel=f"{column} ({unit})")
    fig.tight_layout()
    return fig


def plot_pitch_class_distribution(notes: pd.DataFrame, params: dict) -> plt.Figure:
    """Note table → share of notes per pitch class, one bar group per split."""
    shares = (
        notes.assign(pitch_class=notes["pitch"] % 12)
        .groupby("split")["pitch_class"].value_counts(normalize=True)
        .rename("share").reset_index()
    )
    shares["pitch_class"] = shares["pitch_class"].map(dict(enumerate(PITCH_CLASS_NAMES)))
    fig, ax = _figure(params)
    sns.barplot(shares, x="pitch_class", y="share", hue="split", order=PITCH_CLASS_NAMES,
                hue_order=[s for s in SPLIT_ORDER if s in set(shares["split"])], ax=ax)
    ax.set(title="Pitch-class distribution", xlabel="pitch class", ylabel="share of notes")
    fig.tight_layout()
    return fig


def summarize_corpus(pieces: pd.DataFrame, notes: pd.DataFrame) -> pd.DataFrame:
    """Piece and note tables → one row per split plus ``all``: pieces, composers, notes, hours,
    notes per second, and the mean pitch and velocity."""
    rows = []
    for split in [*SPLIT_ORDER, "all"]:
        p = pieces if split == "all" else pieces[pieces["split"] == split]
        n = notes if split == "all" else notes[notes["split"] == split]
        seconds = float(p["duration"].sum())
        rows.append({
            "split": split,
            "pieces": len(p),
            "composers": p["composer"].nunique(),
            "notes": len(n),
            "hours": round(seconds / 3600, 3),
            "notes_per_second": round(len(n) / seconds, 3) if seconds else np.nan,
            "mean_pitch": round(float(n["pitch"].mean()), 2) if len(n) else np.nan,
            "mean_velocity": round(float(n["velocity"].mean()), 2) if len(n) else np.nan,
        })
    return pd.DataFrame(rows)
