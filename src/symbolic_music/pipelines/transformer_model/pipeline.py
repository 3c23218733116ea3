"""transformer_model wiring."""

from kedro.pipeline import Node, Pipeline

from symbolic_music.pipelines.transformer_model.nodes import (
    encode_sequences,
    evaluate_transformer,
    make_windows,
    plot_loss_curves,
    prepare_transformer_tokenizer,
    train_transformer_model,
)


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(prepare_transformer_tokenizer, ["tokenizer", "pieces", "train_tokens", "init_transformer_tokenizer", "params:transformer_model"],
                 "transformer_tokenizer", name="prepare_transformer_tokenizer_node"),
            Node(encode_sequences,
                 ["train_tokens", "validation_tokens", "test_tokens", "tokenizer", "transformer_tokenizer", "pieces", "params:transformer_model"],
                 ["transformer_train_sequences", "transformer_validation_sequences", "transformer_test_sequences", "transformer_sequence_report"],
                 name="encode_sequences_node"),
            Node(make_windows, ["transformer_train_sequences", "transformer_validation_sequences", "transformer_tokenizer", "params:transformer_model"],
                 ["transformer_train_windows", "transformer_validation_windows", "transformer_window_report"], name="make_windows_node"),
            Node(train_transformer_model,
                 ["transformer_train_windows", "transformer_validation_windows", "transformer_tokenizer", "init_transformer", "params:transformer_model"],
                 ["transformer", "transformer_history"], name="train_transformer_node"),
            Node(evaluate_transformer,
                 ["transformer", "transformer_train_sequences", "transformer_validation_sequences", "transformer_test_sequences",
                  "transformer_tokenizer", "notes", "transformer_sequence_report", "transformer_window_report", "init_transformer",
                  "params:transformer_model"],
                 "transformer_metrics", name="evaluate_transformer_node"),
            Node(plot_loss_curves, "transformer_history", "transformer_loss_plot", name="transformer_loss_plot_node"),
        ]
    )
