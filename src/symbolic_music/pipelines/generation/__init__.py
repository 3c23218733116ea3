"""generation: sample new pieces from the trained models and decode them to MIDI."""

from symbolic_music.pipelines.generation.pipeline import create_pipeline

__all__ = ["create_pipeline"]
