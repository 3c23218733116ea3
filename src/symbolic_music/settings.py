"""Kedro project settings."""

from kedro.config import OmegaConfigLoader

from symbolic_music.hooks import InitCheckpoints, NodeTimes, ValidateParameters

HOOKS = (ValidateParameters(), InitCheckpoints(), NodeTimes())

CONFIG_LOADER_CLASS = OmegaConfigLoader
# Parameters merge key by key ("soft"): an environment, or `--params=data_engineering.executor=dask`
# in any environment, overrides only the keys it names; the rest of the group stays base's.
CONFIG_LOADER_ARGS = {"base_env": "base", "default_run_env": "local", "merge_strategy": {"parameters": "soft"}}
