"""Custom datasets: save/load round trips, versioning, atomic saves, and the embedded corpus."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from kedro.io.core import DatasetError, Version
from transformers import GPT2Config, GPT2LMHeadModel

from symbolic_music.datasets import (
    AudioFolderDataset,
    HFCheckpointDataset,
    MidiDataset,
    MidiFolderDataset,
    Music21CorpusDataset,
    TorchCheckpointDataset,
)
from symbolic_music.music.audio import audio_duration, encode_audio
from tests.conftest import make_score


def _versions(dataset_dir):
    return sorted(p.name for p in dataset_dir.iterdir())


def _notes(score):
    return [(n.time, n.duration, n.pitch, n.velocity) for n in score.tracks[0].notes]


def test_midi_dataset_round_trip_and_versions(tmp_path):
    path = tmp_path / "piece.mid"
    first = MidiDataset(str(path), version=Version(None, "2026-01-01T00.00.00.000Z"))
    first.save(make_score(1))
    second = MidiDataset(str(path), version=Version(None, "2026-01-02T00.00.00.000Z"))
    second.save(make_score(2))
    assert _versions(path) == ["2026-01-01T00.00.00.000Z", "2026-01-02T00.00.00.000Z"]
    latest = MidiDataset(str(path), version=Version(None, None)).load()
    assert _notes(latest) == _notes(make_score(2))
    pinned = MidiDataset(str(path), version=Version("2026-01-01T00.00.00.000Z", None)).load()
    assert _notes(pinned) == _notes(make_score(1))
    with pytest.raises(DatasetError):  # versioned outputs are never overwritten
        second.save(make_score(3))
    assert "filepath" in first._describe()


def test_midi_dataset_preview_is_a_png(tmp_path):
    dataset = MidiDataset(str(tmp_path / "p.mid"))
    dataset.save(make_score(0))
    import base64

    assert base64.b64decode(dataset.preview()).startswith(b"\x89PNG")


def test_midi_folder_dataset_round_trip_nested_names(tmp_path):
    dataset = MidiFolderDataset(str(tmp_path / "generated"), version=Version(None, None))
    pieces = {"task1/balanced/sample_000": make_score(0), "task2/piece_a/prefix": make_score(1)}
    dataset.save(pieces)
    loaded = MidiFolderDataset(str(tmp_path / "generated"), version=Version(None, None)).load()
    assert set(loaded) == set(pieces)
    assert all(_notes(loaded[name]) == _notes(pieces[name]) for name in pieces)
    import base64

    assert base64.b64decode(dataset.preview()).startswith(b"\x89PNG")


def test_audio_folder_dataset_round_trips_ogg_and_wav_by_their_bytes(tmp_path):
    tone = (0.1 * np.sin(np.linspace(0, 880 * np.pi, 24000))[:, None].repeat(2, axis=1)).astype(np.float32)
    clips = {"unconditioned/balanced/sample_000": encode_audio(tone, 48000, "ogg"), "older/piece": encode_audio(tone, 48000, "wav")}
    AudioFolderDataset(str(tmp_path / "audio")).save(clips)
    saved = sorted(str(p.relative_to(tmp_path / "audio")) for p in (tmp_path / "audio").rglob("*") if p.is_file())
    assert saved == ["older/piece.wav", "unconditioned/balanced/sample_000.ogg"]
    loaded = AudioFolderDataset(str(tmp_path / "audio")).load()
    assert loaded == clips and audio_duration(loaded["unconditioned/balanced/sample_000"]) == pytest.approx(0.5)
    with pytest.raises(DatasetError, match="'bad' is not OGG, FLAC or WAV"):
        AudioFolderDataset(str(tmp_path / "other")).save({"bad": b"ID3 an mp3"})


def test_save_is_atomic_when_writing_fails(tmp_path):
    class Exploding:
        def dump_midi(self, path):
            open(path, "wb").write(b"half")
            raise OSError("disk full")

    dataset = MidiFolderDataset(str(tmp_path / "out"))
    dataset.save({"good": make_score(0)})
    with pytest.raises(DatasetError, match="disk full"):
        dataset.save({"good": make_score(1), "bad": Exploding()})
    # the earlier save is intact and no partial folder is left beside it
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert _notes(dataset.load()["good"]) == _notes(make_score(0))


def test_hf_checkpoint_dataset_round_trip(tmp_path):
    model = GPT2LMHeadModel(GPT2Config(vocab_size=50, n_positions=16, n_layer=1, n_embd=8, n_head=2))
    dataset = HFCheckpointDataset(str(tmp_path / "gpt"), version=Version(None, None))
    dataset.save(model)
    saved = list((tmp_path / "gpt").iterdir())
    assert len(saved) == 1 and (saved[0] / "gpt" / "config.json").exists()
    loaded = HFCheckpointDataset(str(tmp_path / "gpt"), version=Version(None, None)).load()
    for (name, a), (_, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert torch.equal(a, b), name
    assert dataset._describe()["model_class"] == "GPT2LMHeadModel"


def test_torch_checkpoint_dataset_round_trip_and_validation(tmp_path):
    checkpoint = {"config": {"hidden_size": 4}, "state_dict": {"w": torch.arange(6.0).reshape(2, 3)}}
    dataset = TorchCheckpointDataset(str(tmp_path / "lstm.pt"), version=Version(None, None))
    dataset.save(checkpoint)
    loaded = TorchCheckpointDataset(str(tmp_path / "lstm.pt"), version=Version(None, None)).load()
    assert loaded["config"] == {"hidden_size": 4} and torch.equal(loaded["state_dict"]["w"], checkpoint["state_dict"]["w"])
    with pytest.raises(DatasetError, match="state_dict"):
        TorchCheckpointDataset(str(tmp_path / "other.pt")).save({"weights": {}})


def test_music21_corpus_builds_once_then_reuses_cache(tmp_path, monkeypatch):
    composers = {"bach": {"name": "Johann Sebastian Bach", "max_pieces": 5, "year": 1730}}
    dataset = Music21CorpusDataset(str(tmp_path / "corpus"), composers=composers)
    assert not dataset.exists()
    metadata = dataset.load()
    assert list(metadata.columns) == [
        "canonical_composer", "canonical_title", "split", "year", "midi_filename", "audio_filename", "duration",
    ]
    assert len(metadata) == 5 and set(metadata["split"]) == {"train", "validation", "test"}
    assert all((tmp_path / "corpus" / name).exists() for name in metadata["midi_filename"])
    assert (metadata["duration"] > 0).all()

    import symbolic_music.datasets.music21_corpus as module

    monkeypatch.setattr(module, "build_music21_corpus", lambda *a, **k: pytest.fail("cache not reused"))
    again = Music21CorpusDataset(str(tmp_path / "corpus"), composers=composers)
    assert again.exists()
    assert again.load().equals(metadata)
    with pytest.raises(DatasetError, match="read-only"):
        again.save(metadata)
    changed = Music21CorpusDataset(str(tmp_path / "corpus"), composers={"bach": {**composers["bach"], "max_pieces": 6}})
    assert not changed.exists()  # different settings: the cache is stale and would be rebuilt
    assert json.loads((tmp_path / "corpus" / "corpus_settings.json").read_text())["composers"] == composers


def test_checkpoints_loaded_in_two_threads_at_once_stay_tied(tmp_path):
    """transformers' loading switches process-wide state: two unguarded loads at once left both
    models with a meta, untied output layer and every later model untied (the multi-node test)."""
    import threading

    config = GPT2Config(n_layer=1, n_embd=16, n_head=2, vocab_size=64, n_positions=32)
    HFCheckpointDataset(filepath=str(tmp_path / "model")).save(GPT2LMHeadModel(config))

    def tied(model) -> bool:
        return model.lm_head.weight.device.type != "meta" and model.lm_head.weight.data_ptr() == model.transformer.wte.weight.data_ptr()

    for _ in range(5):
        loaded = {}
        threads = [threading.Thread(target=lambda i=i: loaded.update({i: HFCheckpointDataset(filepath=str(tmp_path / "model")).load()}))
                   for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(loaded) == 2 and all(tied(model) for model in loaded.values())
        assert tied(GPT2LMHeadModel(config))
