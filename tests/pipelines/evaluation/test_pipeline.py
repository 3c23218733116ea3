"""evaluation: metrics on hand-made inputs with known answers, and the pipeline."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from kedro.io import DataCatalog, MemoryDataset

from symbolic_music.music import metrics as m
from symbolic_music.music.distribution import (
    intra_set_distances,
    overlap_and_kl,
    piece_features,
)
from symbolic_music.music.metrics import js_divergence
from symbolic_music.music.notes import notes_table
from symbolic_music.music.systems import system_of
from symbolic_music.pipelines import evaluation
from symbolic_music.pipelines.evaluation.nodes import (
    collect_pieces,
    evaluate_systems,
    generated_notes,
    likelihood_table,
)
from symbolic_music.pipelines.evaluation.plots import (
    plot_histograms,
    plot_overlap_areas,
    plot_system_panels,
)
from symbolic_music.pipelines.evaluation.report import write_report
from tests.conftest import make_score, run_pipeline

C_MAJOR = np.array([60, 62, 64, 65, 67, 69, 71, 72])


def test_js_divergence_known_values():
    assert js_divergence([1, 2, 3], [2, 4, 6]) == pytest.approx(0.0)
    assert js_divergence([1, 0], [0, 1]) == pytest.approx(1.0)
    assert np.isnan(js_divergence([0, 0], [1, 1]))


def test_c_major_scale_has_scale_consistency_one():
    assert m.scale_consistency(C_MAJOR) == 1.0
    assert m.scale_consistency(np.arange(60, 72)) == pytest.approx(7 / 12)


def test_single_repeated_note_has_pitch_entropy_zero():
    assert m.pitch_class_entropy(np.full(20, 60)) == 0.0
    assert m.pitch_class_entropy(np.arange(12)) == pytest.approx(np.log2(12))


def test_polyphony_empty_beats_and_groove():
    start, end = np.array([0.0, 0.0, 1.0]), np.array([0.5, 0.5, 1.5])
    assert m.polyphony(start, end, 0.05) == pytest.approx(1.5)  # 2 notes for 0.5 s, then 1 for 0.5 s
    assert m.empty_beat_rate(start, end, 0.5) == pytest.approx(1 / 3)  # beats [0,.5) [.5,1) [1,1.5): one empty
    same = np.concatenate([np.arange(4) * 0.5 + bar * 2.0 for bar in range(4)])
    assert m.groove_consistency(same, 2.0, 16) == 1.0


def test_identical_sets_have_overlap_near_one_and_zero_js():
    rng = np.random.default_rng(0)
    sample = rng.normal(size=200)
    overlap, kl = overlap_and_kl(sample, sample.copy())
    assert overlap == pytest.approx(1.0, abs=1e-6) and kl == pytest.approx(0.0, abs=1e-6)
    far, far_kl = overlap_and_kl(sample, sample + 10)
    assert far < 0.05 and far_kl > 1


def test_piece_features_of_a_scale():
    table = pd.DataFrame({"pitch": C_MAJOR, "start": np.arange(8) * 0.5, "duration": np.full(8, 0.5)})
    features = piece_features(table)
    assert features["pitch_count"][0] == 8 and features["pitch_range"][0] == 12
    assert features["average_pitch_interval"][0] == pytest.approx(12 / 7)
    assert features["average_inter_onset_interval"][0] == pytest.approx(0.5)
    assert features["pitch_class_histogram"].sum() == pytest.approx(1.0)
    assert features["pitch_class_transition_matrix"].shape == (144,)
    assert len(intra_set_distances(np.stack([features["pitch_count"]] * 3))) == 3


def test_system_of():
    assert system_of("unconditioned/balanced/sample_000") == "unconditioned/balanced"
    assert system_of("loose") == "generated"
    assert system_of("continuation/2004__piece_10/reference") == "continuation/reference"
    assert system_of("lstm_continuation/a__b/full") == "lstm_continuation/full"


def test_generated_notes_reads_velocity_from_midi():
    notes = generated_notes({"a/b/x": make_score(0)})
    assert list(notes["velocity"]) == list(notes_table(make_score(0))["velocity"])


def _real_notes(seeds_by_split):
    tables = [notes_table(make_score(seed)).assign(piece_id=f"{split}/{seed}", split=split)
              for split, seeds in seeds_by_split.items() for seed in seeds]
    return pd.concat(tables, ignore_index=True)


def test_a_copy_of_the_test_split_scores_like_the_test_split(params):
    notes = _real_notes({"test": [0, 1, 2, 3], "validation": [4, 5, 6]})
    copy = {f"copy/s{i}": make_score(i) for i in range(4)}
    noise = {f"random/s{i}": make_score(100 + i, num_notes=10) for i in range(4)}
    summary, _ = evaluate_systems(collect_pieces(copy, noise, notes), params["evaluation"])
    s = summary.set_index("system")
    assert s.loc["real/test", "mean_oa"] == pytest.approx(1.0)
    assert s.loc["copy", "js_pitch"] == pytest.approx(0.0)
    assert s.loc["copy", "mean_oa"] > s.loc["random", "mean_oa"]
    assert list(summary["rank"]) == list(range(1, len(summary) + 1))


def test_evaluation_pipeline_runs_and_reports(engineered, params):
    metrics = {
        "transformer_metrics": {"transformer": {"bits_per_note": 9.0}, "unigram": {"bits_per_note": 18.0}},
        "ngram_metrics": {"ngram": {"order": 4, "bits_per_note": 12.0}, "unigram": {"bits_per_note": 18.0}},
        "lstm_metrics": {"lstm": {"pitch_bits_per_note": 4.0}, "pitch_unigram": {"pitch_bits_per_note": 5.0}},
    }
    generated = {f"unconditioned/balanced/s{i}": make_score(i) for i in range(2)}
    generated["continuation/p__1/continuation"] = make_score(20)
    generated["continuation/p__1/reference"] = make_score(21)
    manifest = {"real_test": {"pieces": 2, "grammar_error_share": 0.0, "notes_per_token": 0.25},
                "sets": {"unconditioned/balanced": {"files": 2, "grammar_error_share": 0.3, "notes_per_token": 0.24},
                         "continuation/continuation": {"files": 1, "grammar_error_share": 0.02, "notes_per_token": 0.1},
                         "continuation/reference": {"files": 1, "grammar_error_share": 0.0, "notes_per_token": 0.25}}}
    inputs = {"generated_midi": generated, "baseline_midi": {"random/sample_000": make_score(7)}, "notes": engineered["notes"],
              "generation_manifest": manifest, "listening_ratings": "", **metrics}
    catalog = DataCatalog({"params:evaluation": MemoryDataset(params["evaluation"])})
    out = run_pipeline(evaluation.create_pipeline(), catalog, inputs)
    summary = out["evaluation_summary"]
    assert {"real/test", "real/validation", "unconditioned/balanced", "random"} <= set(summary["system"])
    assert summary.iloc[0]["system"] == "real/test"
    assert len(out["evaluation_metrics"]["continuation"]) == 1
    assert [row["bits_per_note"] for row in out["evaluation_metrics"]["likelihood"]] == [9.0, 18.0, 12.0, 18.0, 4.0, 5.0]
    report = out["evaluation_report"]
    assert report.startswith("# Evaluation report") and "random baseline" in report
    # the token guard: both failing sets are named in the report's first lines, with the reason
    guard = summary.set_index("system")["guard"]
    assert guard["unconditioned/balanced"].startswith("FAIL: grammar-error share 0.300 > 0.1")
    assert guard["continuation/continuation"].startswith("FAIL: 0.100 notes per token < half")
    assert guard["continuation/reference"] == "ok"
    head = "\n".join(report.splitlines()[:6])
    assert "2 generated set(s) are not music yet" in head and "`unconditioned/balanced`" in head
    assert len(plot_overlap_areas(summary).axes[0].patches) > 0
    assert len(plot_histograms(out["evaluation_pieces"], params["evaluation"]).axes) == 2
    assert write_report(summary, out["evaluation_metrics"]) == report
    assert likelihood_table(*metrics.values())[0]["model"] == "transformer"


def test_report_says_oa_is_undefined_with_one_test_piece(params):
    notes = _real_notes({"test": [0], "validation": [4, 5]})
    summary, info = evaluate_systems(collect_pieces({"x/s0": make_score(1)}, {}, notes), params["evaluation"])
    assert summary["mean_oa"].isna().all()
    report = write_report(summary, {**info, "likelihood": likelihood_table(
        {"transformer": {"bits_per_note": 1.0}, "unigram": {"bits_per_note": 2.0}},
        {"ngram": {"order": 2, "bits_per_note": 1.5}, "unigram": {"bits_per_note": 2.0}},
        {"lstm": {"pitch_bits_per_note": 1.0}, "pitch_unigram": {"pitch_bits_per_note": 2.0}}), "continuation": []})
    assert "OA and KL are undefined" in report


def test_original_piece_metrics_known_values(params):
    limits = params["evaluation"]["limits"]
    scale = pd.DataFrame({"pitch": C_MAJOR, "velocity": 80, "start": np.arange(8) * 0.5, "end": np.arange(8) * 0.5 + 0.5,
                          "step": [0.0] + [0.5] * 7, "duration": np.full(8, 0.5)})
    reference = {"pitch": {"mean": C_MAJOR.mean(), "std": 4.0}, "step": {"mean": 0.4375, "std": 0.2}, "duration": {"mean": 0.5, "std": 0.1}}
    result = m.piece_metrics(scale, reference, limits)
    assert result["num_notes"] == 8 and result["notes_per_second"] == pytest.approx(2.0)
    assert result["step_motion_ratio"] == 1.0 and result["large_leap_ratio"] == 0.0 and result["melodic_coherence"] == 1.0
    assert result["pitch_range_validity"] == result["duration_validity"] == result["step_validity"] == 1.0
    assert result["pitch_entropy"] == pytest.approx(3.0) and result["most_common_pitch_ratio"] == pytest.approx(1 / 8)
    assert result["pitch_similarity"] == pytest.approx(1.0) and result["overall_similarity"] == pytest.approx(1.0)
    repeated = scale.assign(pitch=60)
    assert m.piece_metrics(repeated, reference, limits)["pitch_entropy"] == 0.0
    leaps = scale.assign(pitch=[40, 80] * 4)
    assert m.piece_metrics(leaps, reference, limits)["melodic_coherence"] == 0.0


def test_system_panels_have_twelve_panels_and_real_velocity(params):
    notes = _real_notes({"test": [0, 1], "validation": [2]})
    pieces = collect_pieces({"x/s0": make_score(3)}, {}, notes)
    figures = plot_system_panels(pieces, params["evaluation"])
    assert set(figures) == {"x.png", "real__validation.png"}
    velocity_axis = figures["x.png"].axes[5]
    assert velocity_axis.get_title() == "velocity" and len(velocity_axis.patches) > 0
    assert len(figures["x.png"].axes) == 12
