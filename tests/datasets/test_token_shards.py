"""The token store: Parquet shards that load lazily, one shard at a time, as the same
``{piece_id: ids}`` the nodes saved; and the consumers give the same output on it."""

from __future__ import annotations

import copy

import pyarrow.parquet as pq
import pytest
from kedro.io.core import DatasetError, Version

from symbolic_music.datasets import TokenShards, TokenShardsDataset
from symbolic_music.pipelines.transformer_model.nodes import encode_sequences, make_windows, prepare_transformer_tokenizer

SPLITS = ("train", "validation", "test")


def _save_and_load(tokens, path, shard_size) -> TokenShards:
    TokenShardsDataset(filepath=str(path), shard_size=shard_size, version=Version(None, None)).save(tokens)
    return TokenShardsDataset(filepath=str(path), version=Version(None, None)).load()


def test_shards_reload_to_the_same_ids_in_the_same_order(tmp_path):
    tokens = {"b/2": [5, 6, 7], "a/1": [1] * 10, "c/3": [], "d/4": [300, 2**31 - 1], "e/5": [9, 9]}
    loaded = _save_and_load(tokens, tmp_path / "tokens", shard_size=4)
    assert loaded == tokens and list(loaded) == list(tokens) and list(loaded.items()) == list(tokens.items())
    assert all(type(ids) is list and all(type(i) is int for i in ids) for ids in loaded.values())
    assert loaded["d/4"] == [300, 2**31 - 1] and "a/1" in loaded and "x" not in loaded and len(loaded) == 5
    # at most 4 tokens a shard, a piece never split: a/1 (10 tokens) is a shard on its own
    assert [list(shard) for shard in loaded.shards()] == [["b/2"], ["a/1"], ["c/3", "d/4", "e/5"]]
    files = sorted((tmp_path / "tokens").rglob("*.parquet"))
    assert [f.name for f in files] == [f"shard-0000{i}.parquet" for i in range(3)]
    assert str(pq.read_schema(files[0])) == "piece_id: string\nids: list<element: int32>\n  child 0, element: int32"


def test_an_empty_split_and_bad_ids(tmp_path):
    assert _save_and_load({}, tmp_path / "empty", shard_size=10) == {}
    with pytest.raises(DatasetError, match=r"\[0, 2\*\*31\)"):
        TokenShardsDataset(filepath=str(tmp_path / "bad")).save({"a": [-1]})
    with pytest.raises(ValueError, match="shard_size"):
        TokenShardsDataset(filepath=str(tmp_path / "bad"), shard_size=0)


def test_versions_are_never_overwritten(tmp_path):
    first = TokenShardsDataset(filepath=str(tmp_path / "t"), shard_size=2, version=Version(None, "2024-01-01T00.00.00.000Z"))
    first.save({"a": [1, 2, 3]})
    second = TokenShardsDataset(filepath=str(tmp_path / "t"), shard_size=2, version=Version(None, "2024-01-02T00.00.00.000Z"))
    second.save({"b": [4]})
    assert TokenShardsDataset(filepath=str(tmp_path / "t"), version=Version(None, None)).load() == {"b": [4]}
    assert TokenShardsDataset(filepath=str(tmp_path / "t"), version=Version("2024-01-01T00.00.00.000Z", None)).load() == {"a": [1, 2, 3]}
    assert not list(tmp_path.rglob("*.partial"))


def test_a_split_streams_one_shard_at_a_time(engineered, tmp_path, monkeypatch):
    """Iterating the store (as encode_sequences does) reads each shard once, in order, and keeps
    only the shard being read."""
    loaded = _save_and_load(engineered["train_tokens"], tmp_path / "train", shard_size=700)
    assert loaded.num_shards >= 4
    reads = []
    original = TokenShards._read
    monkeypatch.setattr(TokenShards, "_read", lambda self, number, columns=None: reads.append((number, columns)) or original(self, number, columns))
    for piece_id, ids in loaded.items():
        assert loaded._cached[1].keys() >= {piece_id}  # only the current shard is held
    assert [number for number, columns in reads if columns is None] == list(range(loaded.num_shards))


def test_windows_from_the_store_equal_windows_from_the_dicts(engineered, params, tmp_path):
    """The contract: the transformer's sequences and training windows built from reloaded shards
    (several per split) are the ones built from the data_engineering dicts."""
    p = copy.deepcopy(params["transformer_model"])
    p["composer_tokens"].update(enabled=True, top_k=2)
    splits = [engineered[f"{split}_tokens"] for split in SPLITS]
    stored = [_save_and_load(tokens, tmp_path / split, shard_size=500) for split, tokens in zip(SPLITS, splits)]
    assert stored[0].num_shards > 1
    vocabulary = prepare_transformer_tokenizer(engineered["tokenizer"], engineered["pieces"], splits[0], None, p)
    assert prepare_transformer_tokenizer(engineered["tokenizer"], engineered["pieces"], stored[0], None, p).token_ids() == vocabulary.token_ids()
    before = encode_sequences(*splits, engineered["tokenizer"], vocabulary, engineered["pieces"], p)
    after = encode_sequences(*stored, engineered["tokenizer"], vocabulary, engineered["pieces"], p)
    assert after == before
    assert make_windows(after[0], after[1], vocabulary, p) == make_windows(before[0], before[1], vocabulary, p)
