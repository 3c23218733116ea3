"""Note-level baselines every model is measured against: random notes and a scale walk.

Plain functions, no Kedro imports. The token n-gram baseline is in ``ngram.py``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from symusic import Score

from symbolic_music.music.notes import score_from_notes

MAJOR = [0, 2, 4, 5, 7, 9, 11]
MINOR = [0, 2, 3, 5, 7, 8, 10]


def _notes_until(steps: np.ndarray, seconds: float) -> int:
    """How many of these onset steps (the first at 0 s) start before ``seconds``."""
    onsets = np.cumsum(steps) - steps[0]
    return int(np.searchsorted(onsets, seconds, side="left"))


def random_piece(seconds: float, pitch_range: tuple[int, int], train_notes: pd.DataFrame, rng: np.random.Generator) -> Score:
    """``seconds`` of notes (a note still sounding at the end is shortened): uniform pitches in
    ``[low, high)``; step, duration and velocity drawn from the train split's marginal
    distributions (rows sampled independently)."""
    steps = train_notes["step"].to_numpy()
    draws = int(seconds / max(steps.mean(), 1e-3) * 2) + 16
    step = rng.choice(steps, draws)
    while _notes_until(step, seconds) == len(step):  # steps too short to cover the length yet
        step = np.concatenate([step, rng.choice(steps, draws)])
    count = _notes_until(step, seconds)
    pitch = rng.integers(pitch_range[0], pitch_range[1], count)
    start = (np.cumsum(step) - step[0])[:count]
    duration = np.minimum(rng.choice(train_notes["duration"].to_numpy(), count), seconds - start)
    velocity = rng.choice(train_notes["velocity"].to_numpy(), count)
    return score_from_notes(pitch, start, duration, velocity)


def rule_based_piece(seconds: float, tonic: int, mode: str, settings: dict, rng: np.random.Generator) -> Score:
    """A random walk over the scale degrees of ``tonic`` (MIDI pitch) in ``mode`` (major/minor),
    ``seconds`` long (the last note is shortened to end there): moves of -2..+2 degrees with ``settings['move_weights']``
    (stepwise preferred), kept within ``settings['octaves']`` octaves around the tonic;
    durations (seconds) from ``settings['durations']``, played legato at ``settings['velocity']``."""
    num_notes = int(np.ceil(seconds / min(settings["durations"]))) + 1
    scale = MAJOR if mode == "major" else MINOR
    span = len(scale) * settings["octaves"]
    moves = np.array([-2, -1, 0, 1, 2])
    weights = np.array(settings["move_weights"], dtype=float)
    degree, degrees = span // 2, []
    for _ in range(num_notes):
        degrees.append(degree)
        degree = int(np.clip(degree + rng.choice(moves, p=weights / weights.sum()), 0, span - 1))
    offset = settings["octaves"] // 2
    pitch = [tonic + 12 * (d // len(scale) - offset) + scale[d % len(scale)] for d in degrees]
    duration = rng.choice(settings["durations"], num_notes)
    start = np.concatenate([[0.0], np.cumsum(duration)[:-1]])
    count = int(np.searchsorted(start, seconds, side="left"))
    duration = np.minimum(duration[:count], seconds - start[:count])
    return score_from_notes(pitch[:count], start[:count], duration, [settings["velocity"]] * count)


def scale_pitch_classes(tonic: int, mode: str) -> set[int]:
    """Pitch classes of the scale (for checking rule-based output)."""
    return {(tonic + step) % 12 for step in (MAJOR if mode == "major" else MINOR)}
