"""Two runs with the same seed give identical tokens, checkpoints (to tolerance) and MIDI."""

from __future__ import annotations

import copy

import torch
from kedro.io import MemoryDataset

from symbolic_music.pipelines import (
    data_engineering,
    generation,
    lstm_model,
    transformer_model,
)
from tests.conftest import FROM_SCRATCH, raw_catalog, run_pipeline


def _run_everything(corpus_root, params, trainer_dir):
    p = copy.deepcopy(params)
    p["transformer_model"]["trainer_dir"] = str(trainer_dir)
    p["transformer_model"]["training"]["num_train_epochs"] = 1
    catalog = raw_catalog(corpus_root)
    for group in ("data_engineering", "transformer_model", "lstm_model", "generation"):
        catalog[f"params:{group}"] = MemoryDataset(p[group])
    for name, value in FROM_SCRATCH.items():
        catalog[name] = MemoryDataset(value)
    pipeline = data_engineering.create_pipeline() + transformer_model.create_pipeline() + lstm_model.create_pipeline() + generation.create_pipeline()
    return run_pipeline(pipeline, catalog)


def _notes(score):
    return [(n.time, n.duration, n.pitch, n.velocity) for t in score.tracks for n in t.notes]


def test_same_seed_same_results(corpus_root, params, tmp_path):
    first = _run_everything(corpus_root, params, tmp_path / "a")
    second = _run_everything(corpus_root, params, tmp_path / "b")
    for split in ("train", "validation", "test"):
        assert first[f"{split}_tokens"] == second[f"{split}_tokens"]
    for (name, a), (_, b) in zip(first["transformer"].state_dict().items(), second["transformer"].state_dict().items()):
        assert torch.allclose(a, b, atol=1e-6), name
    for name, tensor in first["lstm"]["state_dict"].items():
        assert torch.allclose(tensor, second["lstm"]["state_dict"][name], atol=1e-6), name
    assert first["generated_midi"].keys() == second["generated_midi"].keys()
    assert all(_notes(first["generated_midi"][k]) == _notes(second["generated_midi"][k]) for k in first["generated_midi"])
    assert {k: _notes(v) for k, v in first["baseline_midi"].items()} == {k: _notes(v) for k, v in second["baseline_midi"].items()}
