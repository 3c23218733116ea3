"""Shared fixtures: a tiny MAESTRO-layout corpus written with symusic, and test-sized parameters."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from kedro.config import OmegaConfigLoader
from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import Pipeline
from kedro.runner import SequentialRunner
from kedro_datasets.pandas import CSVDataset
from kedro_datasets.partitions import PartitionedDataset
from symusic import Note, Score, Tempo, Track

PROJECT_ROOT = Path(__file__).resolve().parents[1]
COMPOSERS = ["Ada Composer", "Ben Composer", "Cy Composer"]
SPLIT_PATTERN = ["train"] * 8 + ["validation"] * 2 + ["test"] * 2


def make_score(seed: int, num_notes: int = 80, ticks_per_quarter: int = 480) -> Score:
    """A random-walk melody with occasional octave doublings (two-note chords), 120 bpm, in ticks."""
    rng = np.random.default_rng(seed)
    score = Score(ticks_per_quarter)
    score.tempos.append(Tempo(0, 120.0))
    track = Track(name="Piano", program=0, is_drum=False)
    time, pitch = 0, 60 + seed % 7
    for _ in range(num_notes):
        pitch = int(np.clip(pitch + rng.integers(-4, 5), 40, 90))
        advance = int(rng.choice([240, 480]))
        duration = int(rng.choice([advance // 2, advance]))  # notes never overlap, so MIDI round-trips exactly
        velocity = int(rng.integers(40, 110))
        track.notes.append(Note(time, duration, pitch, velocity))
        if rng.random() < 0.25:
            track.notes.append(Note(time, duration, pitch - 12, velocity))
        time += advance
    score.tracks.append(track)
    return score


def write_corpus(root: Path, num_pieces: int = 12) -> pd.DataFrame:
    """Write ``num_pieces`` MIDI files and ``maestro-v3.0.0.csv`` in MAESTRO's layout under ``root``."""
    rows = []
    for index in range(num_pieces):
        year = 2004 + index % 3
        midi_filename = f"{year}/piece_{index:02d}.midi"
        path = root / midi_filename
        path.parent.mkdir(parents=True, exist_ok=True)
        make_score(index).dump_midi(str(path))
        rows.append({
            "canonical_composer": COMPOSERS[index % len(COMPOSERS)],
            "canonical_title": f"Piece {index}",
            "split": SPLIT_PATTERN[index % len(SPLIT_PATTERN)],
            "year": year,
            "midi_filename": midi_filename,
            "audio_filename": midi_filename.replace(".midi", ".wav"),
            "duration": 40.0,
        })
    metadata = pd.DataFrame(rows)
    metadata.to_csv(root / "maestro-v3.0.0.csv", index=False)
    return metadata


def with_engineering_params(catalog: DataCatalog, params: dict) -> DataCatalog:
    """``catalog`` plus the parameters data_engineering reads (its own and the LSTM's window)."""
    catalog["params:data_engineering"] = MemoryDataset(params["data_engineering"])
    catalog["params:lstm_model"] = MemoryDataset(params["lstm_model"])
    return catalog


MIDI_FOLDER_SUFFIXES = (".mid", ".MID", ".midi")
# What hooks.InitCheckpoints puts in a run's catalog with init_from null: training from scratch.
FROM_SCRATCH = {"init_transformer": None, "init_transformer_tokenizer": None, "init_lstm": None}


def write_midi_folder(root: Path, per_label: dict[str, int], first_seed: int = 0) -> list[str]:
    """Write ``per_label`` pieces in ``root/<label>/`` (label ``""``: the top level), suffixes
    cycling through .mid, .MID and .midi, each a different ``make_score`` seed. Returns the
    paths written, relative to ``root``."""
    written, seed = [], first_seed
    for label, count in per_label.items():
        for index in range(count):
            relative = str(Path(label) / f"piece_{index:02d}{MIDI_FOLDER_SUFFIXES[seed % 3]}")
            (root / relative).parent.mkdir(parents=True, exist_ok=True)
            make_score(seed).dump_midi(str(root / relative))
            written.append(relative)
            seed += 1
    return written


def raw_catalog(root: Path, params: dict | None = None) -> DataCatalog:
    """The maestro environment's two raw entries, pointed at ``root`` (with data_engineering's
    parameters when ``params`` is given)."""
    catalog = DataCatalog(
        {
            "raw_metadata": CSVDataset(filepath=str(root / "maestro-v3.0.0.csv"), load_args={"keep_default_na": False}),
            "raw_midi": PartitionedDataset(path=str(root), dataset="symbolic_music.datasets.MidiDataset", filename_suffix=".midi"),
        }
    )
    return catalog if params is None else with_engineering_params(catalog, params)


def project_copy(tmp_path: Path, params: dict) -> Path:
    """A copy of the project whose conf/local holds test-sized parameters."""
    project = tmp_path / "project"
    project.mkdir()
    for name in ("pyproject.toml", ".telemetry"):
        shutil.copy(PROJECT_ROOT / name, project / name)
    shutil.copytree(PROJECT_ROOT / "conf", project / "conf", ignore=shutil.ignore_patterns("local"))
    (project / "conf" / "local").mkdir()
    shutil.copytree(PROJECT_ROOT / "src", project / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for group, values in params.items():
        (project / "conf" / "local" / f"parameters_{group}.yml").write_text(yaml.safe_dump({group: values}))
    return project


class KeptDataset(MemoryDataset):
    """A memory dataset the runner cannot release, so tests can read intermediate outputs."""

    def _release(self) -> None:
        pass


def run_pipeline(pipeline: Pipeline, catalog: DataCatalog, inputs: dict | None = None) -> dict:
    """Run ``pipeline`` with ``SequentialRunner``; ``inputs`` are fed as memory datasets. Returns
    every output of every node, loaded."""
    for name, value in (inputs or {}).items():
        catalog[name] = MemoryDataset(value, copy_mode="assign")
    for name in pipeline.all_outputs():
        if name not in catalog:
            catalog[name] = KeptDataset(copy_mode="assign")
    SequentialRunner().run(pipeline, catalog)
    return {name: catalog[name].load() for name in pipeline.all_outputs()}


@pytest.fixture(scope="session")
def base_params() -> dict:
    """The parameters of conf/base, as Kedro loads them."""
    loader = OmegaConfigLoader(conf_source=str(PROJECT_ROOT / "conf"), base_env="base", default_run_env="base")
    return loader["parameters"]


@pytest.fixture(scope="session")
def params(base_params, tmp_path_factory) -> dict:
    """conf/base parameters shrunk so every pipeline finishes in seconds."""
    p = copy.deepcopy(base_params)
    p["transformer_model"].update(max_length=64, stride=48, trainer_dir=str(tmp_path_factory.mktemp("trainer")))
    p["transformer_model"]["augmentation"]["enabled"] = False  # tests that need it switch it on
    p["transformer_model"]["model"].update(n_positions=64, n_layer=1, n_embd=32, n_head=2)
    p["transformer_model"]["training"].update(num_train_epochs=2, per_device_train_batch_size=8, logging_steps=2, warmup_steps=2)
    p["lstm_model"].update(seq_length=8, epochs=2, batch_size=16, logging_steps=2)
    p["lstm_model"]["model"].update(embedding_dim=8, hidden_size=16)
    p["generation"].update(num_samples=2, seconds=6.0)
    p["generation"]["continuation"].update(num_pieces=2, prefix_bars=2)
    p["lstm_model"]["baselines"].update(num_samples=3, seconds=6.0)
    p["evaluation"].update(min_excerpts=2, min_pieces=3, excerpt_seconds=4.0, robustness_excerpt_seconds=2.0)
    p["evaluation"]["bootstrap"]["resamples"] = 100
    return p


@pytest.fixture(scope="session")
def corpus_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("maestro_layout")
    write_corpus(root)
    return root


@pytest.fixture(scope="session")
def engineered(corpus_root, params) -> dict:
    """Every output of data_engineering run once on the tiny corpus."""
    from symbolic_music.pipelines import data_engineering

    return run_pipeline(data_engineering.create_pipeline(), raw_catalog(corpus_root, params))


@pytest.fixture(scope="session")
def small_model(engineered, params, tmp_path_factory) -> dict:
    """A small transformer with composer tokens, trained on the tiny corpus until it writes
    REMI's grammar (about 10% errors): enough for length and sliding tests. Returns the
    transformer_model pipeline's outputs."""
    from symbolic_music.pipelines import transformer_model

    p = copy.deepcopy(params["transformer_model"])
    p.update(max_length=128, stride=64, trainer_dir=str(tmp_path_factory.mktemp("small_model")))
    p["composer_tokens"].update(enabled=True, top_k=2)
    p["model"].update(n_positions=128, n_layer=2, n_embd=64, n_head=2)
    p["training"].update(num_train_epochs=15, per_device_train_batch_size=8, learning_rate=3e-3, warmup_steps=10, logging_steps=20)
    catalog = DataCatalog({"params:transformer_model": MemoryDataset(p)})
    inputs = {k: engineered[k] for k in ("train_tokens", "validation_tokens", "test_tokens", "tokenizer", "notes", "pieces")}
    return run_pipeline(transformer_model.create_pipeline(), catalog, {**inputs, **FROM_SCRATCH})
