"""data_engineering: metadata → checked pieces → scores → tokens, note tables, reference stats."""

from symbolic_music.pipelines.data_engineering.pipeline import create_pipeline

__all__ = ["create_pipeline"]
