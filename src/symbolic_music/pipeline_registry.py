"""The six pipelines, by name. ``__default__`` runs them in data-flow order."""

from kedro.pipeline import Pipeline

from symbolic_music.pipelines import (
    data_engineering,
    eda,
    evaluation,
    generation,
    lstm_model,
    transformer_model,
)

PIPELINE_ORDER = {
    "data_engineering": data_engineering,
    "eda": eda,
    "transformer_model": transformer_model,
    "lstm_model": lstm_model,
    "generation": generation,
    "evaluation": evaluation,
}


def register_pipelines() -> dict[str, Pipeline]:
    pipelines = {name: module.create_pipeline() for name, module in PIPELINE_ORDER.items()}
    pipelines["__default__"] = sum(pipelines.values(), Pipeline([]))
    return pipelines
