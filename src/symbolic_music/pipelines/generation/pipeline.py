"""generation wiring."""

from kedro.pipeline import Node, Pipeline

from symbolic_music.pipelines.generation.nodes import generate_pieces


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(generate_pieces, ["transformer", "transformer_tokenizer", "params:generation"],
                 ["generated_midi", "generation_manifest"], name="generate_pieces_node"),
        ]
    )
