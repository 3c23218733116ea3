"""evaluation: measure generated MIDI against the real test split."""

from symbolic_music.pipelines.evaluation.pipeline import create_pipeline

__all__ = ["create_pipeline"]
