"""Project hooks: check every pipeline's parameters when a run starts, before any node runs."""

from __future__ import annotations

from kedro.framework.hooks import hook_impl


def validate_all_parameters(params: dict) -> None:
    """Raise ``ValueError`` naming the first bad parameter of any pipeline."""
    from symbolic_music.pipelines.generation.nodes import (
        validate_params as validate_generation,
    )
    from symbolic_music.pipelines.lstm_model.nodes import validate_ngram_params
    from symbolic_music.pipelines.transformer_model.nodes import (
        validate_params as validate_transformer,
    )

    validate_transformer(params["transformer_model"])
    validate_generation(params["generation"])
    if params["lstm_model"]["seq_length"] < 1:
        raise ValueError(f"lstm_model.seq_length must be positive, got {params['lstm_model']['seq_length']}")
    validate_ngram_params(params["lstm_model"]["baselines"]["ngram"])


class ValidateParameters:
    """So a typo in a preset fails in the first second, not after an hour of training."""

    @hook_impl
    def after_context_created(self, context) -> None:
        validate_all_parameters(context.params)
