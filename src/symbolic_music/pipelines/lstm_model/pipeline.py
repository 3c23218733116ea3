"""lstm_model wiring."""

from kedro.pipeline import Node, Pipeline

from symbolic_music.pipelines.lstm_model.nodes import evaluate_lstm, make_note_windows, plot_lstm_history, train_lstm


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(make_note_windows, ["notes", "params:lstm_model"],
                 ["lstm_train_windows", "lstm_validation_windows", "lstm_test_windows"], name="make_note_windows_node"),
            Node(train_lstm, ["lstm_train_windows", "lstm_validation_windows", "params:lstm_model"],
                 ["lstm", "lstm_history"], name="train_lstm_node"),
            Node(evaluate_lstm, ["lstm", "lstm_train_windows", "lstm_test_windows", "params:lstm_model"],
                 "lstm_metrics", name="evaluate_lstm_node"),
            Node(plot_lstm_history, "lstm_history", "lstm_loss_plot", name="lstm_loss_plot_node"),
        ]
    )
