"""transformer_model: GPT-2 trained with HF Trainer on windows over every token of every piece."""

from symbolic_music.pipelines.transformer_model.pipeline import create_pipeline

__all__ = ["create_pipeline"]
