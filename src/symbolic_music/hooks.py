"""Project hooks: check every pipeline's parameters when a run starts, before any node runs; say
where a run's time went when it ends."""

from __future__ import annotations

import logging
import time

from kedro.framework.hooks import hook_impl

log = logging.getLogger(__name__)
SLOWEST_NODES_LOGGED = 8


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


class NodeTimes:
    """Logs, at the end of a run, its wall time and its slowest nodes (with their share of it)."""

    def __init__(self) -> None:
        self.started, self.run_started, self.seconds = {}, 0.0, {}

    @hook_impl
    def before_pipeline_run(self) -> None:
        self.run_started, self.seconds = time.perf_counter(), {}

    @hook_impl
    def before_node_run(self, node) -> None:
        self.started[node.name] = time.perf_counter()

    @hook_impl
    def after_node_run(self, node) -> None:
        self.seconds[node.name] = time.perf_counter() - self.started.pop(node.name)

    @hook_impl
    def after_pipeline_run(self) -> None:
        total = time.perf_counter() - self.run_started
        slowest = sorted(self.seconds.items(), key=lambda item: -item[1])[:SLOWEST_NODES_LOGGED]
        log.info("Run took %.0f s in %d nodes; slowest: %s", total, len(self.seconds),
                 ", ".join(f"{name.split('.')[-1]} {seconds:.0f} s ({seconds / total:.0%})" for name, seconds in slowest))
