"""eda: each plot node returns a drawn figure; the summary table adds up; the pipeline runs."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest
from kedro.io import DataCatalog, MemoryDataset

from symbolic_music.pipelines import eda
from symbolic_music.pipelines.eda.nodes import (
    plot_note_distributions,
    plot_piece_durations,
    plot_pieces_per_composer,
    plot_pitch_class_distribution,
    plot_recordings_per_year,
    summarize_corpus,
)
from tests.conftest import run_pipeline


@pytest.mark.parametrize(
    "node, source",
    [
        (plot_recordings_per_year, "pieces"),
        (plot_piece_durations, "pieces"),
        (plot_pieces_per_composer, "pieces"),
        (plot_note_distributions, "notes"),
        (plot_pitch_class_distribution, "notes"),
    ],
)
def test_plot_nodes_draw_something(node, source, engineered, params):
    figure = node(engineered[source], params["eda"])
    assert isinstance(figure, plt.Figure)
    assert any(ax.has_data() for ax in figure.axes)
    plt.close(figure)


def test_pieces_per_composer_respects_top_n(engineered, params):
    figure = plot_pieces_per_composer(engineered["pieces"], {**params["eda"], "top_composers": 2})
    assert len(figure.axes[0].patches) == 2
    plt.close(figure)


def test_summarize_corpus_adds_up(engineered):
    summary = summarize_corpus(engineered["pieces"], engineered["notes"]).set_index("split")
    assert summary.loc["all", "pieces"] == 12
    assert summary.loc[["train", "validation", "test"], "notes"].sum() == summary.loc["all", "notes"]
    assert summary.loc["train", "composers"] == 3


def test_eda_pipeline_runs(engineered, params):
    catalog = DataCatalog({"params:eda": MemoryDataset(params["eda"])})
    out = run_pipeline(eda.create_pipeline(), catalog, {k: engineered[k] for k in ("pieces", "notes")})
    assert len([name for name in out if name.endswith("_plot")]) == 5
    assert len(out["corpus_summary"]) == 4
    plt.close("all")
