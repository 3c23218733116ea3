"""Project hooks: check every pipeline's parameters when a run starts, before any node runs."""

from __future__ import annotations

from kedro.framework.hooks import hook_impl


def validate_all_parameters(params: dict) -> None:
    """Raise ``ValueError`` naming the first bad parameter of any pipeline."""
    from symbolic_music.models.transformer import validate_params as validate_transformer
    from symbolic_music.models.sampler import validate_generation_params
    from symbolic_music.music.audio import validate_audio_settings
    from symbolic_music.music.notes import validate_tracks_mode
    from symbolic_music.music.ngram import validate_ngram_settings
    from symbolic_music.parallel import validate_executor

    validate_tracks_mode(params["data_engineering"]["tracks"])
    validate_executor(params["data_engineering"]["executor"], params["data_engineering"]["dask"])
    validate_transformer(params["transformer_model"])
    validate_generation_params(params["generation"])
    validate_audio_settings(params["generation"]["audio"])
    if params["lstm_model"]["seq_length"] < 1:
        raise ValueError(f"lstm_model.seq_length must be positive, got {params['lstm_model']['seq_length']}")
    validate_ngram_settings(params["lstm_model"]["baselines"]["ngram"])


class ValidateParameters:
    """So a typo in a preset fails in the first second, not after an hour of training."""

    @hook_impl
    def after_context_created(self, context) -> None:
        validate_all_parameters(context.params)
