"""evaluation plot nodes: the ranking with its intervals, overlaid histograms, and the 12-panel
figures per set."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from symbolic_music.music.comparison import note_histograms
from symbolic_music.music.metrics import piece_metrics
from symbolic_music.music.statistics import PITCH_CLASS_NAMES, reference_statistics

REFERENCE, CEILING, FLOOR = "real/test", "real/validation", "random"


def plot_ranking(evaluation_summary: pd.DataFrame) -> plt.Figure:
    """Summary → mean OA of every set with its interval, best first; the ceiling (real
    validation excerpts) is a shaded band, the floor (random notes) a dashed band."""
    summary = evaluation_summary.sort_values(["rank", "mean_oa"], ascending=[True, False], na_position="last")
    fig, ax = plt.subplots(figsize=(9, 0.35 * len(summary) + 1.5), dpi=100)
    y = np.arange(len(summary))[::-1]
    colours = ["tab:green" if s.startswith("real/") or s.endswith("/reference") else "tab:gray" if s in ("random", "rule_based", "ngram")
               else "tab:blue" for s in summary["system"]]
    ax.hlines(y, summary["mean_oa_low"], summary["mean_oa_high"], colors=colours, linewidth=2)
    ax.scatter(summary["mean_oa"], y, color=colours, zorder=3)
    for system, style in ((CEILING, {"color": "tab:green", "alpha": 0.15}), (FLOOR, {"color": "tab:red", "alpha": 0.12})):
        row = summary[summary["system"] == system]
        if len(row):
            ax.axvspan(row["mean_oa_low"].iloc[0], row["mean_oa_high"].iloc[0], label=f"{system} interval", **style)
    labels = [f"{s}  ({int(e)} excerpts)" + ("" if pd.notna(r) else "  [not ranked]")
              for s, e, r in zip(summary["system"], summary["excerpts"], summary["rank"])]
    ax.set_yticks(y, labels, fontsize="small")
    ax.set(xlabel="mean overlap area with real test excerpts (95% interval)", title="Ranking: real music is the ceiling, random notes the floor")
    ax.legend(fontsize="small", loc="lower right")
    fig.tight_layout()
    return fig


def plot_histograms(evaluation_pieces: pd.DataFrame, params: dict) -> plt.Figure:
    """Excerpts' notes → pitch-class and interval histograms of every set over the real test split's."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(14, 5), dpi=100)
    for system, table in evaluation_pieces.groupby("system"):
        histograms = note_histograms(table, params["time_bins_seconds"])
        style = {"linewidth": 3, "color": "black"} if system == REFERENCE else {"linewidth": 1, "alpha": 0.6}
        left.plot(PITCH_CLASS_NAMES, histograms["pitch_class"] / max(histograms["pitch_class"].sum(), 1), label=system, **style)
        right.plot(np.arange(-24, 25), histograms["interval"] / max(histograms["interval"].sum(), 1), label=system, **style)
    left.set(title="pitch classes", ylabel="share of notes")
    right.set(title="melodic intervals (semitones)", xlim=(-12, 12))
    right.legend(fontsize="xx-small", ncol=2, bbox_to_anchor=(1.01, 1), loc="upper left")
    fig.tight_layout()
    return fig


PIECE_PANELS = ["notes_per_second", "pitch_range", "pitch_entropy", "melodic_coherence", "overall_quality_score", "overall_similarity"]
NOTE_PANELS = [("pitch", np.arange(20, 110, 2)), ("pitch_class", np.arange(13) - 0.5), ("interval", np.arange(-13, 14) - 0.5),
               ("step", np.linspace(0, 2, 41)), ("duration", np.linspace(0, 3, 41)), ("velocity", np.arange(0, 129, 4))]


def _note_values(notes: pd.DataFrame, name: str) -> np.ndarray:
    if name == "pitch_class":
        return notes["pitch"].to_numpy() % 12
    if name == "interval":
        same = notes["excerpt_id"].to_numpy()[1:] == notes["excerpt_id"].to_numpy()[:-1]
        return np.diff(notes["pitch"].to_numpy())[same]
    return notes[name].to_numpy()


def plot_system_panels(evaluation_pieces: pd.DataFrame, params: dict) -> dict[str, plt.Figure]:
    """Excerpts' notes → the original 12-panel figure per set (``<system>.png``), each panel the
    set's distribution (bars) over the real test split's (black line): pitch, pitch class,
    interval, step, duration and velocity, then per-excerpt notes/s, pitch range, pitch entropy,
    melodic coherence, quality score and similarity (``music.metrics.piece_metrics``)."""
    reference_notes = evaluation_pieces[evaluation_pieces["system"] == REFERENCE]
    reference = reference_statistics(reference_notes)
    per_excerpt = pd.DataFrame([{"system": table["system"].iloc[0], **piece_metrics(table, reference, params["limits"])}
                                for _, table in evaluation_pieces.groupby("excerpt_id", sort=False)])
    reference_excerpts = per_excerpt[per_excerpt["system"] == REFERENCE]
    figures = {}
    for system, notes in evaluation_pieces.groupby("system"):
        if system == REFERENCE:
            continue
        fig, axes = plt.subplots(3, 4, figsize=(16, 10), dpi=80)
        for ax, (name, bins) in zip(axes.flat[:6], NOTE_PANELS):
            ax.hist(np.clip(_note_values(notes, name), bins[0], bins[-1]), bins=bins, density=True, alpha=0.6, label=system)
            ax.hist(np.clip(_note_values(reference_notes, name), bins[0], bins[-1]), bins=bins, density=True, histtype="step",
                    color="black", label="real test")
            ax.set_title(name.replace("_", " "))
        mine = per_excerpt[per_excerpt["system"] == system]
        for ax, name in zip(axes.flat[6:], PIECE_PANELS):
            both = pd.concat([mine.get(name, pd.Series(dtype=float)), reference_excerpts[name]]).dropna()
            bins = np.linspace(both.min(), both.max() + 1e-9, 15) if len(both) else 10
            ax.hist(mine.get(name, pd.Series(dtype=float)).dropna(), bins=bins, alpha=0.6, label=system)
            ax.hist(reference_excerpts[name].dropna(), bins=bins, histtype="step", color="black", label="real test")
            ax.set_title(f"{name.replace('_', ' ')} (per excerpt)")
        axes.flat[0].legend(fontsize="small")
        fig.suptitle(f"{system} against the real test split (excerpts)")
        fig.tight_layout()
        figures[system.replace("/", "__") + ".png"] = fig
        plt.close(fig)
    return figures
