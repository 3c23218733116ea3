"""eda wiring."""

from kedro.pipeline import Node, Pipeline

from symbolic_music.pipelines.eda.nodes import (
    plot_note_distributions,
    plot_piece_durations,
    plot_pieces_per_composer,
    plot_pitch_class_distribution,
    plot_recordings_per_year,
    summarize_corpus,
)


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(plot_recordings_per_year, ["pieces", "params:eda"], "recordings_per_year_plot", name="recordings_per_year_node"),
            Node(plot_piece_durations, ["pieces", "params:eda"], "piece_durations_plot", name="piece_durations_node"),
            Node(plot_pieces_per_composer, ["pieces", "params:eda"], "pieces_per_composer_plot", name="pieces_per_composer_node"),
            Node(plot_note_distributions, ["notes", "params:eda"], "note_distributions_plot", name="note_distributions_node"),
            Node(plot_pitch_class_distribution, ["notes", "params:eda"], "pitch_class_plot", name="pitch_class_node"),
            Node(summarize_corpus, ["pieces", "notes"], "corpus_summary", name="summarize_corpus_node"),
        ]
    )
