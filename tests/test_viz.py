"""``kedro viz build`` exports every pipeline, and every dataset sits in a data layer."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from symbolic_music.pipeline_registry import register_pipelines
from tests.conftest import project_copy

LAYERS = {"raw", "intermediate", "primary", "model_input", "models", "model_output", "reporting"}


def test_viz_build_lists_every_pipeline_and_dataset(tmp_path, params):
    project = project_copy(tmp_path, params)
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1"}
    result = subprocess.run([sys.executable, "-m", "kedro", "viz", "build"], cwd=project, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    exported = json.loads((project / "build" / "api" / "main").read_text())
    assert {p["id"] for p in exported["pipelines"]} == {"data_engineering", "eda", "transformer_model", "lstm_model", "generation", "evaluation", "__default__"}
    datasets = {n["name"]: n.get("layer") for n in exported["nodes"] if n["type"] == "data"}
    expected = {name for name in register_pipelines()["__default__"].datasets() if not name.startswith("params:")}
    assert set(datasets) == expected
    assert {name: layer for name, layer in datasets.items() if layer not in LAYERS} == {}
