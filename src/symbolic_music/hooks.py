"""Project hooks: check every pipeline's parameters when a run starts, before any node runs; put
the checkpoints that fine-tuning starts from into the catalog; say where a run's time went."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from kedro.framework.hooks import hook_impl

log = logging.getLogger(__name__)
SLOWEST_NODES_LOGGED = 8


def validate_all_parameters(params: dict) -> None:
    """Raise ``ValueError`` naming the first bad parameter of any pipeline."""
    from symbolic_music.datasets.init_from import validate_init_from
    from symbolic_music.models.transformer import validate_params as validate_transformer
    from symbolic_music.models.sampler import validate_generation_params
    from symbolic_music.music.audio import validate_audio_settings
    from symbolic_music.music.notes import validate_tracks_mode
    from symbolic_music.music.pedal import validate_pedal_mode
    from symbolic_music.music.ngram import validate_ngram_settings
    from symbolic_music.parallel import validate_executor

    validate_tracks_mode(params["data_engineering"]["tracks"])
    validate_pedal_mode(params["data_engineering"]["pedal"])
    validate_executor(params["data_engineering"]["executor"], params["data_engineering"]["dask"])
    validate_transformer(params["transformer_model"])
    validate_generation_params(params["generation"])
    validate_audio_settings(params["generation"]["audio"])
    if params["lstm_model"]["seq_length"] < 1:
        raise ValueError(f"lstm_model.seq_length must be positive, got {params['lstm_model']['seq_length']}")
    validate_init_from(params["lstm_model"].get("init_from"), "lstm_model.init_from")
    validate_ngram_settings(params["lstm_model"]["baselines"]["ngram"])


class ValidateParameters:
    """So a typo in a preset fails in the first second, not after an hour of training."""

    @hook_impl
    def after_context_created(self, context) -> None:
        validate_all_parameters(context.params)


class InitCheckpoints:
    """Points the catalog's ``InitCheckpointDataset`` entries (``init_transformer``,
    ``init_transformer_tokenizer``, ``init_lstm``) at the checkpoints that
    ``transformer_model.init_from`` and ``lstm_model.init_from`` name (``datasets.init_from``).

    A hook because which version a dataset loads depends here on parameters, which catalog.yml
    cannot read; this is the one place where Kedro hands over the merged parameters and the
    run's catalog together. Versions are resolved when the catalog is made, so a run fine-tunes
    the checkpoint that was latest when it started.
    """

    def __init__(self) -> None:
        self._project_path: Path | None = None
        self._conf_source: str | None = None

    @hook_impl
    def after_context_created(self, context) -> None:
        self._project_path = Path(context.project_path)
        self._conf_source = str(context.config_loader.conf_source)

    def _env_catalog(self, env: str) -> dict:
        from kedro.framework.project import settings

        available = sorted(p.name for p in Path(self._conf_source).iterdir() if p.is_dir())
        if env not in available:
            raise ValueError(f"init_from.env: no environment '{env}' in {self._conf_source} (there are {available})")
        return settings.CONFIG_LOADER_CLASS(conf_source=self._conf_source, env=env, **settings.CONFIG_LOADER_ARGS)["catalog"]

    @hook_impl
    def after_catalog_created(self, catalog, conf_catalog, parameters, save_version) -> None:
        from symbolic_music.datasets.init_from import InitCheckpointDataset, resolve_init_datasets

        names = [name for name, entry in conf_catalog.items()
                 if isinstance(entry, dict) and str(entry.get("type", "")).endswith(InitCheckpointDataset.__name__)]
        datasets = {name: catalog[name] for name in names}
        merged = parameters.get("parameters", {})  # Kedro passes {"parameters": all, "params:<name>": each}
        sources = resolve_init_datasets(datasets, merged, conf_catalog, self._project_path, self._env_catalog, save_version)
        for name, source in sources.items():
            datasets[name].use(source)
            if source is not None:
                log.info("%s: %s", name, source)


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
