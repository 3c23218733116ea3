"""Baselines every model is measured against: a token n-gram, random notes, and a scale walk.

Plain functions, no Kedro imports. Likelihoods are in nats; callers convert to bits per note.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict

import numpy as np
import pandas as pd
from symusic import Score

from symbolic_music.music.notes import score_from_notes

MAJOR = [0, 2, 4, 5, 7, 9, 11]
MINOR = [0, 2, 3, 5, 7, 8, 10]


class NGram:
    """Token n-gram of ``order`` with add-``k`` smoothing and backoff: the next token is scored
    under the longest context (up to ``order - 1`` tokens) seen in training, normalised at that
    level, down to an add-``k`` unigram over the whole vocabulary."""

    def __init__(self, order: int, vocab_size: int, k: float) -> None:
        if order < 1:
            raise ValueError(f"n-gram order must be at least 1, got {order}")
        self.order, self.vocab_size, self.k = order, vocab_size, k
        self.counts: dict[tuple, Counter] = defaultdict(Counter)

    def fit(self, sequences: list[list[int]]) -> NGram:
        for sequence in sequences:
            for i in range(1, len(sequence)):
                for n in range(0, self.order):
                    if i - n < 0:
                        break
                    self.counts[tuple(sequence[i - n : i])][sequence[i]] += 1
        return self

    def _context(self, history: list[int]) -> tuple:
        for n in range(min(self.order - 1, len(history)), -1, -1):
            context = tuple(history[len(history) - n :]) if n else ()
            if context in self.counts:
                return context
        return ()

    def log_prob(self, history: list[int], token: int) -> float:
        counts = self.counts[self._context(history)]
        return math.log((counts[token] + self.k) / (sum(counts.values()) + self.k * self.vocab_size))

    def nll(self, sequences: list[list[int]]) -> tuple[float, int]:
        """Summed NLL (nats) of every token after the first of each sequence, and their count."""
        total, count = 0.0, 0
        for sequence in sequences:
            for i in range(1, len(sequence)):
                total -= self.log_prob(sequence[max(0, i - self.order + 1) : i], sequence[i])
                count += 1
        return total, count

    def sample(self, prompt: list[int], max_tokens: int, stop: int, rng: np.random.Generator) -> list[int]:
        """Sample up to ``max_tokens`` new tokens after ``prompt`` (stops at ``stop``)."""
        tokens = list(prompt)
        for _ in range(max_tokens):
            counts = self.counts[self._context(tokens[-(self.order - 1) :] if self.order > 1 else [])]
            probabilities = np.full(self.vocab_size, self.k, dtype=float)
            for token, count in counts.items():
                probabilities[token] += count
            token = int(rng.choice(self.vocab_size, p=probabilities / probabilities.sum()))
            if token == stop:
                break
            tokens.append(token)
        return tokens[len(prompt) :]


def random_piece(num_notes: int, pitch_range: tuple[int, int], train_notes: pd.DataFrame, rng: np.random.Generator) -> Score:
    """Uniform pitches in ``[low, high)``; step, duration and velocity drawn from the train
    split's marginal distributions (rows sampled independently)."""
    pitch = rng.integers(pitch_range[0], pitch_range[1], num_notes)
    step = rng.choice(train_notes["step"].to_numpy(), num_notes)
    duration = rng.choice(train_notes["duration"].to_numpy(), num_notes)
    velocity = rng.choice(train_notes["velocity"].to_numpy(), num_notes)
    return score_from_notes(pitch, np.cumsum(step) - step[0], duration, velocity)


def rule_based_piece(num_notes: int, tonic: int, mode: str, settings: dict, rng: np.random.Generator) -> Score:
    """A random walk over the scale degrees of ``tonic`` (MIDI pitch) in ``mode`` (major/minor):
    moves of -2..+2 degrees with ``settings['move_weights']`` (stepwise preferred), kept within
    ``settings['octaves']`` octaves around the tonic; durations (seconds) from
    ``settings['durations']``, played legato at ``settings['velocity']``."""
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
    return score_from_notes(pitch, start, duration, [settings["velocity"]] * num_notes)


def scale_pitch_classes(tonic: int, mode: str) -> set[int]:
    """Pitch classes of the scale (for checking rule-based output)."""
    return {(tonic + step) % 12 for step in (MAJOR if mode == "major" else MINOR)}
