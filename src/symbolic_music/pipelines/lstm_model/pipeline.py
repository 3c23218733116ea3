"""lstm_model wiring."""

from kedro.pipeline import Node, Pipeline

from symbolic_music.pipelines.lstm_model.nodes import (
    evaluate_lstm,
    fit_ngram_baseline,
    make_note_windows,
    merge_baselines,
    plot_lstm_history,
    simple_baselines,
    train_lstm,
)


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(make_note_windows, ["notes", "params:lstm_model"],
                 ["lstm_train_windows", "lstm_validation_windows", "lstm_test_windows"], name="make_note_windows_node"),
            Node(train_lstm, ["lstm_train_windows", "lstm_validation_windows", "init_lstm", "params:lstm_model"],
                 ["lstm", "lstm_history"], name="train_lstm_node"),
            Node(evaluate_lstm, ["lstm", "lstm_train_windows", "lstm_test_windows", "params:lstm_model"],
                 "lstm_metrics", name="evaluate_lstm_node"),
            Node(plot_lstm_history, "lstm_history", "lstm_loss_plot", name="lstm_loss_plot_node"),
            Node(fit_ngram_baseline, ["train_tokens", "validation_tokens", "test_tokens", "tokenizer", "notes", "params:lstm_model"],
                 ["ngram_metrics", "ngram_midi"], name="ngram_baseline_node"),
            Node(simple_baselines, ["notes", "params:lstm_model"], "simple_baseline_midi", name="simple_baselines_node"),
            Node(merge_baselines, ["ngram_midi", "simple_baseline_midi"], "baseline_midi", name="merge_baselines_node"),
        ]
    )
