"""transformer_model wiring."""

from kedro.pipeline import Node, Pipeline

from symbolic_music.pipelines.transformer_model.nodes import (
    evaluate_transformer,
    make_windows,
    plot_loss_curves,
    train_transformer,
)


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(make_windows, ["train_tokens", "validation_tokens", "tokenizer", "params:transformer_model"],
                 ["transformer_train_windows", "transformer_validation_windows"], name="make_windows_node"),
            Node(train_transformer, ["transformer_train_windows", "transformer_validation_windows", "tokenizer", "params:transformer_model"],
                 ["transformer", "transformer_history"], name="train_transformer_node"),
            Node(evaluate_transformer, ["transformer", "train_tokens", "test_tokens", "tokenizer", "notes", "params:transformer_model"],
                 "transformer_metrics", name="evaluate_transformer_node"),
            Node(plot_loss_curves, "transformer_history", "transformer_loss_plot", name="transformer_loss_plot_node"),
        ]
    )
