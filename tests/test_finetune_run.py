"""Fine-tuning through the real CLI on a project copy: a base run on one tiny corpus, then
``kedro run --env=midi_folder`` on a second tiny folder, starting from the base checkpoint
(``transformer_model.init_from.env=base``)."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from kedro.io.core import Version

from symbolic_music.datasets import HFCheckpointDataset, TokenizerDataset
from tests.conftest import project_copy, write_corpus, write_midi_folder
from tests.test_run import _kedro

PIPELINES = "--pipelines=data_engineering,transformer_model"


def _latest(folder: Path) -> Path:
    return sorted(p for p in folder.iterdir() if not p.name.startswith("."))[-1]


def _vocabulary(models: Path):
    return TokenizerDataset(filepath=str(models / "transformer_tokenizer.json"), version=Version(None, None)).load()


def test_fine_tuning_keeps_every_id_and_lowers_the_new_folders_loss(tmp_path, params):
    p = {group: params[group] for group in ("data_engineering", "transformer_model", "lstm_model")}
    t = p["transformer_model"]
    t.update(trainer_dir="data/06_models/transformer_trainer")  # relative: each environment's own below
    t["training"].update(num_train_epochs=3, learning_rate=3e-3)
    project = project_copy(tmp_path, p)
    raw = project / "data" / "01_raw" / "tiny"
    write_corpus(raw)  # Ada, Ben and Cy Composer
    (project / "conf" / "local" / "catalog.yml").write_text(yaml.safe_dump({
        "raw_metadata": {"type": "pandas.CSVDataset", "filepath": str(raw / "maestro-v3.0.0.csv"), "load_args": {"keep_default_na": False}},
        "raw_midi": {"type": "partitions.PartitionedDataset", "path": str(raw), "dataset": "symbolic_music.datasets.MidiDataset",
                     "filename_suffix": ".midi"}}))
    _kedro(project, PIPELINES)

    # the second folder: two new labels, other melodies; the test-sized model parameters for this environment too
    write_midi_folder(project / "data" / "01_raw" / "midi_folder", {"zed": 6, "yan": 6}, first_seed=100)
    fine = {**t, "trainer_dir": "data/06_models/midi_folder/transformer_trainer"}
    (project / "conf" / "midi_folder" / "parameters_transformer_model.yml").write_text(yaml.safe_dump({"transformer_model": fine}))
    _kedro(project, "--env=midi_folder", PIPELINES, "--params=transformer_model.init_from.env=base")

    models = project / "data" / "06_models"
    base, tuned = _vocabulary(models), _vocabulary(models / "midi_folder")
    base_ids, tuned_ids = base.token_ids(), tuned.token_ids()
    assert {token: tuned_ids[token] for token in base_ids} == base_ids
    new = {token: i for token, i in tuned_ids.items() if token not in base_ids}
    assert set(new) == {"Composer_zed", "Composer_yan"} and min(new.values()) == len(base)
    assert tuned.tokenizer.vocab == base.tokenizer.vocab  # BPE/base tokens inherited, not rebuilt

    history = json.loads((_latest(project / "data/08_reporting/transformer_history.json") / "transformer_history.json").read_text())
    assert history["started_from"].startswith(str(models / "transformer"))
    assert min(e["loss"] for e in history["validation"]) < history["initial_validation_loss"]
    metrics = json.loads((_latest(project / "data/08_reporting/transformer_metrics.json") / "transformer_metrics.json").read_text())
    assert metrics["transformer_validation"]["bits_per_note"] < metrics["starting_checkpoint"]["validation"]["bits_per_note"]
    checkpoint = HFCheckpointDataset(filepath=str(models / "midi_folder" / "transformer"), version=Version(None, None)).load()
    assert checkpoint.get_input_embeddings().num_embeddings == len(tuned)
