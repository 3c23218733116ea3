"""lstm_model: windows, timing normalisation, the coherence gradient, training, metrics and baselines."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
import torch
from kedro.io import DataCatalog, MemoryDataset

from symbolic_music.models.lstm import (
    LSTMConfig,
    load_lstm,
    NoteLSTM,
    coherence_penalty,
    denormalise_timing,
    lstm_loss,
    normalise_timing,
    note_windows,
)
from symbolic_music.pipelines import lstm_model
from symbolic_music.pipelines.lstm_model.nodes import (
    evaluate_lstm,
    fit_ngram_baseline,
    make_note_windows,
    plot_lstm_history,
    train_lstm,
)
from tests.conftest import FROM_SCRATCH, run_pipeline


def test_timing_clip_and_inverse_round_trip(params):
    timing = params["lstm_model"]["timing"]
    seconds = np.array([0.0, 0.05, 0.3, 2.0, 9.0])
    normalised = normalise_timing(seconds, timing["step_min"], timing["step_max"])
    assert normalised.min() == 0.0 and normalised.max() == 1.0
    back = denormalise_timing(normalised, timing["step_min"], timing["step_max"])
    assert back == pytest.approx(np.clip(seconds, 0.05, 2.0))


def test_coherence_term_has_a_gradient():
    logits = torch.zeros(2, 128, requires_grad=True)
    with torch.no_grad():
        logits[:, 100] = 5.0  # most mass far above the last pitch
    penalty = coherence_penalty(logits, torch.tensor([40, 40]))
    penalty.backward()
    assert penalty.item() > 0
    assert logits.grad.abs().sum() > 0
    # and it pushes probability towards pitches within an octave of the last one
    assert logits.grad[0, 100] > 0 > logits.grad[0, 40]


def test_coherence_term_is_zero_for_steps_within_an_octave():
    logits = torch.full((1, 128), -1e4)
    logits[0, 62] = 0.0
    assert coherence_penalty(logits, torch.tensor([60])).item() == 0.0


def test_loss_uses_every_weight():
    logits, timing = torch.randn(4, 128), torch.rand(4, 2)
    args = (logits, timing, torch.randint(0, 128, (4,)), torch.rand(4, 2), torch.randint(0, 128, (4,)))
    _, parts = lstm_loss(*args, {"pitch": 1.0, "timing": 1.0, "coherence": 1.0})
    total, _ = lstm_loss(*args, {"pitch": 2.0, "timing": 3.0, "coherence": 5.0})
    assert total.item() == pytest.approx(2 * parts["pitch"] + 3 * parts["timing"] + 5 * parts["coherence"], rel=1e-5)


def test_note_windows_shapes_and_targets(params):
    notes = pd.DataFrame({"piece_id": ["a"] * 10, "pitch": range(60, 70), "step": [0.5] * 10, "duration": [0.5] * 10})
    windows = note_windows(notes, seq_length=4, stride=2, timing=params["lstm_model"]["timing"])
    assert windows["pitch"].shape == (3, 4) and windows["timing"].shape == (3, 4, 2)
    assert windows["target_pitch"].tolist() == [64, 66, 68]
    assert windows["pitch"][1].tolist() == [62, 63, 64, 65]


def test_model_is_unidirectional_by_default_and_shapes(params):
    model = NoteLSTM(LSTMConfig(**params["lstm_model"]["model"]))
    assert not model.lstm.bidirectional
    logits, timing = model(torch.zeros(3, 5, dtype=torch.long), torch.zeros(3, 5, 2))
    assert logits.shape == (3, 128) and timing.shape == (3, 2)


def test_make_note_windows_rejects_bad_seq_length(engineered, params):
    with pytest.raises(ValueError, match="seq_length"):
        make_note_windows(engineered["notes"], {**params["lstm_model"], "seq_length": 0})


@pytest.fixture(scope="module")
def lstm_run(engineered, params):
    train, validation, test = make_note_windows(engineered["notes"], params["lstm_model"])
    checkpoint, history = train_lstm(train, validation, None, params["lstm_model"])
    return train, test, checkpoint, history


def test_train_lstm_is_seeded_and_keeps_history(lstm_run, engineered, params):
    train, _, checkpoint, history = lstm_run
    assert len(history["validation"]) >= 1
    validation = make_note_windows(engineered["notes"], params["lstm_model"])[1]
    again, _ = train_lstm(train, validation, None, params["lstm_model"])
    for name, tensor in checkpoint["state_dict"].items():
        assert torch.allclose(tensor, again["state_dict"][name]), name
    assert isinstance(load_lstm(checkpoint), NoteLSTM)


def test_train_lstm_starts_from_a_checkpoint_and_keeps_its_size(lstm_run, engineered, params):
    from symbolic_music.pipelines.lstm_model.nodes import _mean_loss

    train, _, checkpoint, _ = lstm_run
    validation = make_note_windows(engineered["notes"], params["lstm_model"])[1]
    other_size = {**params["lstm_model"], "epochs": 1, "model": {**params["lstm_model"]["model"], "hidden_size": 4}}
    tuned, history = train_lstm(train, validation, checkpoint, other_size)
    assert tuned["config"] == checkpoint["config"]  # the checkpoint's size, not the parameters'
    assert history["initial_validation_loss"] == pytest.approx(_mean_loss(load_lstm(checkpoint), validation, params["lstm_model"]))
    assert any(not torch.equal(tensor, checkpoint["state_dict"][name]) for name, tensor in tuned["state_dict"].items())


def test_evaluate_lstm_reports_bits_per_note(lstm_run, params):
    train, test, checkpoint, _ = lstm_run
    metrics = evaluate_lstm(checkpoint, train, test, params["lstm_model"])
    assert metrics["test_notes_predicted"] == len(test["pitch"])
    assert 0 < metrics["lstm"]["pitch_bits_per_note"] < 20
    assert metrics["pitch_unigram"]["pitch_bits_per_note"] > 0


def test_plot_lstm_history(lstm_run):
    assert len(plot_lstm_history(lstm_run[3]).axes[0].lines) == 2


def test_lstm_pipeline_runs(engineered, params):
    catalog = DataCatalog({"params:lstm_model": MemoryDataset(params["lstm_model"])})
    inputs = {k: engineered[k] for k in ("notes", "train_tokens", "validation_tokens", "test_tokens", "tokenizer")}
    out = run_pipeline(lstm_model.create_pipeline(), catalog, {**inputs, **FROM_SCRATCH})
    assert set(out["lstm"]) == {"config", "state_dict"}
    assert "lstm" in out["lstm_metrics"]
    systems = {name.split("/")[0] for name in out["baseline_midi"]}
    assert systems == {"ngram", "random", "rule_based"}
    assert all(score.note_num() > 0 for score in out["baseline_midi"].values())
    assert out["ngram_metrics"]["ngram"]["bits_per_note"] > 0


def test_ngram_baseline_reports_tuned_ngram_and_unigram(engineered, params):
    inputs = [engineered[k] for k in ("train_tokens", "validation_tokens", "test_tokens", "tokenizer", "notes")]
    metrics, pieces = fit_ngram_baseline(*inputs, params["lstm_model"])
    settings = params["lstm_model"]["baselines"]["ngram"]
    assert metrics["ngram"]["order"] == settings["order"] and metrics["unigram"]["order"] == 1
    assert len(metrics["ngram"]["discounts"]) == settings["order"] and len(metrics["unigram"]["discounts"]) == 1
    assert metrics["ngram"]["validation_bits_per_note"] < metrics["unigram"]["validation_bits_per_note"]
    assert metrics["ngram"]["notes"] == int((engineered["notes"]["split"] == "test").sum())
    assert pieces and all(name.startswith("ngram/sample_") for name in pieces)


@pytest.mark.parametrize(("key", "value"), [("order", 0), ("min_discount", 1.0), ("tolerance", 0.0), ("sweeps", -1)])
def test_ngram_baseline_rejects_bad_settings(engineered, params, key, value):
    lstm = copy.deepcopy(params["lstm_model"])
    lstm["baselines"]["ngram"][key] = value
    inputs = [engineered[k] for k in ("train_tokens", "validation_tokens", "test_tokens", "tokenizer", "notes")]
    with pytest.raises(ValueError, match=f"lstm_model.baselines.ngram.{key}"):
        fit_ngram_baseline(*inputs, lstm)


def test_rule_based_stays_in_its_scale(params):
    from symbolic_music.music.baselines import rule_based_piece, scale_pitch_classes

    rules = params["lstm_model"]["baselines"]["rule_based"]
    rng = np.random.default_rng(0)
    for tonic, mode in [(60, "major"), (57, "minor"), (62, "major")]:
        score = rule_based_piece(60.0, tonic, mode, rules, rng)
        assert score.to("second").end() == pytest.approx(60.0, abs=1e-2) and score.note_num() >= 60 / max(rules["durations"])
        assert {n.pitch % 12 for n in score.tracks[0].notes} <= scale_pitch_classes(tonic, mode)
        assert all(abs(n.pitch - tonic) <= 12 * rules["octaves"] for n in score.tracks[0].notes)


def test_random_baseline_uses_the_pitch_range_and_train_timing(engineered, params):
    from symbolic_music.music.baselines import random_piece
    from symbolic_music.music.notes import notes_table

    train = engineered["notes"][engineered["notes"]["split"] == "train"]
    table = notes_table(random_piece(120.0, (50, 60), train, np.random.default_rng(0)))
    assert table["pitch"].between(50, 59).all() and table["pitch"].nunique() == 10
    assert table["end"].max() == pytest.approx(120.0, abs=1e-2) and table["start"].max() < 120.0
    assert set(table["duration"].round(3)[:-5]) <= set(train["duration"].round(3)) | set(np.round(120.0 - table["start"], 3))


def test_sampling_constraints_hold(params):
    from symbolic_music.models.lstm import sample_notes

    torch.manual_seed(0)
    model = NoteLSTM(LSTMConfig(**params["lstm_model"]["model"]))
    seed_pitch, seed_timing = np.full(8, 60), np.full((8, 2), 0.5, dtype=np.float32)
    generator = torch.Generator().manual_seed(0)
    constraints = {"pitch_range": [48, 72], "max_interval": 3, "repetition_penalty": 1.0, "repetition_window": 4}
    timing_ranges = params["lstm_model"]["timing"]
    pitch, timing = sample_notes(model, seed_pitch, seed_timing, 1e9, timing_ranges, 1.5, constraints, generator, max_notes=200)
    assert len(pitch) == 200
    assert pitch.min() >= 48 and pitch.max() <= 72
    assert np.abs(np.diff(np.concatenate([[60], pitch]))).max() <= 3
    assert timing.min() >= 0 and timing.max() <= 1
    free, _ = sample_notes(model, seed_pitch, seed_timing, 1e9, timing_ranges, 1.5, {}, torch.Generator().manual_seed(0), max_notes=200)
    assert np.abs(np.diff(free)).max() > 3  # without the constraint, leaps do happen


def test_lstm_sampling_stops_after_the_seconds_asked(params):
    from symbolic_music.models.lstm import denormalise_timing, sample_notes

    torch.manual_seed(0)
    model = NoteLSTM(LSTMConfig(**params["lstm_model"]["model"]))
    timing_ranges = params["lstm_model"]["timing"]
    seed_pitch, seed_timing = np.full(8, 60), np.full((8, 2), 0.5, dtype=np.float32)
    _, timing = sample_notes(model, seed_pitch, seed_timing, 5.0, timing_ranges, 1.0, {}, torch.Generator().manual_seed(0), max_notes=10_000)
    onsets = np.cumsum(denormalise_timing(timing[1:, 0], timing_ranges["step_min"], timing_ranges["step_max"]))
    assert onsets[-1] >= 5.0 and onsets[-2] < 5.0
