"""Piano-roll drawing shared by the MIDI dataset preview, the notebooks and the reports."""

from __future__ import annotations

import io

import matplotlib.pyplot as plt
from symusic import Score

from symbolic_music.music.notes import notes_table


def draw_piano_roll(score: Score, ax: plt.Axes, title: str = "", max_seconds: float | None = None) -> plt.Axes:
    """Draw each note as a bar (x: seconds, y: MIDI pitch, colour: velocity) onto ``ax``."""
    notes = notes_table(score)
    if max_seconds is not None:
        notes = notes[notes["start"] < max_seconds]
    colours = plt.cm.viridis(notes["velocity"].to_numpy() / 127.0)
    ax.barh(notes["pitch"], notes["duration"], left=notes["start"], height=0.8, color=colours)
    ax.set(xlabel="seconds", ylabel="MIDI pitch", title=title or f"{len(notes)} notes")
    return ax


def piano_roll_png(score: Score, width: float = 8, height: float = 3) -> bytes:
    """A piano roll of ``score`` as PNG bytes."""
    fig, ax = plt.subplots(figsize=(width, height), dpi=80)
    draw_piano_roll(score, ax)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def loss_curves(history: dict, title: str, ylabel: str) -> plt.Figure:
    """Training history (``train``: per logging step, ``validation``: per epoch, each a list of
    ``{"step", "loss"}``) → one figure with both curves."""
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=110)
    for key, style, label in (("train", "-", "train (per logging step)"), ("validation", "o-", "validation (per epoch)")):
        points = history[key]
        if points:
            ax.plot([p["step"] for p in points], [p["loss"] for p in points], style, label=label)
    ax.set(xlabel="optimizer step", ylabel=ylabel, title=title)
    ax.legend()
    fig.tight_layout()
    return fig
