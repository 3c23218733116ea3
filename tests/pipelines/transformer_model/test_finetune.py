"""Fine-tuning a trained transformer: the inherited vocabulary, full and LoRA training, the
"before" figures. (The run through ``kedro run`` is tests/test_finetune_run.py.)"""

from __future__ import annotations

import copy

import pytest
import torch
from transformers import GPT2LMHeadModel

from symbolic_music.models.transformer import starting_model, train_transformer
from symbolic_music.pipelines.transformer_model.nodes import (
    encode_sequences,
    evaluate_transformer,
    make_windows,
    prepare_transformer_tokenizer,
)
from symbolic_music.music.tokens import build_tokenizer
from symbolic_music.music.vocabulary import Vocabulary

NEW = "Zed Composer"


def _params(params, tmp_path, **finetune):
    p = copy.deepcopy(params["transformer_model"])
    p["composer_tokens"].update(enabled=True, top_k=5)
    p["training"].update(num_train_epochs=1, learning_rate=3e-3)
    p["trainer_dir"] = str(tmp_path / "trainer")
    p["finetune"].update(finetune)
    return p


@pytest.fixture(scope="module")
def base(engineered, params, tmp_path_factory):
    """A checkpoint trained one epoch on the tiny corpus, its vocabulary and its windows."""
    p = _params(params, tmp_path_factory.mktemp("base"))
    vocabulary = prepare_transformer_tokenizer(engineered["tokenizer"], engineered["pieces"], engineered["train_tokens"], None, p)
    train, validation, test, report = encode_sequences(engineered["train_tokens"], engineered["validation_tokens"], engineered["test_tokens"],
                                                       engineered["tokenizer"], vocabulary, engineered["pieces"], p)
    train_windows, validation_windows, window_report = make_windows(train, validation, vocabulary, p)
    model, _ = train_transformer(train_windows, validation_windows, vocabulary, p)
    return {"model": model, "vocabulary": vocabulary, "train": train, "validation": validation, "test": test,
            "report": report, "window_report": window_report}


def _new_corpus(engineered):
    """The same music, one composer renamed: a label the checkpoint never saw."""
    pieces = engineered["pieces"].copy()
    pieces["composer"] = pieces["composer"].replace({"Ada Composer": NEW})
    return pieces


def _fine_tune(engineered, base, p):
    pieces = _new_corpus(engineered)
    vocabulary = prepare_transformer_tokenizer(engineered["tokenizer"], pieces, engineered["train_tokens"], base["vocabulary"], p)
    train, validation, _, _ = encode_sequences(engineered["train_tokens"], engineered["validation_tokens"], engineered["test_tokens"],
                                               engineered["tokenizer"], vocabulary, pieces, p)
    train_windows, validation_windows, _ = make_windows(train, validation, vocabulary, p)
    model, history = train_transformer(train_windows, validation_windows, vocabulary, p, init_model=base["model"])
    return vocabulary, model, history


def test_the_inherited_vocabulary_appends_new_composers_and_moves_no_id(engineered, base, params, tmp_path):
    p = _params(params, tmp_path, method="full")
    p["bpe"]["enabled"] = True  # ignored when fine-tuning: BPE is inherited, not retrained
    old = base["vocabulary"]
    vocabulary = prepare_transformer_tokenizer(engineered["tokenizer"], _new_corpus(engineered), engineered["train_tokens"], old, p)
    ids = vocabulary.token_ids()
    assert {token: ids[token] for token in old.token_ids()} == old.token_ids()
    assert vocabulary.composers[NEW] == len(old) and len(vocabulary) == len(old) + 1
    assert not vocabulary.tokenizer.is_trained
    assert NEW not in old.composers  # the checkpoint's vocabulary itself is left alone


def test_an_incompatible_checkpoint_vocabulary_is_refused(engineered, base, params, tmp_path):
    p = _params(params, tmp_path)
    settings = {**params["data_engineering"]["tokenizer"], "num_velocities": 16}
    other = Vocabulary(build_tokenizer(settings))
    with pytest.raises(ValueError, match="init_from: the checkpoint's base tokens differ"):
        prepare_transformer_tokenizer(engineered["tokenizer"], engineered["pieces"], engineered["train_tokens"], other, p)
    p["composer_tokens"]["enabled"] = False
    with pytest.raises(ValueError, match="composer_tokens.enabled is false"):
        prepare_transformer_tokenizer(engineered["tokenizer"], engineered["pieces"], engineered["train_tokens"], base["vocabulary"], p)


def test_the_starting_model_keeps_every_old_row(base, params, tmp_path):
    vocabulary = copy.deepcopy(base["vocabulary"])
    vocabulary.add_composers([NEW])
    start = starting_model(vocabulary, _params(params, tmp_path), base["model"])
    old = base["model"].get_input_embeddings().weight
    assert start.get_input_embeddings().weight.shape[0] == len(vocabulary)
    assert torch.equal(start.get_input_embeddings().weight[: len(old)], old)
    assert start.lm_head.weight.data_ptr() == start.get_input_embeddings().weight.data_ptr()  # still tied
    assert base["model"].get_input_embeddings().weight.shape[0] == len(base["vocabulary"])  # the checkpoint is untouched
    with pytest.raises(ValueError, match="max_length"):
        starting_model(vocabulary, {**_params(params, tmp_path), "max_length": 10_000}, base["model"])


@pytest.mark.parametrize("method", ["full", "lora"])
def test_fine_tuning_returns_a_plain_gpt2_in_the_new_id_space(engineered, base, params, tmp_path, method):
    p = _params(params, tmp_path, method=method)
    vocabulary, model, history = _fine_tune(engineered, base, p)
    assert type(model) is GPT2LMHeadModel and model.config.vocab_size == len(vocabulary)
    assert history["method"] == method and history["initial_validation_loss"] > 0
    old, new = base["model"].state_dict(), model.state_dict()
    assert set(new) == set(old)  # no adapter weights left: they were merged
    rows = len(base["vocabulary"])
    embedding = new["transformer.wte.weight"]
    assert not torch.equal(new["transformer.h.0.attn.c_attn.weight"], old["transformer.h.0.attn.c_attn.weight"])
    if method == "lora":
        assert history["trainable_parameters"] < history["num_parameters"] / 4
        assert torch.equal(embedding[:rows], old["transformer.wte.weight"])  # the old rows are frozen
        assert torch.equal(new["transformer.h.0.ln_1.weight"], old["transformer.h.0.ln_1.weight"])
    else:
        assert history["trainable_parameters"] == history["num_parameters"]
    start = starting_model(vocabulary, p, base["model"]).get_input_embeddings().weight
    assert not torch.equal(embedding[rows:], start[rows:])  # the new composer's row learned


def test_evaluation_reports_the_starting_checkpoint(engineered, base, params, tmp_path):
    p = _params(params, tmp_path, method="full")
    metrics = evaluate_transformer(base["model"], base["train"], base["validation"], base["test"], base["vocabulary"], engineered["notes"],
                                   base["report"], base["window_report"], base["model"], p)
    start, trained = metrics["starting_checkpoint"], metrics["transformer_validation"]
    assert start["validation"]["bits_per_note"] == pytest.approx(trained["bits_per_note"])  # the same model, no new ids
    assert start["test"]["bits_per_note"] == pytest.approx(metrics["transformer"]["bits_per_note"])
    assert trained["notes"] == int((engineered["notes"]["split"] == "validation").sum())
