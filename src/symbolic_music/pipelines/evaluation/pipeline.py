"""evaluation wiring."""

from kedro.pipeline import Node, Pipeline

from symbolic_music.pipelines.evaluation.listening import summarize_listening
from symbolic_music.pipelines.evaluation.nodes import evaluate
from symbolic_music.pipelines.evaluation.plots import (
    plot_histograms,
    plot_overlap_areas,
    plot_system_panels,
)
from symbolic_music.pipelines.evaluation.report import write_report


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(evaluate,
                 ["generated_midi", "baseline_midi", "notes", "generation_manifest", "transformer_metrics", "ngram_metrics", "lstm_metrics",
                  "params:evaluation"],
                 ["evaluation_summary", "evaluation_metrics", "evaluation_pieces"], name="evaluate_node"),
            Node(plot_overlap_areas, "evaluation_summary", "evaluation_oa_plot", name="evaluation_oa_plot_node"),
            Node(plot_histograms, ["evaluation_pieces", "params:evaluation"], "evaluation_histograms_plot", name="evaluation_histograms_plot_node"),
            Node(plot_system_panels, ["evaluation_pieces", "params:evaluation"], "evaluation_panels", name="evaluation_panels_node"),
            Node(write_report, ["evaluation_summary", "evaluation_metrics"], "evaluation_report", name="evaluation_report_node"),
            Node(summarize_listening, "listening_ratings", ["listening_summary", "listening_metrics"], name="listening_summary_node"),
        ]
    )
