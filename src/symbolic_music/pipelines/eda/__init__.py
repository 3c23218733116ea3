"""eda: plots and a summary table of the corpus."""

from symbolic_music.pipelines.eda.pipeline import create_pipeline

__all__ = ["create_pipeline"]
