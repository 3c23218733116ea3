"""evaluation wiring."""

from kedro.pipeline import Node, Pipeline

from symbolic_music.pipelines.evaluation.checks import composer_accuracy, drift, memorization_summary
from symbolic_music.pipelines.evaluation.listening import summarize_listening
from symbolic_music.pipelines.evaluation.nodes import evaluate
from symbolic_music.pipelines.evaluation.plots import (
    plot_histograms,
    plot_ranking,
    plot_system_panels,
)
from symbolic_music.pipelines.evaluation.page import write_report_page
from symbolic_music.pipelines.evaluation.report import write_report


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(evaluate,
                 ["generated_midi", "baseline_midi", "notes", "generation_manifest", "transformer_metrics", "ngram_metrics", "lstm_metrics",
                  "params:evaluation"],
                 ["evaluation_summary", "evaluation_metrics", "evaluation_pieces"], name="evaluate_node"),
            Node(plot_ranking, "evaluation_summary", "evaluation_oa_plot", name="evaluation_oa_plot_node"),
            Node(plot_histograms, ["evaluation_pieces", "params:evaluation"], "evaluation_histograms_plot", name="evaluation_histograms_plot_node"),
            Node(plot_system_panels, ["evaluation_pieces", "params:evaluation"], "evaluation_panels", name="evaluation_panels_node"),
            Node(memorization_summary, ["generated_midi", "baseline_midi", "notes", "params:generation"], "memorization_summary",
                 name="memorization_summary_node"),
            Node(composer_accuracy, ["notes", "generated_midi", "generation_manifest", "params:evaluation"],
                 ["composer_accuracy", "composer_confusion_plots"], name="composer_accuracy_node"),
            Node(drift, ["generated_midi", "notes", "params:evaluation"], ["drift_curves", "drift_verdicts", "drift_plots"], name="drift_node"),
            Node(write_report, ["evaluation_summary", "evaluation_metrics", "memorization_summary", "composer_accuracy", "drift_verdicts",
                                "listening_summary", "listening_metrics"], "evaluation_report", name="evaluation_report_node"),
            Node(write_report_page, ["evaluation_summary", "evaluation_metrics", "memorization_summary", "composer_accuracy", "drift_curves",
                                     "drift_verdicts", "listening_summary", "listening_metrics", "evaluation_pieces", "generated_midi", "params:evaluation", "params:generation"],
                 "evaluation_page", name="evaluation_page_node"),
            Node(summarize_listening, "listening_ratings", ["listening_summary", "listening_metrics"], name="listening_summary_node"),
        ]
    )
