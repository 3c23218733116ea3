"""Prompts cut from real pieces at bar lines (no Kedro imports): the generation pipeline's Task 2
prompts, rebuilt the same way by ``--reproduce``."""

from __future__ import annotations

from symbolic_music.music.timeline import bar_starts, bars_from
from symbolic_music.music.vocabulary import Vocabulary


def prompt_bars(vocabulary: Vocabulary, strings: list[str], bar: int, bars: int) -> list[str]:
    """Base tokens of ``bars`` bars of a piece from bar ``bar`` on (with the tempo in effect)."""
    return bars_from(strings, bar_starts(strings, vocabulary.timeline()), bar, bars)


def continuation_prompts(vocabulary: Vocabulary, strings: list[str], prefix_bars: int, seconds: float) -> list[tuple[int, list[str], list[str]]]:
    """Where a piece can be continued: ``(bar, prompt, rest)`` for prompts of ``prefix_bars`` bars
    whose real continuation lasts at least ``seconds``, the first at bar 0 and each next one at
    the first bar after the previous real continuation (so none overlap). ``strings`` are the
    piece's base tokens; a prompt past bar 0 starts with the tempo in effect there."""
    timeline = vocabulary.timeline()
    starts = bar_starts(strings, timeline)
    end = timeline.end_seconds
    found, bar = [], 0
    while bar + prefix_bars < len(starts) and starts[bar + prefix_bars][1] + seconds <= end:
        prompt = bars_from(strings, starts, bar, prefix_bars)
        found.append((bar, prompt, list(strings[starts[bar + prefix_bars][0] :])))
        following = starts[bar + prefix_bars][1] + seconds
        bar = next((b for b, (_, start, _) in enumerate(starts) if start >= following), len(starts))
    return found
