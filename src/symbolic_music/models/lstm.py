"""Note-level LSTM: (pitch, step, duration) windows in, next pitch and timing out.

Polyphony is flattened in onset order, then pitch (the original study's behaviour): a chord
becomes consecutive notes with step 0, which the timing clip raises to ``step_min``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from symusic import Score
from torch import nn

from symbolic_music.music.notes import score_from_notes

NUM_PITCHES = 128
OCTAVE = 12


@dataclass
class LSTMConfig:
    embedding_dim: int = 64
    hidden_size: int = 128
    num_layers: int = 2
    dropout: float = 0.1
    bidirectional: bool = False  # over the input window only; the target is the note after it


class NoteLSTM(nn.Module):
    """Pitch embedding + 2 timing features → LSTM → pitch logits (128) and (step, duration)."""

    def __init__(self, config: LSTMConfig) -> None:
        super().__init__()
        self.config = config
        self.pitch_embedding = nn.Embedding(NUM_PITCHES, config.embedding_dim)
        self.lstm = nn.LSTM(
            config.embedding_dim + 2,
            config.hidden_size,
            num_layers=config.num_layers,
            dropout=config.dropout if config.num_layers > 1 else 0.0,
            bidirectional=config.bidirectional,
            batch_first=True,
        )
        features = config.hidden_size * (2 if config.bidirectional else 1)
        self.pitch_head = nn.Linear(features, NUM_PITCHES)
        self.timing_head = nn.Linear(features, 2)

    def forward(self, pitch: torch.Tensor, timing: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """pitch (B, T) long, timing (B, T, 2) normalised → logits (B, 128), timing (B, 2)."""
        x = torch.cat([self.pitch_embedding(pitch), timing], dim=-1)
        out, _ = self.lstm(x)
        last = out[:, -1]
        return self.pitch_head(last), self.timing_head(last)


def load_lstm(checkpoint: dict) -> NoteLSTM:
    """Checkpoint ``{"config", "state_dict"}`` → a ``NoteLSTM`` in eval mode."""
    model = NoteLSTM(LSTMConfig(**checkpoint["config"]))
    model.load_state_dict(checkpoint["state_dict"])
    return model.eval()


def coherence_penalty(pitch_logits: torch.Tensor, last_pitch: torch.Tensor) -> torch.Tensor:
    """Differentiable melodic-coherence term: the expected |interval| (semitones) from the last
    input pitch under the predicted softmax, penalised linearly beyond an octave; batch mean."""
    probabilities = pitch_logits.softmax(dim=-1)
    pitches = torch.arange(NUM_PITCHES, device=pitch_logits.device, dtype=probabilities.dtype)
    expected_interval = (probabilities * (pitches[None, :] - last_pitch[:, None].to(probabilities.dtype)).abs()).sum(-1)
    return torch.relu(expected_interval - OCTAVE).mean()


def lstm_loss(pitch_logits, timing_pred, target_pitch, target_timing, last_pitch, weights: dict) -> tuple[torch.Tensor, dict]:
    """Cross-entropy on pitch + ``timing`` × MSE on timing + ``coherence`` × coherence penalty."""
    parts = {
        "pitch": nn.functional.cross_entropy(pitch_logits, target_pitch),
        "timing": nn.functional.mse_loss(timing_pred, target_timing),
        "coherence": coherence_penalty(pitch_logits, last_pitch),
    }
    total = weights["pitch"] * parts["pitch"] + weights["timing"] * parts["timing"] + weights["coherence"] * parts["coherence"]
    return total, {k: float(v.detach()) for k, v in parts.items()}


def normalise_timing(seconds: np.ndarray, low: float, high: float) -> np.ndarray:
    """Clip to [low, high] seconds, then map log-linearly onto [0, 1]."""
    clipped = np.clip(seconds, low, high)
    return (np.log(clipped) - np.log(low)) / (np.log(high) - np.log(low))


def denormalise_timing(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """Inverse of ``normalise_timing`` (values outside [0, 1] are clipped first)."""
    return np.exp(np.clip(values, 0.0, 1.0) * (np.log(high) - np.log(low)) + np.log(low))


def note_features(notes: pd.DataFrame, timing: dict) -> tuple[np.ndarray, np.ndarray]:
    """Note table of one piece → pitch (N,) and normalised (step, duration) (N, 2)."""
    step = normalise_timing(notes["step"].to_numpy(float), timing["step_min"], timing["step_max"])
    duration = normalise_timing(notes["duration"].to_numpy(float), timing["duration_min"], timing["duration_max"])
    return notes["pitch"].to_numpy(np.int64), np.stack([step, duration], axis=1).astype(np.float32)


def note_windows(notes: pd.DataFrame, seq_length: int, stride: int, timing: dict) -> dict[str, torch.Tensor]:
    """Note table (with ``piece_id``) → input windows of ``seq_length`` notes and the note after
    each: tensors ``pitch (W, T)``, ``timing (W, T, 2)``, ``target_pitch (W,)``, ``target_timing (W, 2)``."""
    pitch_windows, timing_windows, target_pitch, target_timing = [], [], [], []
    for _, piece in notes.groupby("piece_id", sort=False):
        pitch, features = note_features(piece, timing)
        for start in range(0, len(pitch) - seq_length, stride):
            end = start + seq_length
            pitch_windows.append(pitch[start:end])
            timing_windows.append(features[start:end])
            target_pitch.append(pitch[end])
            target_timing.append(features[end])
    if not pitch_windows:
        return {
            "pitch": torch.zeros((0, seq_length), dtype=torch.long),
            "timing": torch.zeros((0, seq_length, 2)),
            "target_pitch": torch.zeros(0, dtype=torch.long),
            "target_timing": torch.zeros((0, 2)),
        }
    return {
        "pitch": torch.from_numpy(np.stack(pitch_windows)),
        "timing": torch.from_numpy(np.stack(timing_windows)),
        "target_pitch": torch.from_numpy(np.array(target_pitch)),
        "target_timing": torch.from_numpy(np.stack(target_timing)),
    }


@torch.no_grad()
def sample_notes(
    model: NoteLSTM,
    pitch: np.ndarray,
    timing: np.ndarray,
    seconds: float,
    timing_ranges: dict,
    temperature: float,
    constraints: dict,
    generator: torch.Generator,
    max_notes: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Continue a seed window (pitch (T,), normalised timing (T, 2)) until the new notes' onsets
    span ``seconds`` (or ``max_notes`` notes).

    Each step samples the pitch from the softmax at ``temperature`` under the optional
    constraints (the original "quality fixes"): ``pitch_range`` [low, high] masks pitches
    outside it; ``max_interval`` masks leaps of more than N semitones from the previous note
    (so none is sampled); ``repetition_penalty`` > 1 divides the probability of pitches used in
    the last ``repetition_window`` notes. A vanishing temperature is greedy. Timing is the
    model's regression output, clipped to [0, 1]. Returns the new pitches (N,) and normalised
    timing (N, 2).
    """
    model.eval()
    window_pitch = torch.tensor(np.asarray(pitch), dtype=torch.long)[None]
    window_timing = torch.tensor(np.asarray(timing), dtype=torch.float32)[None]
    pitches = torch.arange(NUM_PITCHES)
    new_pitch, new_timing, elapsed = [], [], 0.0
    while elapsed < seconds and len(new_pitch) < max_notes:
        logits, predicted_timing = model(window_pitch, window_timing)
        logits = logits[0] / temperature
        if constraints.get("pitch_range"):
            low, high = constraints["pitch_range"]
            logits[(pitches < low) | (pitches > high)] = -torch.inf
        if constraints.get("repetition_penalty", 1.0) > 1.0:
            recent = window_pitch[0, -constraints["repetition_window"] :].unique()
            logits[recent] -= math.log(constraints["repetition_penalty"])
        if constraints.get("max_interval") is not None:
            too_far = (pitches - window_pitch[0, -1]).abs() > constraints["max_interval"]
            if not too_far.all():
                logits[too_far] = -torch.inf
        if torch.isinf(logits).all():
            raise ValueError("the sampling constraints exclude every pitch; widen pitch_range or max_interval")
        next_pitch = torch.multinomial(logits.softmax(-1), 1, generator=generator)
        next_timing = predicted_timing.clamp(0, 1)
        if new_pitch:  # the first new note's step is the gap from the seed, not new music
            elapsed += float(denormalise_timing(next_timing[0, :1].numpy(), timing_ranges["step_min"], timing_ranges["step_max"])[0])
        new_pitch.append(int(next_pitch))
        new_timing.append(next_timing[0].numpy())
        window_pitch = torch.cat([window_pitch[:, 1:], next_pitch[None]], dim=1)
        window_timing = torch.cat([window_timing[:, 1:], next_timing[:, None]], dim=1)
    return np.array(new_pitch, dtype=np.int64), np.array(new_timing, dtype=np.float32).reshape(-1, 2)


def notes_to_score(pitch: np.ndarray, timing: np.ndarray, timing_ranges: dict, velocity: int) -> Score:
    """Pitches and normalised (step, duration) → a score (steps accumulate from 0 s)."""
    step = denormalise_timing(timing[:, 0], timing_ranges["step_min"], timing_ranges["step_max"])
    duration = denormalise_timing(timing[:, 1], timing_ranges["duration_min"], timing_ranges["duration_max"])
    start = np.concatenate([[0.0], np.cumsum(step[1:])])
    return score_from_notes(pitch, start, duration, [velocity] * len(pitch))
