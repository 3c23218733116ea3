"""evaluation nodes: generated MIDI + test reference statistics in; metrics JSON and a plot out."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from symusic import Score  # noqa: E402
from tqdm.auto import tqdm  # noqa: E402

from symbolic_music.music.metrics import js_divergence  # noqa: E402
from symbolic_music.music.notes import notes_table  # noqa: E402
from symbolic_music.music.statistics import reference_statistics  # noqa: E402

PITCH_CLASS_NAMES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]


def system_of(name: str) -> str:
    """The generated set a file belongs to: its path without the file name
    (``unconditioned/balanced/sample_000`` → ``unconditioned/balanced``); Task 2 files group by
    part across pieces (``continuation/<piece>/reference`` → ``continuation/reference``)."""
    if name.startswith("continuation/"):
        return f"continuation/{name.rsplit('/', 1)[1]}"
    return name.rsplit("/", 1)[0] if "/" in name else "generated"


def generated_notes(generated_midi: dict[str, Score]) -> pd.DataFrame:
    """``{name: Score}`` → one note table with ``system`` and ``piece_id`` columns."""
    tables = [
        notes_table(score).assign(piece_id=name, system=system_of(name))
        for name, score in tqdm(generated_midi.items(), desc="evaluate", unit="piece")
    ]
    return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=["piece_id", "system", "pitch"])


def _compare(statistics: dict, reference: dict) -> dict:
    intervals = sorted(set(statistics["interval_histogram"]) | set(reference["interval_histogram"]), key=int)
    return {
        "pitch_class_js_divergence": js_divergence(statistics["pitch_class_histogram"], reference["pitch_class_histogram"]),
        "interval_js_divergence": js_divergence(
            [statistics["interval_histogram"].get(i, 0.0) for i in intervals],
            [reference["interval_histogram"].get(i, 0.0) for i in intervals],
        ),
        **{
            f"{feature}_mean_difference": statistics[feature]["mean"] - reference[feature]["mean"]
            for feature in ("pitch", "step", "duration", "velocity")
        },
        "notes_per_second_ratio": statistics["notes_per_second"] / reference["notes_per_second"],
    }


def evaluate_generated(generated_midi: dict[str, Score], baseline_midi: dict[str, Score], test_reference_stats: dict) -> tuple[dict, pd.DataFrame]:
    """Generated and baseline pieces + test-split statistics → metrics per set (note statistics
    and their distance to the test split), and the note table of all those pieces."""
    notes = generated_notes({**generated_midi, **baseline_midi})
    metrics = {"test": {"statistics": test_reference_stats}}
    for system, group in notes.groupby("system"):
        statistics = reference_statistics(group)
        metrics[system] = {"statistics": statistics, "against_test": _compare(statistics, test_reference_stats)}
    return metrics, notes


def plot_generated_against_test(evaluation_metrics: dict) -> plt.Figure:
    """Metrics → pitch-class histograms of every generated set over the test split's, and notes per
    second per set."""
    systems = list(evaluation_metrics)
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.5), dpi=110, gridspec_kw={"width_ratios": [2, 1]})
    width = 0.8 / len(systems)
    for offset, system in enumerate(systems):
        histogram = evaluation_metrics[system]["statistics"]["pitch_class_histogram"]
        left.bar(np.arange(12) + offset * width, histogram, width=width, label=system)
    left.set_xticks(np.arange(12) + 0.4 - width / 2, PITCH_CLASS_NAMES)
    left.set(title="Pitch-class distribution", ylabel="share of notes")
    left.legend(fontsize="small")
    right.barh(systems, [evaluation_metrics[s]["statistics"]["notes_per_second"] for s in systems], color="steelblue")
    right.set(title="Notes per second", xlabel="notes / s")
    fig.tight_layout()
    return fig
