"""evaluation's listening node: a round of 10 pairs judged through the app's HTTP API, read back
through the catalog entry and summarised per system."""

from __future__ import annotations

from collections import Counter

import yaml
from gradio_client import Client
from kedro.io import DataCatalog
from kedro.pipeline import Pipeline

from symbolic_music.app.generate_tab import Studio
from symbolic_music.app.main import build_app
from symbolic_music.music.listening import SUMMARY_COLUMNS, parse_ratings
from symbolic_music.music.systems import is_real
from symbolic_music.pipelines import evaluation
from symbolic_music.pipelines.evaluation.report import listening_lines
from tests.app.helpers import make_listening_test, served
from tests.conftest import PROJECT_ROOT, run_pipeline


def ratings_catalog(path) -> DataCatalog:
    """conf/base's listening_ratings entry, pointed at ``path``."""
    entry = yaml.safe_load((PROJECT_ROOT / "conf" / "base" / "catalog.yml").read_text())["listening_ratings"]
    return DataCatalog.from_config({"listening_ratings": {**entry, "filepath": str(path)}})


def summarize(path) -> tuple:
    pipeline = Pipeline([n for n in evaluation.create_pipeline().nodes if n.name == "listening_summary_node"])
    outputs = run_pipeline(pipeline, ratings_catalog(path))
    return outputs["listening_summary"], outputs["listening_metrics"]


def test_a_missing_ratings_file_gives_an_empty_table(tmp_path):
    summary, counts = summarize(tmp_path / "nothing_yet.jsonl")
    assert summary.empty and list(summary.columns) == SUMMARY_COLUMNS
    assert counts["records"] == 0 and counts["skipped_lines"] == 0


def test_ten_pairs_judged_through_the_app_are_counted_per_system(tmp_path, params):
    listening = make_listening_test(tmp_path, params)
    studio = Studio(None, None, params["generation"], params["app"], tmp_path / "generate", problem="no model in this test")
    with served(build_app(studio, listening)) as url:
        client = Client(url, verbose=False)
        client.predict(api_name="/next_pair")
        for index in range(10):
            assert client.predict("AB"[index % 2], 1 + index % 5, 5 - index % 5, api_name="/submit")[0].startswith("Saved")
    summary, counts = summarize(listening.ratings.filepath)
    records, _ = parse_ratings(listening.ratings.load())
    heard = Counter(record[side]["system"] for record in records for side in "ab")
    against_real = Counter(next(s for s in (r["a"]["system"], r["b"]["system"]) if not is_real(s))
                           for r in records if r["kind"] == "real_vs_generated")
    table = summary.set_index("system")
    assert counts["records"] == 10 and counts["synthetic_records"] == 10 and counts["listeners"] == 1
    assert table["rating_n"].to_dict() == dict(heard)
    assert table["preference_n"][table["preference_n"] > 0].to_dict() == dict(against_real)
    assert table["head_to_head_n"].sum() == 2 * counts["pairs_by_kind"].get("generated_vs_generated", 0)
    assert table["preference_n"].sum() == counts["pairs_by_kind"]["real_vs_generated"] > 0
    # and the report says so: the judgements, and per system its preference against real music with its count
    lines = "\n".join(listening_lines(summary, counts))
    assert "10 judgements from 1 listener(s), 10 of them synthetic" in lines
    for system, n in against_real.items():
        assert f"`{system}` is preferred to real music in {int(table.loc[system, 'preference_wins'])} of {n} pairs" in lines
