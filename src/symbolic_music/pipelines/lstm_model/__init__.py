"""lstm_model: a note-level LSTM over (pitch, step, duration) windows."""

from symbolic_music.pipelines.lstm_model.pipeline import create_pipeline

__all__ = ["create_pipeline"]
