"""data_engineering wiring."""

from kedro.pipeline import Node, Pipeline

from symbolic_music.pipelines.data_engineering.nodes import (
    check_corpus_size,
    compute_reference_statistics,
    create_tokenizer,
    label_notes,
    preprocess_pieces,
    split_tokens,
    validate_metadata,
)


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(validate_metadata, ["raw_metadata", "raw_midi", "params:data_engineering"], "checked_pieces", name="validate_metadata_node"),
            Node(create_tokenizer, "params:data_engineering", "tokenizer", name="create_tokenizer_node"),
            Node(preprocess_pieces, ["checked_pieces", "raw_midi", "tokenizer", "params:data_engineering"],
                 ["loaded_pieces", "data_quality_report", "piece_tokens", "piece_notes"], name="preprocess_pieces_node"),
            Node(check_corpus_size, ["loaded_pieces", "data_quality_report", "params:data_engineering", "params:lstm_model"],
                 "pieces", name="check_corpus_size_node"),
            Node(split_tokens, ["piece_tokens", "pieces"], ["train_tokens", "validation_tokens", "test_tokens"], name="split_tokens_node"),
            Node(label_notes, ["piece_notes", "pieces"], "notes", name="label_notes_node"),
            Node(compute_reference_statistics, "notes", ["train_reference_stats", "test_reference_stats"], name="reference_statistics_node"),
        ]
    )
