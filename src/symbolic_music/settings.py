"""Kedro project settings."""

from kedro.config import OmegaConfigLoader

from symbolic_music.hooks import InitCheckpoints, ValidateParameters

HOOKS = (ValidateParameters(), InitCheckpoints())

CONFIG_LOADER_CLASS = OmegaConfigLoader
# "soft": an environment's parameter file overrides only the keys it names (conf/maestro's
# parameters_data_engineering.yml sets the pedal mode alone); catalogs stay whole-entry overrides.
CONFIG_LOADER_ARGS = {"base_env": "base", "default_run_env": "local", "merge_strategy": {"parameters": "soft"}}
