"""Kedro project settings."""

from kedro.config import OmegaConfigLoader

from symbolic_music.hooks import ValidateParameters

HOOKS = (ValidateParameters(),)

CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {"base_env": "base", "default_run_env": "local"}
