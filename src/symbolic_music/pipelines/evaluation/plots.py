"""evaluation plot nodes: the OA bar chart, overlaid histograms, and the 12-panel figures."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from symbolic_music.music.statistics import PITCH_CLASS_NAMES
from symbolic_music.pipelines.evaluation.nodes import (
    REFERENCE,
    note_histograms,
    original_piece_metrics,
)


def plot_overlap_areas(evaluation_summary: pd.DataFrame) -> plt.Figure:
    """Summary → grouped bars of OA per feature, one bar per system (higher is better)."""
    oa = evaluation_summary.set_index("system")[[c for c in evaluation_summary if c.startswith("oa_")]]
    oa.columns = [c.removeprefix("oa_").replace("_", " ") for c in oa.columns]
    fig, ax = plt.subplots(figsize=(14, 6), dpi=100)
    oa.T.plot.bar(ax=ax, width=0.85, legend=False)
    ax.set(ylabel="overlap area with the real test split", title="mgeval overlap area per feature (1 = real test split)")
    ax.legend(fontsize="x-small", ncol=2, bbox_to_anchor=(1.01, 1), loc="upper left")
    fig.tight_layout()
    return fig


def plot_histograms(evaluation_pieces: pd.DataFrame, params: dict) -> plt.Figure:
    """Note table → pitch-class and interval histograms of every system over the real test split's."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(14, 5), dpi=100)
    for system, table in evaluation_pieces.groupby("system"):
        histograms = note_histograms(table, params)
        style = {"linewidth": 3, "color": "black"} if system == REFERENCE else {"linewidth": 1, "alpha": 0.6}
        left.plot(PITCH_CLASS_NAMES, histograms["pitch_class"] / histograms["pitch_class"].sum(), label=system, **style)
        right.plot(np.arange(-24, 25), histograms["interval"] / max(histograms["interval"].sum(), 1), label=system, **style)
    left.set(title="pitch classes", ylabel="share of notes")
    right.set(title="melodic intervals (semitones)", xlim=(-12, 12))
    right.legend(fontsize="xx-small", ncol=2, bbox_to_anchor=(1.01, 1), loc="upper left")
    fig.tight_layout()
    return fig


def plot_system_panels(evaluation_pieces: pd.DataFrame, params: dict) -> dict[str, plt.Figure]:
    """Note table → the original 12-panel figure per system (``<system>.png``), each panel the
    system's distribution (bars) over the real test split's (black line): pitch, pitch class,
    interval, step, duration and velocity (all from the MIDI), then per-piece notes/s, pitch
    range, pitch entropy, melodic coherence, quality score and similarity."""
    per_piece = original_piece_metrics(evaluation_pieces, params)
    reference_notes = evaluation_pieces[evaluation_pieces["system"] == REFERENCE]
    reference_pieces = per_piece[per_piece["system"] == REFERENCE]
    note_panels = [("pitch", np.arange(20, 110, 2)), ("pitch_class", np.arange(13) - 0.5), ("interval", np.arange(-13, 14) - 0.5),
                   ("step", np.linspace(0, 2, 41)), ("duration", np.linspace(0, 3, 41)), ("velocity", np.arange(0, 129, 4))]
    piece_panels = ["notes_per_second", "pitch_range", "pitch_entropy", "melodic_coherence", "overall_quality_score", "overall_similarity"]

    def values(notes: pd.DataFrame, name: str) -> np.ndarray:
        if name == "pitch_class":
            return notes["pitch"].to_numpy() % 12
        if name == "interval":
            same = notes["piece_id"].to_numpy()[1:] == notes["piece_id"].to_numpy()[:-1]
            return np.diff(notes["pitch"].to_numpy())[same]
        return notes[name].to_numpy()

    figures = {}
    for system, notes in evaluation_pieces.groupby("system"):
        if system == REFERENCE:
            continue
        fig, axes = plt.subplots(3, 4, figsize=(16, 10), dpi=80)
        for ax, (name, bins) in zip(axes.flat[:6], note_panels):
            ax.hist(np.clip(values(notes, name), bins[0], bins[-1]), bins=bins, density=True, alpha=0.6, label=system)
            ax.hist(np.clip(values(reference_notes, name), bins[0], bins[-1]), bins=bins, density=True, histtype="step", color="black", label="real test")
            ax.set_title(name.replace("_", " "))
        mine = per_piece[per_piece["system"] == system]
        for ax, name in zip(axes.flat[6:], piece_panels):
            both = pd.concat([mine[name], reference_pieces[name]]).dropna()
            bins = np.linspace(both.min(), both.max() + 1e-9, 15) if len(both) else 10
            ax.hist(mine[name].dropna(), bins=bins, alpha=0.6, label=system)
            ax.hist(reference_pieces[name].dropna(), bins=bins, histtype="step", color="black", label="real test")
            ax.set_title(f"{name.replace('_', ' ')} (per piece)")
        axes.flat[0].legend(fontsize="small")
        fig.suptitle(f"{system} against the real test split")
        fig.tight_layout()
        figures[system.replace("/", "__") + ".png"] = fig
    return figures
