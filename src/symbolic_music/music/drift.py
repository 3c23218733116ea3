"""Drift over length: does music stay in its key, pace, register and loudness as it goes on?
(no Kedro imports).

A model whose context is shorter than a piece can forget how the piece began. Each piece is
measured in consecutive windows of ``window_seconds`` (notes that start in a window belong
to it; their durations are cut at its end), four figures per window:

- ``key_correlation``: Pearson correlation of the window's duration-weighted pitch-class
  histogram with the opening's: 1 in the same key, near 0 or below after a modulation to a
  distant key. The opening is the first window, or the prompt's notes where given.
- ``notes_per_second``: notes starting in the window ÷ ``window_seconds``.
- ``pitch_range``: highest − lowest pitch (semitones).
- ``mean_velocity``: mean MIDI velocity.

Drift is change from the opening, not difference from real music: a model that is always
twice as dense as real music does not drift. So ``drift_curves`` gives each figure's mean over
pieces per window and also the mean of its change from each piece's own opening
(``<figure>_change``), each with a Bayesian-bootstrap interval over pieces
(``music.bootstrap``), and ``compare_drift`` judges the changes.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from symbolic_music.music.bootstrap import interval, resample_weights, weighted_means
from symbolic_music.music.statistics import weighted_pitch_class_histogram

FIGURES = {
    "key_correlation": "key: correlation with the opening",
    "notes_per_second": "note density (notes/s)",
    "pitch_range": "pitch range (semitones)",
    "mean_velocity": "mean velocity",
}
BOUNDS = {"key_correlation": (-1.0, 1.0), "notes_per_second": (0.0, np.inf), "pitch_range": (0.0, np.inf),
          "mean_velocity": (0.0, np.inf)}
TABLE_COLUMNS = ["piece_id", "window", "start_seconds", *FIGURES]


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation; ``nan`` where either side is constant (no notes, or all twelve
    pitch classes equally often)."""
    if a.std() == 0 or b.std() == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def _figures(notes: pd.DataFrame, seconds: float, opening_histogram: np.ndarray, histogram: np.ndarray) -> dict:
    """The four figures of one stretch of ``seconds`` holding ``notes`` (its pitch-class
    histogram given, durations already cut at its end)."""
    pitch = notes["pitch"].to_numpy(np.int64)
    return {
        "key_correlation": _correlation(histogram, opening_histogram),
        "notes_per_second": len(pitch) / seconds,
        "pitch_range": float(pitch.max() - pitch.min()) if len(pitch) else float("nan"),
        "mean_velocity": float(notes["velocity"].mean()) if len(pitch) else float("nan"),
    }


def _piece_rows(piece_id, piece: pd.DataFrame, length: float, window_seconds: float, opening: pd.DataFrame | None) -> list[dict]:
    count = int(length // window_seconds)
    window = np.floor(piece["start"].to_numpy(float) / window_seconds).astype(int)
    windows = []
    for k in range(count):
        notes = piece[window == k]
        cut = np.minimum(notes["end"].to_numpy(float), (k + 1) * window_seconds) - notes["start"].to_numpy(float)
        windows.append((notes, weighted_pitch_class_histogram(notes["pitch"].to_numpy(), cut)))
    rows = []
    if opening is not None:
        opening_histogram = weighted_pitch_class_histogram(opening["pitch"].to_numpy(), opening["duration"].to_numpy())
        opening_seconds = float(opening["end"].max()) if len(opening) else 0.0
        figures = _figures(opening, opening_seconds, opening_histogram, opening_histogram) if opening_seconds > 0 else \
            dict.fromkeys(FIGURES, float("nan"))
        rows.append({"piece_id": piece_id, "window": -1, "start_seconds": -opening_seconds, **figures})
    elif windows:
        opening_histogram = windows[0][1]
    for k, (notes, histogram) in enumerate(windows):
        rows.append({"piece_id": piece_id, "window": k, "start_seconds": k * window_seconds,
                     **_figures(notes, window_seconds, opening_histogram, histogram)})
    return rows


def drift_table(notes: pd.DataFrame, window_seconds: float, max_seconds: float,
                opening: dict[str, pd.DataFrame] | None = None, lengths: dict[str, float] | None = None) -> pd.DataFrame:
    """The four figures of every piece in consecutive windows of ``window_seconds``.

    ``notes`` has ``piece_id``, ``pitch``, ``velocity``, ``start``, ``end``, ``duration``
    (seconds). A piece of length L (``lengths[piece_id]``, else its last note's end) gives
    ``floor(min(L, max_seconds) / window_seconds)`` whole windows; what follows is left out, so
    a piece shorter than one window gives none. ``opening`` maps a piece to the notes that came
    before it (a prompt: ``notes`` then hold the continuation only, from 0 s); such a piece
    gets a row ``window = -1`` for the opening itself (its figures over its own length, its
    last note's end; ``start_seconds`` = minus that length; key correlation 1), and all its
    windows are correlated with it. Pieces without an opening are correlated with their first
    window (0), whose key correlation is 1.

    Returns one row per piece and window: ``piece_id``, ``window``, ``start_seconds`` and the
    figures of ``FIGURES``. A window without notes has ``notes_per_second`` 0 and ``nan``
    for the others; the key correlation is also ``nan`` where the opening has no notes. No
    notes give an empty table with these columns.
    """
    opening, lengths = opening or {}, lengths or {}
    rows = []
    for piece_id, piece in notes.groupby("piece_id", sort=False):
        length = min(lengths.get(piece_id, float(piece["end"].max())), max_seconds)
        rows.extend(_piece_rows(piece_id, piece, length, window_seconds, opening.get(piece_id)))
    return pd.DataFrame(rows, columns=TABLE_COLUMNS).astype({name: float for name in TABLE_COLUMNS[2:]} | {"window": int})


def _changes(table: pd.DataFrame) -> pd.DataFrame:
    """Each figure minus its value in the piece's first row (its opening)."""
    openings = table.sort_values("window").drop_duplicates("piece_id").set_index("piece_id")[list(FIGURES)]
    return (table[list(FIGURES)] - openings.loc[table["piece_id"]].to_numpy()).add_suffix("_change")


def drift_curves(table: pd.DataFrame, resamples: int, level: float, rng: np.random.Generator) -> pd.DataFrame:
    """Per window position of a ``drift_table``: the mean of each figure over the pieces that
    reach it, and of its change from each piece's opening (``<figure>_change``: value minus the
    value in the piece's first row, window −1 or 0), each with a central ``level`` interval
    from ``resamples`` Bayesian-bootstrap resamples over pieces.

    Columns: ``window``, ``start_seconds`` (mean over pieces, which differ only for openings of
    different lengths), ``pieces`` (how many reach this window: shorter pieces stop
    contributing), then ``<figure>``, ``<figure>_low``, ``<figure>_high`` and the same for
    ``<figure>_change``. ``nan`` values (empty windows) are left out of a mean; a window where
    all are ``nan`` gives ``nan``. An empty table gives an empty frame.
    """
    names = [f"{figure}{kind}" for figure in FIGURES for kind in ("", "_change")]
    columns = ["window", "start_seconds", "pieces", *[f"{name}{end}" for name in names for end in ("", "_low", "_high")]]
    table = table.reset_index(drop=True)
    table = pd.concat([table, _changes(table)], axis=1)
    rows = []
    for window, part in table.groupby("window", sort=True):
        pieces = part["piece_id"].to_numpy()
        weights = np.vstack([np.ones(len(part)), resample_weights(pieces, resamples, rng)])
        row = {"window": int(window), "start_seconds": float(part["start_seconds"].mean()), "pieces": len(np.unique(pieces))}
        for name in names:
            samples = weighted_means(weights, part[name].to_numpy(float))
            bounds = BOUNDS[name] if name in BOUNDS else (-np.inf, np.inf)
            row[name] = float(samples[0])
            row[f"{name}_low"], row[f"{name}_high"] = interval(samples[1:], level, row[name], bounds)
        rows.append(row)
    return pd.DataFrame(rows, columns=columns).astype({name: float for name in columns} | {"window": int, "pieces": int})


def compare_drift(generated_curves: pd.DataFrame, real_curves: pd.DataFrame, consecutive_windows: int = 2) -> dict:
    """Does generated music drift more than real music, figure by figure, and from when?

    Only changes from the opening are judged (``<figure>_change`` of ``drift_curves``), at the
    window positions both sets reach, after the first of them (the opening, where the change
    is 0 by definition). Generated music drifts more at a window when its interval of the
    change lies wholly beyond both the real interval and 0 on the same side: above both
    (``low`` > max(real ``high``, 0)) or below both (``high`` < min(real ``low``, 0)). It
    drifts more overall when this holds in at least ``consecutive_windows`` windows in a row,
    and ``from_seconds`` is the start of the first such run (the generated window's
    ``start_seconds``). A ``nan`` interval breaks a run. The test is of consistency, not of
    size: with many pieces a small but steady change counts, with few only a large one.

    Returns ``{figure: {"drifts_more": bool, "from_seconds": float | None}}`` for every figure;
    with no window to compare, nothing drifts.
    """
    both = generated_curves.merge(real_curves, on="window", suffixes=("", "_real")).sort_values("window").iloc[1:]
    result = {}
    for figure in FIGURES:
        low, high = both[f"{figure}_change_low"].to_numpy(float), both[f"{figure}_change_high"].to_numpy(float)
        real_low, real_high = both[f"{figure}_change_low_real"].to_numpy(float), both[f"{figure}_change_high_real"].to_numpy(float)
        with np.errstate(invalid="ignore"):
            drifting = (low > np.maximum(real_high, 0)) | (high < np.minimum(real_low, 0))
        run, start = 0, None
        for position, drifts in enumerate(drifting):
            run = run + 1 if drifts else 0
            if run == consecutive_windows:
                start = float(both["start_seconds"].iloc[position - run + 1])
                break
        result[figure] = {"drifts_more": start is not None, "from_seconds": start}
    return result


def plot_drift(generated_curves: pd.DataFrame, real_curves: pd.DataFrame, title: str) -> plt.Figure:
    """Four panels (key correlation, density, range, velocity) of ``drift_curves``: each set's
    mean per window (x: the window's start, s) as a line, its interval as a shaded band.
    Empty curves give empty panels."""
    fig, axes = plt.subplots(2, 2, figsize=(10, 6.5), dpi=110, sharex=True)
    for ax, (figure, label) in zip(axes.ravel(), FIGURES.items()):
        for curves, name, colour in ((real_curves, "real", "tab:blue"), (generated_curves, "generated", "tab:orange")):
            ax.plot(curves["start_seconds"], curves[figure], "o-", color=colour, label=name)
            ax.fill_between(curves["start_seconds"], curves[f"{figure}_low"], curves[f"{figure}_high"], color=colour, alpha=0.25)
        ax.set(title=label)
    for ax in axes[1]:
        ax.set_xlabel("window start (s)")
    axes[0, 0].legend()
    fig.suptitle(title)
    fig.tight_layout()
    return fig
