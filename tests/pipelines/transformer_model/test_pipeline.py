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
from symbolic_music.models.transformer import build_model, train_transformer, validate_params
from symbolic_music.pipelines import transformer_model
from symbolic_music.pipelines.transformer_model.nodes import (
    encode_sequences,
    evaluate_transformer,
    make_windows,
    plot_loss_curves,
    prepare_transformer_tokenizer,
)
from tests.conftest import FROM_SCRATCH, run_pipeline

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
    assert model.config.vocab_size == len(tokenizer)
    assert (model.config.bos_token_id, model.config.eos_token_id, model.config.pad_token_id) == (tokenizer.bos_id, tokenizer.eos_id, tokenizer.pad_id)
    assert model.config.n_layer == params["transformer_model"]["model"]["n_layer"]


def test_unigram_and_units():
    total, count = unigram_nll([[1, 3, 3, 3]], [[1, 3]], vocab_size=4, smoothing=0.0)
    assert count == 1 and total == pytest.approx(0.0)
    summary = summarize_nll(total_nats=2 * 0.6931471805599453, num_tokens=2, num_notes=1)
    assert summary["bits_per_token"] == pytest.approx(1.0) and summary["bits_per_note"] == pytest.approx(2.0)


def _variant(params, bpe=False, augmentation=False, composers=False):
    p = copy.deepcopy(params["transformer_model"])
    p["bpe"]["enabled"], p["bpe"]["vocab_size"] = bpe, 400
    p["augmentation"]["enabled"] = augmentation
    p["composer_tokens"]["enabled"] = composers
    p["composer_tokens"]["top_k"] = 2
    return p


def _encode(engineered, p):
    tokenizer = prepare_transformer_tokenizer(engineered["tokenizer"], engineered["pieces"], engineered["train_tokens"], None, p)
    sequences = encode_sequences(
        engineered["train_tokens"], engineered["validation_tokens"], engineered["test_tokens"],
        engineered["tokenizer"], tokenizer, engineered["pieces"], p,
    )
    return tokenizer, sequences


def test_plain_sequences_are_the_data_engineering_tokens(engineered, params):
    tokenizer, (train, validation, test, report) = _encode(engineered, _variant(params))
    assert tokenizer.token_ids() == engineered["tokenizer"].token_ids() and tokenizer.composers == {}
    assert {k: v["ids"] for k, v in train.items()} == engineered["train_tokens"]
    assert all(v["header"] == [] for v in train.values())
    assert report["train_tokens_per_note_model"] == pytest.approx(report["train_tokens_per_note_base"])
    windows, _, window_report = make_windows(train, validation, tokenizer, _variant(params))
    total_tokens = sum(len(ids) + 1 for ids in engineered["train_tokens"].values())  # +EOS
    assert sum(len(w) - 1 for w in windows) >= total_tokens
    assert window_report["windows_added_by_augmentation"] == 0


def test_bpe_shortens_sequences_and_decodes_to_the_same_notes(engineered, params):
    tokenizer, (train, _, _, report) = _encode(engineered, _variant(params, bpe=True))
    assert tokenizer.tokenizer.is_trained and len(tokenizer) == 400
    assert report["train_tokens_per_note_model"] < report["train_tokens_per_note_base"]
    piece_id = next(iter(engineered["train_tokens"]))
    assert tokenizer.decode(train[piece_id]["ids"]).note_num() == engineered["tokenizer"].decode(engineered["train_tokens"][piece_id]).note_num()


def test_bpe_is_trained_on_train_only(engineered, params, monkeypatch):
    import symbolic_music.pipelines.transformer_model.nodes as nodes

    seen = []
    monkeypatch.setattr(nodes, "train_bpe", lambda tokenizer, scores, vocab_size: seen.extend(scores))
    prepare_transformer_tokenizer(engineered["tokenizer"], engineered["pieces"], engineered["train_tokens"], None, _variant(params, bpe=True))
    assert len(seen) == len(engineered["train_tokens"])


def test_augmentation_adds_train_copies_within_piano_range(engineered, params):
    p = _variant(params, augmentation=True)
    tokenizer, (train, validation, test, report) = _encode(engineered, p)
    copies = [k for k in train if "@" in k]
    assert report["augmented_train_sequences"] == len(copies) > 0
    assert not any("@" in k for k in [*validation, *test])
    piece_id = next(iter(engineered["train_tokens"]))
    original = tokenizer.decode(train[piece_id]["ids"])
    up = tokenizer.decode(train[f"{piece_id}@pitch+2"]["ids"])
    assert [n.pitch for n in up.tracks[0].notes] == [n.pitch + 2 for n in original.tracks[0].notes]
    _, _, window_report = make_windows(train, validation, tokenizer, p)
    assert window_report["windows_added_by_augmentation"] > 0


def test_composer_tokens_sit_at_position_one(engineered, params):
    p = _variant(params, composers=True)
    tokenizer, (train, validation, _, report) = _encode(engineered, p)
    train_composers = engineered["pieces"].query("split == 'train'")["composer"].value_counts()
    assert list(tokenizer.composers) == [*train_composers.index[:2], "other"]
    composer_ids = set(tokenizer.composers.values())
    assert min(composer_ids) == len(engineered["tokenizer"])  # after every music token: none shares an id
    windows, _, _ = make_windows(train, validation, tokenizer, p)
    assert all(w[1] in composer_ids for w in windows)
    assert all(t not in composer_ids for w in windows for t in w[2:])
    third = train_composers.index[2]
    third_piece = engineered["pieces"].query("split == 'train' and composer == @third")["piece_id"].iloc[0]
    assert train[third_piece]["header"] == [tokenizer.composers["other"]]


@pytest.fixture(scope="module")
def trained(engineered, params):
    p = _variant(params, composers=True)
    tokenizer, (train, validation, test, report) = _encode(engineered, p)
    train_windows, validation_windows, window_report = make_windows(train, validation, tokenizer, p)
    model, history = train_transformer(train_windows, validation_windows, tokenizer, p)
    return model, history, tokenizer, train, validation, test, report, window_report, p


def test_train_transformer_records_history(trained, params):
    model, history = trained[:2]
    epochs = params["transformer_model"]["training"]["num_train_epochs"]
    assert len(history["validation"]) == epochs
    assert len(history["train"]) >= 1 and all(entry["loss"] > 0 for entry in history["train"])
    assert history["num_parameters"] == model.num_parameters()


def test_evaluate_transformer_reports_comparable_units(trained, engineered):
    model, _, tokenizer, train, validation, test, report, window_report, p = trained
    metrics = evaluate_transformer(model, train, validation, test, tokenizer, engineered["notes"], report, window_report, None, p)
    test_notes = int((engineered["notes"]["split"] == "test").sum())
    for system in ("transformer", "unigram"):
        assert metrics[system]["notes"] == test_notes
        assert metrics[system]["bits_per_note"] == pytest.approx(metrics[system]["bits_per_token"] * metrics[system]["predicted_tokens"] / test_notes)
    # every test token and each piece's EOS is scored once; BOS and the composer token are given
    assert metrics["transformer"]["predicted_tokens"] == sum(len(ids) + 1 for ids in engineered["test_tokens"].values())


def test_plot_loss_curves_draws_both_curves(trained):
    figure = plot_loss_curves(trained[1])
    assert len(figure.axes[0].lines) == 2


@pytest.mark.parametrize("bpe, augmentation, composers", [(False, False, False), (True, True, True)])
def test_transformer_pipeline_runs(engineered, params, bpe, augmentation, composers):
    p = _variant(params, bpe=bpe, augmentation=augmentation, composers=composers)
    p["training"]["num_train_epochs"] = 1
    catalog = DataCatalog({"params:transformer_model": MemoryDataset(p)})
    inputs = {k: engineered[k] for k in ("train_tokens", "validation_tokens", "test_tokens", "tokenizer", "notes", "pieces")}
    out = run_pipeline(transformer_model.create_pipeline(), catalog, {**inputs, **FROM_SCRATCH})
    metrics = out["transformer_metrics"]
    assert metrics["transformer"]["bits_per_note"] > 0
    assert metrics["sequences"]["bpe"] is bpe
    assert (metrics["windows"]["windows_added_by_augmentation"] > 0) is augmentation
    assert bool(out["transformer_tokenizer"].composers) is composers
    assert out["transformer"].config.vocab_size == len(out["transformer_tokenizer"])


class _Interrupt(Exception):
    pass


def test_interrupted_training_resumes_to_the_same_weights(engineered, params, tmp_path):
    """A run stopped mid-epoch 2 resumes (``resume: true``) from its epoch-1 checkpoint and ends
    with the weights of an uninterrupted run under the same seed."""
    from transformers import TrainerCallback

    p = _variant(params)
    p["training"].update(num_train_epochs=2, warmup_steps=0)
    p["early_stopping_patience"] = 5
    tokenizer, (train, validation, _, _) = _encode(engineered, p)
    train_windows, validation_windows, _ = make_windows(train, validation, tokenizer, p)
    steps_per_epoch = -(-len(train_windows) // p["training"]["per_device_train_batch_size"])

    reference, _ = train_transformer(train_windows, validation_windows, tokenizer, {**p, "trainer_dir": str(tmp_path / "a")})

    class StopMidEpochTwo(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            if state.global_step == steps_per_epoch + steps_per_epoch // 2:
                raise _Interrupt

    interrupted = {**p, "trainer_dir": str(tmp_path / "b")}
    with pytest.raises(_Interrupt):
        train_transformer(train_windows, validation_windows, tokenizer, interrupted, extra_callbacks=[StopMidEpochTwo()])
    assert (tmp_path / "b" / f"checkpoint-{steps_per_epoch}").exists()

    class RecordSteps(TrainerCallback):
        steps = []

        def on_step_end(self, args, state, control, **kwargs):
            self.steps.append(state.global_step)

    resumed, _ = train_transformer(
        train_windows, validation_windows, tokenizer, {**interrupted, "resume": True}, extra_callbacks=[RecordSteps()]
    )
    assert RecordSteps.steps[0] == steps_per_epoch + 1  # it went on from the checkpoint, not from step 1
    for (name, a), (_, b) in zip(reference.state_dict().items(), resumed.state_dict().items()):
        assert torch.allclose(a, b, atol=1e-5), name


def test_two_process_ddp_training_matches_single_process_shape_and_vocab(engineered, params, tmp_path):
    """2 CPU processes (torchrun, gloo) train a tiny model; its checkpoint loads and has the
    single-process model's shapes and vocabulary."""
    p = _variant(params)
    p["training"]["num_train_epochs"] = 1
    tokenizer, (train, validation, _, _) = _encode(engineered, p)
    train_windows, validation_windows, _ = make_windows(train, validation, tokenizer, p)
    single, _ = train_transformer(train_windows, validation_windows, tokenizer, {**p, "trainer_dir": str(tmp_path / "one")})
    ddp, history = train_transformer(train_windows, validation_windows, tokenizer, {**p, "trainer_dir": str(tmp_path / "two"), "num_processes": 2})
    assert ddp.config.vocab_size == single.config.vocab_size == len(tokenizer)
    assert {k: v.shape for k, v in ddp.state_dict().items()} == {k: v.shape for k, v in single.state_dict().items()}
    assert len(history["validation"]) == 1
    # each process saw half the batches per epoch
    steps = -(-len(train_windows) // p["training"]["per_device_train_batch_size"])
    assert history["train"][-1]["step"] <= -(-steps // 2)
