"""Shared by the benchmarks: the project's catalog and parameters for an environment."""

from __future__ import annotations

from pathlib import Path

from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def load_project(env: str = "base"):
    """(catalog, parameters) of the project in ``env``."""
    bootstrap_project(PROJECT_ROOT)
    with KedroSession.create(project_path=PROJECT_ROOT, env=env) as session:
        context = session.load_context()
        return context.catalog, context.params


def load_or_explain(catalog, name: str):
    """Load a catalog entry, or exit with the command that produces it."""
    try:
        return catalog[name].load()
    except Exception as error:  # DatasetError when nothing was saved yet
        raise SystemExit(f"'{name}' is not available ({error}). Run `kedro run --pipeline=data_engineering` first.") from None
