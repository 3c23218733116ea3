"""``models.precision``: the GPU branches (bf16 or fp16 autocast, sampling on the GPU) decided on
CPU with the GPU's answers faked, the CPU fallback said in one log line, and bf16 compute run for
real on CPU through Trainer and the sampler."""

from __future__ import annotations

import logging

import pytest
import torch

from symbolic_music.models import precision
from symbolic_music.models.precision import for_sampling, resolve, trainer_arguments
from symbolic_music.models.sampler import Length, Request, sample
from symbolic_music.models.transformer import build_model, train_transformer, training_arguments, validate_params


@pytest.fixture
def fake_gpu(monkeypatch):
    """A GPU that says whether it has bf16: ``fake_gpu(True)``."""

    def install(bf16: bool) -> None:
        monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
        monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: bf16)

    return install


@pytest.fixture
def fresh_log(monkeypatch):
    monkeypatch.setattr(precision, "_said", set())


def test_auto_is_fp32_on_cpu_said_once(caplog, fresh_log):
    with caplog.at_level(logging.INFO, logger="symbolic_music.models.precision"):
        assert resolve("auto", "transformer_model.precision") == ("cpu", "fp32")
        assert resolve("auto", "transformer_model.precision") == ("cpu", "fp32")
        assert trainer_arguments("auto") == {}
    lines = [r.getMessage() for r in caplog.records]
    assert lines == ["No GPU: transformer_model runs in fp32 on CPU (transformer_model.precision: auto)"]


@pytest.mark.parametrize("bf16, expected", [(True, "bf16"), (False, "fp16")])
def test_auto_on_a_gpu_is_bf16_where_it_has_it(fake_gpu, bf16, expected):
    fake_gpu(bf16)
    assert resolve("auto", "generation.sampler.precision") == ("cuda", expected)
    assert trainer_arguments("auto") == {expected: True}
    assert trainer_arguments("fp32") == {}


def test_bad_precisions_are_named():
    with pytest.raises(ValueError, match="transformer_model.precision must be one of"):
        resolve("half", "transformer_model.precision")
    with pytest.raises(ValueError, match="generation.sampler.precision: fp16 needs a GPU"):
        resolve("fp16", "generation.sampler.precision")


def test_precision_flags_in_training_settings_are_refused(params):
    p = params["transformer_model"]
    with pytest.raises(ValueError, match="transformer_model.training.fp16 is set by transformer_model.precision"):
        validate_params({**p, "training": {**p["training"], "fp16": True}})
    with pytest.raises(ValueError, match="transformer_model.precision"):
        validate_params({**p, "precision": "fp8"})


def test_training_arguments_on_cpu_are_fp32(params, tmp_path):
    args = training_arguments({**params["transformer_model"], "trainer_dir": str(tmp_path)})
    assert not args.bf16 and not args.fp16


def test_bf16_autocast_trains_on_cpu(engineered, params, tmp_path):
    """The branch a GPU takes (Trainer's bf16 autocast), run on CPU: the loss is finite and falls."""
    from symbolic_music.models.windows import piece_windows

    vocabulary = engineered["tokenizer"]
    p = {**params["transformer_model"], "precision": "bf16", "trainer_dir": str(tmp_path), "composer_tokens": {"enabled": False, "top_k": 1},
         "training": {**params["transformer_model"]["training"], "num_train_epochs": 3, "learning_rate": 3e-3, "logging_steps": 1}}
    pieces = list(engineered["train_tokens"].values())[:6]
    windows = [w for ids in pieces for w in piece_windows(ids, p["max_length"], p["stride"], vocabulary.bos_id, vocabulary.eos_id)]
    model, history = train_transformer(windows, windows[:4], vocabulary, p)
    losses = [entry["loss"] for entry in history["validation"]]
    assert all(torch.isfinite(torch.tensor(losses))) and losses[-1] < losses[0]
    assert next(model.parameters()).dtype == torch.float32  # autocast keeps fp32 weights


def test_sampling_in_bf16_on_cpu_gives_music(engineered, params):
    vocabulary = engineered["tokenizer"]
    torch.manual_seed(0)
    model = build_model(vocabulary, params["transformer_model"]).eval()
    settings = {**params["generation"]["sampler"], "precision": "bf16"}
    [piece] = sample(model, vocabulary, [Request(seed=3)], params["generation"]["presets"]["balanced"], Length(seconds=4), settings)
    assert next(model.parameters()).dtype == torch.bfloat16
    assert len(piece.tokens) > 0 and all(0 <= t < len(vocabulary) for t in piece.tokens)
    assert for_sampling(model, "fp32") is model and next(model.parameters()).dtype == torch.float32
