"""evaluation: metrics on hand-made inputs with known answers, and the pipeline."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.io.core import Version
from kedro_datasets.matplotlib import MatplotlibDataset

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
from symbolic_music.pipelines.evaluation.checks import composer_accuracy, memorization_summary
from symbolic_music.pipelines.evaluation.nodes import evaluate, likelihood_table
from symbolic_music.pipelines.evaluation.plots import (
    plot_histograms,
    plot_ranking,
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


def _split_notes(seeds_by_split: dict[str, list[int]]) -> pd.DataFrame:
    tables = [notes_table(make_score(seed)).assign(piece_id=f"{split}/{seed}", split=split)
              for split, seeds in seeds_by_split.items() for seed in seeds]
    return pd.concat(tables, ignore_index=True)


def _random_pieces(notes: pd.DataFrame, count: int, seconds: float) -> dict:
    from symbolic_music.music.baselines import random_piece

    rng = np.random.default_rng(0)
    return {f"random/sample_{i:03d}": random_piece(seconds, (21, 109), notes, rng) for i in range(count)}


MANIFEST = {"real_test": {"pieces": 6, "grammar_error_share": 0.0, "notes_per_token": 0.25}, "sets": {}, "files": {}}
METRICS = {
    "transformer_metrics": {"transformer": {"bits_per_note": 9.0}, "unigram": {"bits_per_note": 18.0}},
    "ngram_metrics": {"ngram": {"order": 4, "bits_per_note": 12.0}, "unigram": {"bits_per_note": 18.0}},
    "lstm_metrics": {"lstm": {"pitch_bits_per_note": 4.0}, "pitch_unigram": {"pitch_bits_per_note": 5.0}},
}


@pytest.fixture(scope="module")
def yardstick(params):
    """Real pieces in test and validation; more real pieces as a generated set; random notes;
    and a set of two pieces, too few to rank. Excerpts of 4 s (the test parameters)."""
    notes = _split_notes({"test": [0, 1, 2, 3, 4, 5], "validation": [6, 7, 8, 9, 10, 11]})
    generated = {f"unconditioned/balanced/sample_{i:03d}": make_score(20 + i) for i in range(6)}
    generated |= {f"tiny/sample_{i:03d}": make_score(40 + i) for i in range(2)}
    baselines = _random_pieces(notes, 6, 30.0)
    summary, metrics, excerpts = evaluate(generated, baselines, notes, MANIFEST, *METRICS.values(), params["evaluation"])
    copies = memorization_summary(generated, baselines, notes.assign(split=notes["split"].replace({"validation": "train"})), params["generation"])
    return summary.set_index("system"), metrics, excerpts, copies


def test_real_music_scores_as_real_and_random_notes_as_the_floor(yardstick):
    s, metrics, _, _ = yardstick
    assert "real/test" not in s.index and metrics["reference"]["pieces"] == 6
    real, more_real, noise = s.loc["real/validation"], s.loc["unconditioned/balanced"], s.loc["random"]
    assert more_real["mean_oa_low"] <= real["mean_oa_high"] and real["mean_oa_low"] <= more_real["mean_oa_high"]  # within noise
    assert noise["mean_oa_high"] < real["mean_oa_low"]  # random notes below real music, outside its interval
    assert noise["js_interval_low"] > real["js_interval_high"]  # uniform pitches leap; real melodies step
    assert real["vs_floor"] == "above" and noise["vs_ceiling"] == "below"
    for system in ("real/validation", "unconditioned/balanced", "random"):
        row = s.loc[system]
        assert row["mean_oa_low"] <= row["mean_oa"] <= row["mean_oa_high"] and row["excerpts"] >= 2 * row["pieces"]
        assert row["mean_oa_at_2s_low"] <= row["mean_oa_at_2s"] <= row["mean_oa_at_2s_high"] and row["excerpts_at_2s"] > row["excerpts"]


def test_a_set_too_small_is_not_ranked_and_says_why(yardstick):
    s, metrics, _, _ = yardstick
    assert pd.isna(s.loc["tiny", "rank"]) and s.loc["tiny", "note"].startswith("too few to rank: 2 pieces")
    assert "tiny" not in metrics["ranking"]
    assert sorted(s["rank"].dropna()) == list(range(1, len(metrics["ranking"]) + 1))


def test_excerpts_have_one_length(yardstick, params):
    _, _, excerpts, _ = yardstick
    seconds = params["evaluation"]["excerpt_seconds"]
    assert excerpts["start"].between(0, seconds).all() and (excerpts["end"] <= seconds + 1e-9).all()


def test_the_report_ranks_with_intervals_and_names_what_it_cannot_rank(yardstick):
    s, metrics, _, copies = yardstick
    report = write_report(s.reset_index(), {**metrics, "guard": {"unconditioned/balanced": "FAIL: grammar-error share 0.300 > 0.1"}}, copies,
                          {"composers": [], "note": "fewer than two composer tokens"}, {}, pd.DataFrame(), {"records": 0})
    head = "\n".join(report.splitlines()[:6])
    assert "1 generated set(s) are not music yet" in head and "`unconditioned/balanced`" in head
    assert "`tiny` is not ranked: too few to rank: 2 pieces" in report
    assert re.search(r"\| real/validation \| 6 \| \d+ \| 0\.\d{3} \[0\.\d\d, 0\.\d\d\]", report)
    assert "ranks above `random`" in report


def test_evaluation_pipeline_runs_and_reports(engineered, params):
    generated = {f"unconditioned/balanced/s{i}": make_score(i) for i in range(2)}
    generated |= {"continuation/p__1/prefix": make_score(19, 8), "continuation/p__1/continuation": make_score(20),
                  "continuation/p__1/reference": make_score(21)}
    manifest = {"real_test": {"pieces": 2, "grammar_error_share": 0.0, "notes_per_token": 0.25},
                "files": {}, "sets": {"unconditioned/balanced": {"files": 2, "grammar_error_share": 0.3, "notes_per_token": 0.24},
                         "continuation/continuation": {"files": 1, "grammar_error_share": 0.02, "notes_per_token": 0.1},
                         "continuation/reference": {"files": 1, "grammar_error_share": 0.0, "notes_per_token": 0.25}}}
    inputs = {"generated_midi": generated, "baseline_midi": {"random/sample_000": make_score(7)}, "notes": engineered["notes"],
              "generation_manifest": manifest, "listening_ratings": "", **METRICS}
    catalog = DataCatalog({"params:evaluation": MemoryDataset(params["evaluation"]), "params:generation": MemoryDataset(params["generation"])})
    out = run_pipeline(evaluation.create_pipeline(), catalog, inputs)
    summary = out["evaluation_summary"]
    assert {"real/validation", "unconditioned/balanced", "random", "continuation/continuation"} <= set(summary["system"])
    assert "continuation/prefix" not in set(summary["system"])  # real, and shorter than an excerpt
    fits = pd.DataFrame(out["evaluation_metrics"]["continuation_fit"])
    assert set(fits["part"]) == {"continuation", "reference"} and (fits["pieces"] == 1).all()
    assert [row["bits_per_note"] for row in out["evaluation_metrics"]["likelihood"]] == [9.0, 18.0, 12.0, 18.0, 4.0, 5.0]
    guard = summary.set_index("system")["guard"]
    assert guard["unconditioned/balanced"].startswith("FAIL: grammar-error share 0.300 > 0.1")
    assert guard["continuation/continuation"].startswith("FAIL: 0.100 notes per token < half")
    assert "continuation/reference" not in out["evaluation_metrics"]["guard"]  # real music is not guarded
    report = out["evaluation_report"]
    assert "2 generated set(s) are not music yet" in "\n".join(report.splitlines()[:6])
    assert len(plot_ranking(summary).axes[0].collections) > 0
    assert len(plot_histograms(out["evaluation_pieces"], params["evaluation"]).axes) == 2
    assert likelihood_table(*METRICS.values())[0]["model"] == "transformer"


def test_task2_fit_prefers_the_real_continuation_of_a_prefix():
    from symbolic_music.music.continuation_fit import continuation_fit

    piece = notes_table(make_score(3, 120))
    prefix, after = piece[piece["start"] < 10], piece[piece["start"] >= 10]
    real = continuation_fit(prefix, after)
    shifted = continuation_fit(prefix, after.assign(pitch=after["pitch"] + 6, velocity=after["velocity"] // 2))
    assert real["key_correlation"] > shifted["key_correlation"] and real["velocity_difference"] < shifted["velocity_difference"]
    assert continuation_fit(prefix, prefix)["density_log_ratio"] == pytest.approx(0.0)


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


def test_system_panels_have_twelve_panels_and_real_velocity(yardstick, params):
    _, _, excerpts, _ = yardstick
    figures = plot_system_panels(excerpts[excerpts["system"].isin(["real/test", "real/validation", "unconditioned/balanced"])], params["evaluation"])
    figures["x.png"] = figures.pop("unconditioned__balanced.png")
    assert set(figures) == {"x.png", "real__validation.png"}
    velocity_axis = figures["x.png"].axes[5]
    assert velocity_axis.get_title() == "velocity" and len(velocity_axis.patches) > 0
    assert len(figures["x.png"].axes) == 12


def test_the_copying_check_flags_copies_of_train_pieces_and_not_random_notes(yardstick, params):
    """The validation pieces stand in for the train split here: a set holding copies of them,
    transposed, copies; random notes do not."""
    notes = _split_notes({"test": [0, 1, 2, 3, 4, 5], "train": [6, 7, 8, 9, 10, 11]})
    copies = {f"copies/sample_{i:03d}": make_score(6 + i).shift_pitch(3) for i in range(3)}
    table = memorization_summary(copies, _random_pieces(notes, 3, 30.0), notes, params["generation"]).set_index("system")
    assert table.loc["copies", "copying_pieces"] == 3 and table.loc["random", "copying_pieces"] == 0
    assert table.loc["random", "max_longest_run"] < params["generation"]["copy_check"]["max_copied_notes"] < table.loc["copies", "max_longest_run"]
    assert "real/test (baseline)" in table.index


def test_composer_check_skips_composer_tokens_without_real_pieces(params, tmp_path):
    """A model fine-tuned on a one-label folder keeps its checkpoint's composer tokens: pieces asked
    of them are steered, but this corpus has nothing to train the classifier on but one label."""
    notes = _split_notes({"train": [0, 1, 2], "validation": [3], "test": [4]}).assign(composer="zed")
    generated = {f"composer/{name}/balanced/sample_000.mid": make_score(i) for i, name in enumerate(["zed", "Old Master"])}
    manifest = {"files": {name: {"composer": name.split("/")[1]} for name in generated}}
    result, figures = composer_accuracy(notes, generated, manifest, params["evaluation"])
    assert result["composers"] == ["zed"] and "nothing to tell apart" in result["note"]
    plots = MatplotlibDataset(filepath=str(tmp_path / "composer_confusion"), version=Version(None, None), save_args={"format": "png"})
    plots.save(figures)  # as the catalog's versioned entry saves it: an empty folder has no version
    assert [p.name for p in (tmp_path / "composer_confusion").glob("*/*/*")] == ["not_measured.png"]
