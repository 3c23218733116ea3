"""Where a REMI token stream is in time, tracked token by token (no decoding, no Kedro, no torch).

The sampler feeds each new base token to a ``Timeline`` so it knows, at every step, the bar it is
in and how many seconds of music exist, without decoding the piece again. It follows miditok's
REMI decoder rule for rule (``miditok/tokenizations/remi.py``), so its seconds are those of the
decoded score, also for a sequence with grammar errors.
"""

from __future__ import annotations

BEATS_PER_BAR = 4  # REMI without time-signature tokens writes every bar in 4/4
PITCH_TYPES = ("Pitch", "PitchDrum")


class Timeline:
    """Bar, position and tempo map of a REMI stream, and the end of its last note.

    Times are ticks at ``ticks_per_beat`` (the tokenizer's time division: its largest
    ``beat_res`` value), converted to seconds through the tempo changes seen so far, and
    ``default_tempo`` (qpm) before the first, as miditok writes it. A note counts only as miditok decodes it: a Pitch followed right away
    by a Velocity and a Duration.
    """

    def __init__(self, ticks_per_beat: int, default_tempo: float) -> None:
        self.ticks_per_beat, self.default_tempo = ticks_per_beat, float(default_tempo)
        self.ticks_per_bar = BEATS_PER_BAR * ticks_per_beat
        self.bar = -1  # the first Bar token opens bar 0
        self.bar_tick = self.tick = self.end_tick = 0
        self.tempos: list[tuple[int, float]] = []
        self._sorted_tempos: list[tuple[int, float]] | None = []
        self._previous = ("", "")  # the types of the two tokens before the current one

    def seconds(self, tick: int) -> float:
        """Seconds at ``tick`` under the tempo changes seen so far (the later of two at one tick wins)."""
        if self._sorted_tempos is None:
            self._sorted_tempos = sorted(self.tempos, key=lambda change: change[0])
        seconds, last_tick, qpm = 0.0, 0, self.default_tempo
        for change_tick, change_qpm in self._sorted_tempos:
            if change_tick >= tick and change_tick > 0:
                break
            seconds += (change_tick - last_tick) * 60.0 / (qpm * self.ticks_per_beat)
            last_tick, qpm = change_tick, change_qpm
        return seconds + (tick - last_tick) * 60.0 / (qpm * self.ticks_per_beat)

    @property
    def now(self) -> float:
        """Seconds at the current position."""
        return self.seconds(self.tick)

    @property
    def end_seconds(self) -> float:
        """Seconds at which the last note so far ends."""
        return self.seconds(self.end_tick)

    @property
    def next_bar_tick(self) -> int:
        """Tick at which the bar after the current one starts (0 before the first bar)."""
        return self.bar_tick + self.ticks_per_bar if self.bar >= 0 else 0

    def feed(self, token: str) -> None:
        kind, _, value = token.partition("_")
        previous, self._previous = self._previous, (self._previous[1], kind)
        if kind == "Bar":
            self.bar += 1
            if self.bar > 0:
                self.tick = self.bar_tick + self.ticks_per_bar
            self.bar_tick = self.tick
        elif kind == "Position":
            self.bar = max(self.bar, 0)
            self.tick = self.bar_tick + int(value)
        elif kind == "Tempo":
            self.tempos.append((self.tick, float(value)))
            self._sorted_tempos = None
        elif kind == "TimeSig":
            numerator, denominator = map(int, value.split("/"))
            self.ticks_per_bar = numerator * self.ticks_per_beat * 4 // denominator
        elif kind == "Duration" and previous[0] in PITCH_TYPES and previous[1] == "Velocity":
            beats, sub, resolution = map(int, value.split("."))
            self.end_tick = max(self.end_tick, self.tick + (beats * resolution + sub) * self.ticks_per_beat // resolution)

    def feed_all(self, tokens: list[str]) -> Timeline:
        for token in tokens:
            self.feed(token)
        return self


def bar_starts(tokens: list[str], timeline: Timeline) -> list[tuple[int, float, str | None]]:
    """For every Bar token of a REMI stream: its index, the seconds at which the bar starts, and
    the Tempo token in effect there (``None`` before any)."""
    starts, tempo = [], None
    for index, token in enumerate(tokens):
        if token == "Bar_None":
            timeline.feed(token)
            starts.append((index, timeline.now, tempo))
            continue
        if token.startswith("Tempo_"):
            tempo = token
        timeline.feed(token)
    return starts


def bars_from(tokens: list[str], starts: list[tuple[int, float, str | None]], first: int, count: int | None = None) -> list[str]:
    """The tokens of ``count`` bars from bar ``first`` on (to the end when ``count`` is None), as
    a stream of their own: the tempo in effect at bar ``first`` is written at its start, as
    REMI writes a tempo (Bar, Position_0, Tempo), unless the bar begins with one."""
    begin = starts[first][0]
    end = starts[first + count][0] if count is not None and first + count < len(starts) else len(tokens)
    part = list(tokens[begin:end])
    tempo = starts[first][2]
    head = part[1:3]
    if tempo is None or first == 0 or any(t.startswith("Tempo_") for t in head):
        return part
    at = 2 if head[:1] == ["Position_0"] else 1
    return [*part[:at], *([] if at == 2 else ["Position_0"]), tempo, *part[at:]]
