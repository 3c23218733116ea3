"""music.drift: a modulation, a density change and empty windows in synthetic pieces; the
verdict on a drifting set against a steady one."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from symbolic_music.music.drift import FIGURES, compare_drift, drift_curves, drift_table, plot_drift

WINDOW, MAX_SECONDS, RESAMPLES, LEVEL = 5.0, 30.0, 200, 0.95
C_MAJOR = [0, 2, 4, 5, 7, 9, 11]


def scale_piece(seed: int, seconds: float, ioi: float = 0.25, transpose_after: float | None = None, shift: int = 6,
                faster_after: float | None = None, piece_id: str = "p") -> pd.DataFrame:
    """A melody through the C major scale (each run of seven notes a random order of its
    degrees, in a random one of two octaves), one note every ``ioi`` s, transposed by ``shift``
    semitones from ``transpose_after`` s and twice as fast from ``faster_after`` s."""
    rng = np.random.default_rng(seed)
    starts, time = [], 0.0
    while time < seconds:
        starts.append(time)
        time += ioi / 2 if faster_after is not None and time >= faster_after else ioi
    starts = np.array(starts)
    degrees = np.concatenate([rng.permutation(C_MAJOR) for _ in range(len(starts) // 7 + 1)])[: len(starts)]
    pitch = 60 + degrees + 12 * rng.integers(0, 2, len(starts))
    if transpose_after is not None:
        pitch = pitch + np.where(starts >= transpose_after, shift, 0)
    steps = np.diff(starts, prepend=0.0)
    duration = np.diff(np.append(starts, seconds))
    return pd.DataFrame({"piece_id": piece_id, "pitch": pitch, "velocity": rng.integers(60, 80, len(starts)),
                         "start": starts, "end": starts + duration, "step": steps, "duration": duration})


def test_a_modulation_drops_the_key_correlation_at_its_window():
    table = drift_table(scale_piece(0, 20, transpose_after=10.0), WINDOW, MAX_SECONDS)
    key = table.set_index("window")["key_correlation"]
    assert list(table["start_seconds"]) == [0.0, 5.0, 10.0, 15.0]
    assert key[0] == pytest.approx(1.0)
    assert key[1] > 0.8
    assert key[2] < 0.3 and key[3] < 0.3


def test_a_steady_piece_keeps_its_key_and_density():
    table = drift_table(scale_piece(1, 30), WINDOW, MAX_SECONDS)
    assert len(table) == 6
    assert (table["key_correlation"] > 0.8).all()
    assert table["notes_per_second"].to_numpy() == pytest.approx(4.0)


def test_density_doubling_is_measured_from_its_window():
    table = drift_table(scale_piece(2, 20, ioi=0.5, faster_after=10.0), WINDOW, MAX_SECONDS)
    assert table["notes_per_second"].tolist() == pytest.approx([2.0, 2.0, 4.0, 4.0])


def test_windows_stop_at_max_seconds_and_whole_windows_only():
    assert len(drift_table(scale_piece(3, 40), WINDOW, 22.0)) == 4
    assert len(drift_table(scale_piece(3, 12), WINDOW, MAX_SECONDS)) == 2
    assert drift_table(scale_piece(3, 4), WINDOW, MAX_SECONDS).empty


def test_empty_windows_give_nan_and_zero_density_not_errors():
    piece = scale_piece(4, 20)
    piece = piece[(piece["start"] < 5) | (piece["start"] >= 10)]  # a rest from 5 to 10 s
    table = drift_table(piece, WINDOW, MAX_SECONDS).set_index("window")
    assert table.loc[1, "notes_per_second"] == 0.0
    assert table.loc[1, ["key_correlation", "pitch_range", "mean_velocity"]].isna().all()
    assert table.loc[2].notna().all()
    curves = drift_curves(table.reset_index(), RESAMPLES, LEVEL, np.random.default_rng(0))
    assert np.isnan(curves.loc[curves["window"] == 1, "pitch_range"]).all()


def test_empty_input_gives_empty_table_curves_and_no_drift():
    empty = scale_piece(5, 10).iloc[:0]
    table = drift_table(empty, WINDOW, MAX_SECONDS)
    assert table.empty and list(table.columns[:3]) == ["piece_id", "window", "start_seconds"]
    curves = drift_curves(table, RESAMPLES, LEVEL, np.random.default_rng(0))
    assert curves.empty
    assert compare_drift(curves, curves) == {figure: {"drifts_more": False, "from_seconds": None} for figure in FIGURES}
    plt.close(plot_drift(curves, curves, "empty"))


def test_an_opening_given_is_window_minus_one_and_the_key_reference():
    prompt = scale_piece(6, 8)
    continuation = scale_piece(7, 10, transpose_after=0.0)  # all in F# (C + 6)
    table = drift_table(continuation, WINDOW, MAX_SECONDS, opening={"p": prompt})
    assert table["window"].tolist() == [-1, 0, 1]
    assert table.loc[0, "start_seconds"] == pytest.approx(-8.0)
    assert table.loc[0, "key_correlation"] == pytest.approx(1.0)
    assert (table.loc[1:, "key_correlation"] < 0.3).all()


def curves_of(pieces: list[pd.DataFrame], seed: int) -> pd.DataFrame:
    table = drift_table(pd.concat(pieces, ignore_index=True), WINDOW, MAX_SECONDS)
    return drift_curves(table, RESAMPLES, LEVEL, np.random.default_rng(seed))


def test_curves_count_pieces_per_window_and_start_at_no_change():
    pieces = [scale_piece(s, 30 if s < 3 else 15, piece_id=f"p{s}") for s in range(6)]
    curves = curves_of(pieces, 0)
    assert curves["pieces"].tolist() == [6, 6, 6, 3, 3, 3]
    assert curves.loc[0, "notes_per_second_change"] == 0.0
    for figure in FIGURES:
        assert (curves[f"{figure}_low"] <= curves[figure] + 1e-12).all()
        assert (curves[figure] <= curves[f"{figure}_high"] + 1e-12).all()


def test_compare_drift_flags_a_drifting_set_and_not_identical_sets():
    real = [scale_piece(s, 30, piece_id=f"r{s}") for s in range(10)]
    drifting = [scale_piece(100 + s, 30, transpose_after=15.0, faster_after=15.0, piece_id=f"g{s}") for s in range(10)]
    real_curves = curves_of(real, 0)
    verdict = compare_drift(curves_of(drifting, 1), real_curves)
    assert verdict["key_correlation"] == {"drifts_more": True, "from_seconds": 15.0}
    assert verdict["notes_per_second"] == {"drifts_more": True, "from_seconds": 15.0}
    assert not verdict["mean_velocity"]["drifts_more"]
    same = compare_drift(curves_of(real, 2), real_curves)
    assert not any(result["drifts_more"] for result in same.values())


def test_a_constant_offset_is_not_drift():
    real = [scale_piece(s, 30, piece_id=f"r{s}") for s in range(8)]
    denser = [scale_piece(50 + s, 30, ioi=0.125, piece_id=f"g{s}") for s in range(8)]
    assert not compare_drift(curves_of(denser, 1), curves_of(real, 0))["notes_per_second"]["drifts_more"]


def test_plot_has_four_panels_with_both_sets():
    real = curves_of([scale_piece(s, 30, piece_id=f"r{s}") for s in range(4)], 0)
    fig = plot_drift(real, real, "drift")
    assert len(fig.axes) == 4
    assert all(len(ax.lines) == 2 for ax in fig.axes)
    plt.close(fig)
