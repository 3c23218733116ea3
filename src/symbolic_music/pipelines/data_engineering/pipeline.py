"""data_engineering wiring."""

from kedro.pipeline import Node, Pipeline

from symbolic_music.pipelines.data_engineering.nodes import (
    check_corpus_size,
    compute_reference_statistics,
    create_tokenizer,
    extract_notes,
    load_scores,
    tokenize_pieces,
    validate_metadata,
)


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(validate_metadata, ["raw_metadata", "raw_midi", "params:data_engineering"], "checked_pieces", name="validate_metadata_node"),
            Node(load_scores, ["checked_pieces", "raw_midi", "params:data_engineering"], ["scores", "loaded_pieces", "data_quality_report"],
                 name="load_scores_node"),
            Node(check_corpus_size, ["loaded_pieces", "data_quality_report", "params:data_engineering", "params:lstm_model"],
                 "pieces", name="check_corpus_size_node"),
            Node(create_tokenizer, "params:data_engineering", "tokenizer", name="create_tokenizer_node"),
            Node(
                tokenize_pieces,
                ["scores", "pieces", "tokenizer", "params:data_engineering"],
                ["train_tokens", "validation_tokens", "test_tokens"],
                name="tokenize_pieces_node",
            ),
            Node(extract_notes, ["scores", "pieces", "params:data_engineering"], "notes", name="extract_notes_node"),
            Node(compute_reference_statistics, "notes", ["train_reference_stats", "test_reference_stats"], name="reference_statistics_node"),
        ]
    )
