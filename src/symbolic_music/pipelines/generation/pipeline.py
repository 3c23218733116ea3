"""generation wiring."""

from kedro.pipeline import Node, Pipeline

from symbolic_music.pipelines.generation.audio import render_audio
from symbolic_music.pipelines.generation.lstm import generate_lstm_pieces
from symbolic_music.pipelines.generation.manifest import find_copies, merge_generated, real_token_figures
from symbolic_music.pipelines.generation.nodes import continue_pieces, generate_pieces


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(generate_pieces, ["transformer", "transformer_tokenizer", "params:generation"],
                 ["unconditioned_midi", "unconditioned_manifest"], name="generate_pieces_node"),
            Node(continue_pieces, ["transformer", "test_tokens", "tokenizer", "transformer_tokenizer", "pieces", "params:generation"],
                 ["continuation_midi", "continuation_manifest"], name="continue_pieces_node"),
            Node(generate_lstm_pieces, ["lstm", "notes", "params:generation", "params:lstm_model"],
                 ["lstm_midi", "lstm_manifest"], name="generate_lstm_pieces_node"),
            Node(real_token_figures, ["test_tokens", "tokenizer", "transformer_tokenizer"], "real_test_token_figures",
                 name="real_token_figures_node"),
            Node(find_copies, ["unconditioned_midi", "continuation_midi", "lstm_midi", "notes", "params:generation"], "generation_copies",
                 name="find_copies_node"),
            Node(merge_generated,
                 ["unconditioned_midi", "continuation_midi", "lstm_midi", "unconditioned_manifest", "continuation_manifest", "lstm_manifest",
                  "real_test_token_figures", "generation_copies"],
                 ["generated_midi", "generation_manifest"], name="merge_generated_node"),
            Node(render_audio, ["generated_midi", "params:generation"], "generated_audio", name="render_audio_node"),
        ]
    )
