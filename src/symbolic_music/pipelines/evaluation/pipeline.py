"""evaluation wiring."""

from kedro.pipeline import Node, Pipeline

from symbolic_music.pipelines.evaluation.nodes import evaluate_generated, plot_generated_against_test


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(evaluate_generated, ["generated_midi", "baseline_midi", "test_reference_stats"], ["evaluation_metrics", "generated_notes"], name="evaluate_generated_node"),
            Node(plot_generated_against_test, "evaluation_metrics", "evaluation_plot", name="evaluation_plot_node"),
        ]
    )
