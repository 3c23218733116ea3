"""The project as users meet it: the registry, both environments' catalogs, and ``kedro run``
through the real CLI on a copy of the project with a tiny corpus."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from kedro.io.core import Version

from symbolic_music.datasets import TokenShardsDataset
from symbolic_music.pipeline_registry import register_pipelines
from tests.conftest import PROJECT_ROOT, project_copy, write_corpus

PIPELINES = ["data_engineering", "eda", "transformer_model", "lstm_model", "generation", "evaluation"]

def test_registry_has_the_six_pipelines_and_default_runs_them_all():
    pipelines = register_pipelines()
    assert set(pipelines) == {*PIPELINES, "__default__"}
    all_nodes = {node.name for name in PIPELINES for node in pipelines[name].nodes}
    assert {node.name for node in pipelines["__default__"].nodes} == all_nodes

@pytest.mark.parametrize("env, raw_type", [("base", "Music21CorpusDataset"), ("maestro", "CSVDataset")])
def test_catalog_resolves_in_each_environment(env, raw_type):
    bootstrap_project(PROJECT_ROOT)
    with KedroSession.create(project_path=PROJECT_ROOT, env=env) as session:
        context = session.load_context()
        catalog = context.catalog
        assert type(catalog["raw_metadata"]).__name__ == raw_type
        assert type(catalog["tokenizer"]).__name__ == "TokenizerDataset"
        params = context.params
    if env == "maestro":
        model = params["transformer_model"]["model"]
        assert (model["n_layer"], model["n_embd"], model["n_head"]) == (8, 768, 12)
        assert params["transformer_model"]["training"]["per_device_train_batch_size"] == 4
        assert params["transformer_model"]["training"]["warmup_steps"] == 1000

@pytest.mark.parametrize("env", ["base", "maestro", "midi_folder"])
def test_a_runtime_parameter_overrides_one_key_in_every_environment(env):
    """``--params=data_engineering.executor=dask`` keeps the rest of the group in every environment."""
    bootstrap_project(PROJECT_ROOT)
    with KedroSession.create(project_path=PROJECT_ROOT, env=env, runtime_params={"data_engineering": {"executor": "dask"}}) as session:
        group = session.load_context().params["data_engineering"]
    assert group["executor"] == "dask" and group["tracks"] == "merge" and group["dask"]["retries"] == 2

def _project_warnings_as_errors() -> str:
    """A ``PYTHONWARNINGS`` value that turns every warning attributed to one of the project's own
    modules into an error (``-W`` matches module names literally, so each is listed)."""
    import pkgutil

    import symbolic_music

    modules = ["symbolic_music", *(m.name for m in pkgutil.walk_packages(symbolic_music.__path__, "symbolic_music."))]
    return ",".join(f"error::Warning:{module}" for module in modules)

def _kedro(project: Path, *args: str, warnings_as_errors: bool = False) -> subprocess.CompletedProcess:
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "PYTHONUNBUFFERED": "1"}
    if warnings_as_errors:
        env["PYTHONWARNINGS"] = _project_warnings_as_errors()
    result = subprocess.run(
        [sys.executable, "-m", "kedro", "run", *args], cwd=project, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    return result

def _execute_notebook(project: Path) -> None:
    """Run notebooks/tour.ipynb top to bottom inside ``project`` (after its ``kedro run``)."""
    import nbformat
    from nbclient import NotebookClient

    shutil.copytree(PROJECT_ROOT / "notebooks", project / "notebooks")
    notebook = nbformat.read(project / "notebooks" / "tour.ipynb", as_version=4)
    os.environ["KEDRO_DISABLE_TELEMETRY"] = "1"
    NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(project / "notebooks")}}).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 2  # the piano rolls and the OA chart

def _versions(path: Path) -> list[str]:
    return sorted(p.name for p in path.iterdir())

def test_default_run_on_a_small_music21_corpus_then_reruns_keep_versions(tmp_path, params):
    project = project_copy(tmp_path, params)
    catalog = yaml.safe_load((PROJECT_ROOT / "conf" / "base" / "catalog.yml").read_text())
    raw = catalog["raw_metadata"]
    raw["composers"] = {"bach": {**raw["composers"]["bach"], "max_pieces": 8}, "haydn": {**raw["composers"]["haydn"], "max_pieces": 2}}
    (project / "conf" / "local" / "catalog.yml").write_text(yaml.safe_dump({"raw_metadata": raw}))

    run = _kedro(project, warnings_as_errors=True)  # the default run raises no warning from the project's own code
    assert not re.search(r"symbolic_music/\S+:\d+: \w*Warning", run.stdout + run.stderr)
    data = project / "data"
    for path in [
        "01_raw/music21_corpus/metadata.csv",
        "03_primary/train_tokens",
        "03_primary/notes.csv",
        "06_models/tokenizer.json",
        "06_models/transformer",
        "06_models/lstm.pt",
        "07_model_output/generated_midi",
        "08_reporting/pitch_class.png",
        "08_reporting/transformer_metrics.json",
        "08_reporting/evaluation_metrics.json",
    ]:
        assert (data / path).exists(), path
    midi = list((data / "07_model_output/generated_midi").rglob("*.mid"))
    assert midi and len(list((data / "07_model_output/generated_audio").rglob("*.ogg"))) == len(midi)  # audio is on by default

    _execute_notebook(project)

    _kedro(project, "--pipeline=data_engineering")
    _kedro(project, "--pipeline=eda")
    assert len(_versions(data / "03_primary/notes.csv")) == 2
    assert len(_versions(data / "03_primary/train_tokens")) == 2
    assert len(_versions(data / "08_reporting/pitch_class.png")) == 2
    first, second = _versions(data / "03_primary/notes.csv")
    assert (data / "03_primary/notes.csv" / first / "notes.csv").read_text() == (data / "03_primary/notes.csv" / second / "notes.csv").read_text()

def test_maestro_env_skips_corrupt_and_empty_files(tmp_path, params):
    project = project_copy(tmp_path, params)
    root = project / "data" / "01_raw" / "maestro-v3.0.0"
    root.mkdir(parents=True)
    metadata = write_corpus(root, num_pieces=6).assign(split=["train"] * 4 + ["validation", "test"])  # every split non-empty
    (root / "2004" / "corrupt.midi").write_bytes(b"MThd\x00\x00\x00\x06\x00\x01garbage")
    (root / "2005" / "empty.midi").write_bytes(b"")
    extra = metadata.iloc[:2].assign(midi_filename=["2004/corrupt.midi", "2005/empty.midi"])
    pd.concat([metadata, extra]).to_csv(root / "maestro-v3.0.0.csv", index=False)

    _kedro(project, "--env=maestro", "--pipeline=data_engineering")
    reports = list((project / "data/08_reporting/data_quality_report.json").rglob("*.json"))
    report = json.loads(reports[0].read_text())
    assert {entry["midi_filename"] for entry in report["skipped"]} == {"2004/corrupt.midi", "2005/empty.midi"}
    assert report["pieces_loaded"] == 6
    splits = [TokenShardsDataset(filepath=str(project / f"data/03_primary/{s}_tokens"), version=Version(None, None)).load() for s in ("train", "validation", "test")]
    assert sum(len(t) for t in splits) == 6

def test_a_bad_parameter_stops_the_run_before_any_node(tmp_path, params):
    """A negative temperature, prefix_len >= max_length, or an unknown preset: named at start-up."""
    project = project_copy(tmp_path, params)
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1"}
    cases = [
        ("generation.presets.balanced.temperature=-1", "generation.presets.balanced.temperature"),
        ("transformer_model.prefix_len=64", "transformer_model.prefix_len"),
        ("generation.composer_preset=wild", "generation.composer_preset"),
    ]
    for override, name in cases:
        result = subprocess.run([sys.executable, "-m", "kedro", "run", f"--params={override}"], cwd=project, env=env,
                                capture_output=True, text=True, timeout=300)
        assert result.returncode != 0
        output = " ".join((result.stdout + result.stderr).split())
        assert name in output, output[-2000:]
        assert "Running node" not in output
    assert not (project / "data").exists() or not any((project / "data").rglob("*.json"))
