"""evaluation: metrics on hand-made inputs with known answers, and the pipeline."""

from __future__ import annotations

import numpy as np
import pytest
from kedro.io import DataCatalog

from symbolic_music.music.metrics import js_divergence
from symbolic_music.music.statistics import reference_statistics
from symbolic_music.pipelines import evaluation
from symbolic_music.pipelines.evaluation.nodes import evaluate_generated, generated_notes, plot_generated_against_test, system_of
from tests.conftest import make_score, run_pipeline


def test_js_divergence_known_values():
    assert js_divergence([1, 2, 3], [2, 4, 6]) == pytest.approx(0.0)
    assert js_divergence([1, 0], [0, 1]) == pytest.approx(1.0)
    assert np.isnan(js_divergence([0, 0], [1, 1]))


def test_system_of():
    assert system_of("unconditioned/balanced/sample_000") == "unconditioned/balanced"
    assert system_of("loose") == "generated"
    assert system_of("continuation/2004__piece_10/reference") == "continuation/reference"


def test_generated_notes_reads_velocity_from_midi():
    notes = generated_notes({"a/b/x": make_score(0)})
    assert list(notes["velocity"]) == [n.velocity for n in sorted(make_score(0).tracks[0].notes, key=lambda n: (n.time, n.pitch))]


def test_identical_sets_have_zero_distance():
    pieces = {f"set/s{i}": make_score(i) for i in range(3)}
    reference = reference_statistics(generated_notes(pieces))
    metrics, _ = evaluate_generated(pieces, {}, reference)
    against = metrics["set"]["against_test"]
    assert against["pitch_class_js_divergence"] == pytest.approx(0.0)
    assert against["interval_js_divergence"] == pytest.approx(0.0)
    assert against["notes_per_second_ratio"] == pytest.approx(1.0)
    assert against["velocity_mean_difference"] == pytest.approx(0.0)


def test_evaluation_pipeline_runs(engineered):
    pieces = {f"unconditioned/balanced/s{i}": make_score(i) for i in range(2)}
    out = run_pipeline(evaluation.create_pipeline(), DataCatalog(), {"generated_midi": pieces, "baseline_midi": {"random/sample_000": make_score(7)}, "test_reference_stats": engineered["test_reference_stats"]})
    assert set(out["evaluation_metrics"]) == {"test", "unconditioned/balanced", "random"}
    assert len(out["generated_notes"]) == sum(make_score(i).note_num() for i in (0, 1, 7))
    figure = plot_generated_against_test(out["evaluation_metrics"])
    assert len(figure.axes) == 2
