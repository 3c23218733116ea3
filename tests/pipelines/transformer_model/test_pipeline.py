"""transformer_model: window builder properties, collator masking, parameters, model, pipeline."""

from __future__ import annotations

import copy

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from kedro.io import DataCatalog, MemoryDataset

from symbolic_music.models.likelihood import summarize_nll, unigram_nll
from symbolic_music.models.windows import IGNORE_INDEX, PadCollator, piece_windows
from symbolic_music.pipelines import transformer_model
from symbolic_music.pipelines.transformer_model.nodes import (
    build_model,
    evaluate_transformer,
    make_windows,
    plot_loss_curves,
    special_ids,
    train_transformer,
    validate_params,
)
from tests.conftest import run_pipeline

BOS, EOS = 1, 2


@settings(max_examples=60, deadline=None)
@given(
    ids=st.lists(st.integers(4, 99), min_size=0, max_size=300),
    max_length=st.integers(3, 40),
    stride_fraction=st.floats(0.05, 1.0),
    header=st.lists(st.integers(100, 110), max_size=1),
)
def test_windows_lose_no_token_and_place_bos_eos(ids, max_length, stride_fraction, header):
    chunk = max_length - 1 - len(header)
    stride = max(1, int(chunk * stride_fraction))
    windows = piece_windows(ids, max_length, stride, BOS, EOS, header)
    assert all(len(w) <= max_length and w[0] == BOS and w[1 : 1 + len(header)] == header for w in windows)
    assert windows[-1][-1] == EOS
    assert sum(w[-1] == EOS for w in windows) == 1
    # reassemble: each window's body starts `stride` tokens after the previous one
    body = [*ids, EOS]
    for index, window in enumerate(windows):
        start = index * stride
        assert window[1 + len(header) :] == body[start : start + chunk]
    covered = set()
    for index, window in enumerate(windows):
        covered.update(range(index * stride, index * stride + len(window) - 1 - len(header)))
    assert covered == set(range(len(body)))


def test_windows_reject_a_stride_that_would_skip_tokens():
    with pytest.raises(ValueError, match="stride"):
        piece_windows(list(range(50)), max_length=10, stride=10, bos_id=BOS, eos_id=EOS)


def test_collator_masks_prefix_and_padding_exactly():
    collate = PadCollator(pad_id=0, prefix_len=3)
    batch = collate([{"input_ids": [1, 5, 6, 7, 8, 9]}, {"input_ids": [1, 5, 6, 7]}])
    assert batch["input_ids"].tolist() == [[1, 5, 6, 7, 8, 9], [1, 5, 6, 7, 0, 0]]
    assert batch["attention_mask"].tolist() == [[1] * 6, [1, 1, 1, 1, 0, 0]]
    expected = [[-100, -100, -100, 7, 8, 9], [-100, -100, -100, 7, -100, -100]]
    assert batch["labels"].tolist() == expected
    no_prefix = PadCollator(pad_id=0)([{"input_ids": [1, 5]}, {"input_ids": [1]}])
    assert no_prefix["labels"].tolist() == [[1, 5], [1, IGNORE_INDEX]]


@pytest.mark.parametrize(
    "change, name",
    [
        ({"prefix_len": 64}, "prefix_len"),
        ({"stride": 64}, "stride"),
        ({"max_length": 1}, "max_length"),
        ({"model": {"n_positions": 32}}, "n_positions"),
    ],
)
def test_bad_parameters_are_named(change, name, params):
    bad = copy.deepcopy(params["transformer_model"])
    for key, value in change.items():
        bad[key] = {**bad[key], **value} if isinstance(value, dict) else value
    with pytest.raises(ValueError, match=name):
        validate_params(bad)


def test_build_model_takes_vocab_and_special_ids_from_tokenizer(engineered, params):
    tokenizer = engineered["tokenizer"]
    model = build_model(tokenizer, params["transformer_model"])
    ids = special_ids(tokenizer)
    assert model.config.vocab_size == len(tokenizer)
    assert (model.config.bos_token_id, model.config.eos_token_id, model.config.pad_token_id) == (ids["bos"], ids["eos"], ids["pad"])
    assert model.config.n_layer == params["transformer_model"]["model"]["n_layer"]


def test_make_windows_covers_all_train_tokens(engineered, params):
    p = params["transformer_model"]
    train, validation = make_windows(engineered["train_tokens"], engineered["validation_tokens"], engineered["tokenizer"], p)
    total_tokens = sum(len(ids) + 1 for ids in engineered["train_tokens"].values())  # +EOS
    assert sum(len(w) - 1 for w in train) >= total_tokens
    assert sum(len(w) - 1 for w in validation) == sum(len(ids) + 1 for ids in engineered["validation_tokens"].values())


def test_unigram_and_units():
    total, count = unigram_nll([[1, 3, 3, 3]], [[1, 3]], vocab_size=4, smoothing=0.0)
    assert count == 1 and total == pytest.approx(0.0)
    summary = summarize_nll(total_nats=2 * 0.6931471805599453, num_tokens=2, num_notes=1)
    assert summary["bits_per_token"] == pytest.approx(1.0) and summary["bits_per_note"] == pytest.approx(2.0)


@pytest.fixture(scope="module")
def trained(engineered, params):
    p = params["transformer_model"]
    train, validation = make_windows(engineered["train_tokens"], engineered["validation_tokens"], engineered["tokenizer"], p)
    return train_transformer(train, validation, engineered["tokenizer"], p)


def test_train_transformer_records_history(trained, params):
    model, history = trained
    epochs = params["transformer_model"]["training"]["num_train_epochs"]
    assert len(history["validation"]) == epochs
    assert len(history["train"]) >= 1 and all(entry["loss"] > 0 for entry in history["train"])
    assert history["num_parameters"] == model.num_parameters()


def test_evaluate_transformer_reports_comparable_units(trained, engineered, params):
    model, _ = trained
    metrics = evaluate_transformer(
        model, engineered["train_tokens"], engineered["test_tokens"], engineered["tokenizer"], engineered["notes"], params["transformer_model"]
    )
    test_notes = int((engineered["notes"]["split"] == "test").sum())
    for system in ("transformer", "unigram"):
        assert metrics[system]["notes"] == test_notes
        assert metrics[system]["bits_per_note"] == pytest.approx(metrics[system]["bits_per_token"] * metrics[system]["predicted_tokens"] / test_notes)
    assert metrics["transformer"]["predicted_tokens"] == sum(len(ids) + 1 for ids in engineered["test_tokens"].values())


def test_plot_loss_curves_draws_both_curves(trained):
    figure = plot_loss_curves(trained[1])
    assert len(figure.axes[0].lines) == 2


def test_transformer_pipeline_runs(engineered, params):
    catalog = DataCatalog({"params:transformer_model": MemoryDataset(params["transformer_model"])})
    inputs = {k: engineered[k] for k in ("train_tokens", "validation_tokens", "test_tokens", "tokenizer", "notes")}
    out = run_pipeline(transformer_model.create_pipeline(), catalog, inputs)
    assert out["transformer_metrics"]["transformer"]["bits_per_note"] > 0
    assert isinstance(out["transformer"].transformer.wte.weight, torch.Tensor)
