"""generation wiring."""

from kedro.pipeline import Node, Pipeline

from symbolic_music.pipelines.generation.nodes import generate_unconditioned


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(generate_unconditioned, ["transformer", "tokenizer", "params:generation"],
                 ["generated_midi", "generation_manifest"], name="generate_unconditioned_node"),
        ]
    )
