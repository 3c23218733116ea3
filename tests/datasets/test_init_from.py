"""``init_from`` → the datasets of the checkpoint fine-tuning starts from (datasets/init_from.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from symbolic_music.datasets.init_from import InitCheckpointDataset, checkpoint_datasets, resolve_init_datasets, split_version, validate_init_from

OLD, NEW, NEWEST = "2026-01-01T10.00.00.000Z", "2026-01-02T10.00.00.000Z", "2026-01-03T10.00.00.000Z"
ENTRIES = ["transformer", "transformer_tokenizer"]


def _catalog(models: Path) -> dict:
    return {
        "transformer": {"type": "symbolic_music.datasets.HFCheckpointDataset", "filepath": str(models / "transformer"), "versioned": True},
        "transformer_tokenizer": {"type": "symbolic_music.datasets.TokenizerDataset",
                                  "filepath": str(models / "transformer_tokenizer.json"), "versioned": True},
        "lstm": {"type": "symbolic_music.datasets.TorchCheckpointDataset", "filepath": str(models / "lstm.pt"), "versioned": True},
    }


def _save_run(models: Path, version: str, transformer: bool = True, tokenizer: bool = True) -> None:
    """What one run leaves behind: version folders of the same timestamp (content not needed here)."""
    if transformer:
        (models / "transformer" / version / "transformer").mkdir(parents=True)
    if tokenizer:
        (models / "transformer_tokenizer.json" / version).mkdir(parents=True)
        (models / "transformer_tokenizer.json" / version / "transformer_tokenizer.json").write_text("{}")


def _no_env(env):
    raise AssertionError(f"no environment should be read, asked for {env}")


def _versions(datasets) -> dict:
    return {entry: dataset.resolve_load_version() for entry, dataset in datasets.items()}


def test_split_version_reads_folder_version_and_artefact():
    folder = Path("/p/data/06_models/transformer")
    assert split_version(folder) == (folder, None)
    assert split_version(folder / NEW) == (folder, NEW)
    assert split_version(folder / NEW / "transformer") == (folder, NEW)


@pytest.mark.parametrize("bad", ["", 3, {"env": ""}, {"path": "x"}, {"env": "base", "extra": 1}])
def test_bad_init_from_names_the_parameter(bad):
    with pytest.raises(ValueError, match="transformer_model.init_from"):
        validate_init_from(bad, "transformer_model.init_from")


def test_null_trains_from_scratch(tmp_path):
    assert checkpoint_datasets(None, "p", ENTRIES, _catalog(tmp_path), tmp_path, _no_env) == {"transformer": None, "transformer_tokenizer": None}
    dataset = InitCheckpointDataset("transformer", "transformer_model.init_from")
    assert dataset.load() is None  # until the hook points it somewhere


def test_a_folder_means_its_latest_model_and_the_tokenizer_of_the_same_run(tmp_path):
    models = tmp_path / "data" / "06_models"
    _save_run(models, OLD)
    _save_run(models, NEW)
    _save_run(models, NEWEST, transformer=False)  # a run that stopped after saving its tokenizer
    datasets = checkpoint_datasets("data/06_models/transformer", "p", ENTRIES, _catalog(tmp_path / "elsewhere"), tmp_path, _no_env)
    assert _versions(datasets) == {"transformer": NEW, "transformer_tokenizer": NEW}
    assert type(datasets["transformer"]).__name__ == "HFCheckpointDataset"
    assert Path(str(datasets["transformer_tokenizer"]._filepath)) == models / "transformer_tokenizer.json"


@pytest.mark.parametrize("suffix", [OLD, f"{OLD}/transformer"])
def test_a_version_folder_pins_that_version(tmp_path, suffix):
    models = tmp_path / "models"
    _save_run(models, OLD)
    _save_run(models, NEW)
    datasets = checkpoint_datasets(str(models / "transformer" / suffix), "p", ENTRIES, _catalog(tmp_path), tmp_path, _no_env)
    assert _versions(datasets) == {"transformer": OLD, "transformer_tokenizer": OLD}


def test_an_environment_means_the_latest_in_its_catalog(tmp_path):
    base_models, own_models = tmp_path / "data" / "06_models", tmp_path / "data" / "06_models" / "midi_folder"
    _save_run(base_models, OLD)
    _save_run(own_models, NEW)  # this environment's own, newer: not the one asked for
    relative = {name: {**entry, "filepath": str(Path(entry["filepath"]).relative_to(tmp_path))} for name, entry in _catalog(base_models).items()}
    init = {  # as catalog.yml declares them; the tokenizer first, to show the order does not matter
        "init_transformer_tokenizer": InitCheckpointDataset("transformer_tokenizer", "transformer_model.init_from", same_run_as="transformer"),
        "init_transformer": InitCheckpointDataset("transformer", "transformer_model.init_from"),
        "init_lstm": InitCheckpointDataset("lstm", "lstm_model.init_from"),
    }
    asked = []
    sources = resolve_init_datasets(init, {"transformer_model": {"init_from": {"env": "base"}}, "lstm_model": {"init_from": None}},
                                    _catalog(own_models), tmp_path, lambda env: asked.append(env) or relative)
    assert asked == ["base"]
    assert sources["init_lstm"] is None
    assert Path(str(sources["init_transformer"]._filepath)) == base_models / "transformer"
    assert {name: sources[name].resolve_load_version() for name in ("init_transformer", "init_transformer_tokenizer")} == {
        "init_transformer": OLD, "init_transformer_tokenizer": OLD}


def test_missing_checkpoints_are_named(tmp_path):
    models = tmp_path / "models"
    with pytest.raises(ValueError, match=r"transformer_model.init_from: no checkpoint at 'nowhere'"):
        checkpoint_datasets("nowhere", "transformer_model.init_from", ENTRIES, _catalog(models), tmp_path, _no_env)
    (models / "transformer").mkdir(parents=True)
    with pytest.raises(ValueError, match="holds no trained 'transformer'.*train it first"):
        checkpoint_datasets(str(models / "transformer"), "transformer_model.init_from", ENTRIES, _catalog(models), tmp_path, _no_env)
    _save_run(models, OLD, tokenizer=False)
    with pytest.raises(ValueError, match=f"no 'transformer_tokenizer' version {OLD} from the same run as 'transformer'"):
        checkpoint_datasets(str(models / "transformer"), "transformer_model.init_from", ENTRIES, _catalog(models), tmp_path, _no_env)
    with pytest.raises(ValueError, match="environment 'base'.*has no catalog entry 'transformer'"):
        checkpoint_datasets({"env": "base"}, "transformer_model.init_from", ENTRIES, _catalog(models), tmp_path, lambda env: {})
