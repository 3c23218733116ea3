"""Every artifact a later node reads back behaves, once saved and loaded into a new dataset
instance, exactly like the object that was saved: the consuming node gives the same output."""

from __future__ import annotations

import copy

import pytest
import torch
from kedro.io.core import Version
from symbolic_music.datasets import HFCheckpointDataset, TokenizerDataset, TokenShardsDataset, TorchCheckpointDataset
from symbolic_music.pipelines.generation.lstm import generate_lstm_pieces
from symbolic_music.pipelines.generation.nodes import continue_pieces, generate_pieces
from symbolic_music.pipelines.lstm_model.nodes import train_lstm
from symbolic_music.pipelines.transformer_model.nodes import encode_sequences, prepare_transformer_tokenizer


def _reload(dataset_class, value, path, **kwargs):
    dataset_class(filepath=str(path), version=Version(None, None), **kwargs).save(value)
    loaded = dataset_class(filepath=str(path), version=Version(None, None), **kwargs).load()
    assert loaded is not value
    return loaded


def _notes(pieces: dict) -> dict:
    return {name: sorted((n.time, n.pitch, n.duration, n.velocity) for t in s.tracks for n in t.notes) for name, s in pieces.items()}


@pytest.mark.parametrize("bpe", [False, True])
def test_the_model_vocabulary_encodes_the_same_after_a_reload(engineered, params, bpe, tmp_path):
    p = copy.deepcopy(params["transformer_model"])
    p["bpe"].update(enabled=bpe, vocab_size=400)
    p["composer_tokens"].update(enabled=True, top_k=2)
    tokenizer = _reload(TokenizerDataset, engineered["tokenizer"], tmp_path / "tokenizer.json")
    vocabulary = prepare_transformer_tokenizer(tokenizer, engineered["pieces"], engineered["train_tokens"], None, p)
    loaded = _reload(TokenizerDataset, vocabulary, tmp_path / "transformer_tokenizer.json")
    splits = (engineered["train_tokens"], engineered["validation_tokens"], engineered["test_tokens"])
    assert encode_sequences(*splits, tokenizer, loaded, engineered["pieces"], p) == encode_sequences(*splits, tokenizer, vocabulary, engineered["pieces"], p)


def test_token_shards_reload_to_the_same_ids(engineered, tmp_path):
    loaded = _reload(TokenShardsDataset, engineered["train_tokens"], tmp_path / "train_tokens", shard_size=1000)
    assert loaded == engineered["train_tokens"] and list(loaded) == list(engineered["train_tokens"])


def test_a_reloaded_transformer_and_vocabulary_sample_the_same_pieces(small_model, engineered, params, tmp_path):
    g = {**params["generation"], "num_samples": 1, "seconds": 4.0, "continuation": {"num_pieces": 1, "prefix_bars": 2}}
    model = _reload(HFCheckpointDataset, small_model["transformer"], tmp_path / "transformer")
    vocabulary = _reload(TokenizerDataset, small_model["transformer_tokenizer"], tmp_path / "transformer_tokenizer.json")
    assert all(torch.equal(a, b) for a, b in zip(small_model["transformer"].state_dict().values(), model.state_dict().values()))
    before, _ = generate_pieces(small_model["transformer"], small_model["transformer_tokenizer"], g)
    after, _ = generate_pieces(model, vocabulary, g)
    assert _notes(after) == _notes(before) and after
    args = (engineered["test_tokens"], engineered["tokenizer"])
    before, _ = continue_pieces(small_model["transformer"], *args, small_model["transformer_tokenizer"], engineered["pieces"], g)
    after, _ = continue_pieces(model, *args, vocabulary, engineered["pieces"], g)
    assert _notes(after) == _notes(before) and after


def test_a_reloaded_lstm_samples_the_same_notes(engineered, params, tmp_path):
    from symbolic_music.pipelines.lstm_model.nodes import make_note_windows

    lstm_params = {**params["lstm_model"], "epochs": 1}
    train, validation, _ = make_note_windows(engineered["notes"], lstm_params)
    checkpoint, _ = train_lstm(train, validation, None, lstm_params)
    loaded = _reload(TorchCheckpointDataset, checkpoint, tmp_path / "lstm.pt")
    g = {**params["generation"], "num_samples": 2, "seconds": 4.0}
    before, _ = generate_lstm_pieces(checkpoint, engineered["notes"], g, lstm_params)
    after, _ = generate_lstm_pieces(loaded, engineered["notes"], g, lstm_params)
    assert _notes(after) == _notes(before) and after
