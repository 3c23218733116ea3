"""The sustain pedal: how a piece's pedalling reaches the models (``data_engineering.pedal``), notes
as they sound under the pedal, and pedals written back as the control changes a synthesizer hears.

Performances (MAESTRO) hold notes with the sustain pedal: a key released while the pedal is down
keeps sounding until the pedal comes up. symusic reads the pedal (MIDI controller 64) into
``Track.pedals`` (one ``Pedal(time, duration)`` per press) and keeps the raw control changes in
``Track.controls``; it writes only control changes back to MIDI.

The modes of ``data_engineering.pedal``:

- ``ignore``: notes end at key release and the pedal is not modelled (the scores are unchanged);
- ``tokens``: miditok's ``Pedal``/``PedalOff`` tokens carry the pedal (``use_sustain_pedals``), and
  decoding writes it back as ``Pedal`` objects and CC64 control changes;
- ``extend``: every note held by the pedal is lengthened to when it stops sounding
  (``sustained``) before tokenizing, and the pedal itself is dropped.

Onsets, pitches and velocities are never changed: timing and dynamics stay the performance's.
"""

from __future__ import annotations

import numpy as np
from symusic import ControlChange, Score

PEDAL_MODES = ("ignore", "tokens", "extend")
SUSTAIN_PEDAL = 64  # MIDI controller number of the sustain (damper) pedal
PEDAL_DOWN, PEDAL_UP = 127, 0


def validate_pedal_mode(pedal: str) -> None:
    """Raise ``ValueError`` naming ``data_engineering.pedal`` unless it is a known mode."""
    if pedal not in PEDAL_MODES:
        raise ValueError(f"data_engineering.pedal must be one of {list(PEDAL_MODES)}, got {pedal!r}")


def _merged(starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Overlapping presses (e.g. pedals of merged tracks) joined into one, sorted by start. A press
    that starts exactly when another ends stays separate: the pedal came up, which damps the strings."""
    order = np.argsort(starts, kind="stable")
    starts, reach = starts[order], np.maximum.accumulate(ends[order])
    first = np.flatnonzero(np.concatenate([[True], starts[1:] >= reach[:-1]]))
    return starts[first], np.maximum.reduceat(reach, first)


def sustained(score: Score) -> Score:
    """A copy of ``score`` whose notes last as long as they sound with the sustain pedal.

    A note whose key is released while the pedal is down (release time inside a press,
    ``[down, up)``) ends when the pedal comes up, or earlier when the same key is struck again
    (the new stroke stops the old string), but never before its own release. Every other note,
    and every onset, pitch and velocity, is unchanged. The pedals and CC64 control changes are
    removed: the durations now carry them. Works in ticks or seconds; a track without pedals is
    left as it is. Applying it twice changes nothing more (a lengthened note ends at a pedal-up,
    which is outside the press).
    """
    result = score.copy()
    for track in result.tracks:
        if not len(track.pedals):
            continue
        if len(track.notes):
            notes, pedals = track.notes.numpy(), track.pedals.numpy()
            time, duration, pitch = notes["time"], notes["duration"], notes["pitch"]
            down, up = _merged(pedals["time"].astype(np.float64), (pedals["time"] + pedals["duration"]).astype(np.float64))
            release = (time + duration).astype(np.float64)
            press = np.searchsorted(down, release, side="right") - 1
            held = (press >= 0) & (release < up[np.maximum(press, 0)])
            # the next onset of the same pitch, if any
            order = np.lexsort((time, pitch))
            next_onset = np.full(len(time), np.inf)
            same = pitch[order][1:] == pitch[order][:-1]
            next_onset[order[:-1][same]] = time[order][1:][same]
            end = np.where(held, np.maximum(np.minimum(up[np.maximum(press, 0)], next_onset), release), release)
            lengthened = (end - time).astype(duration.dtype)
            track.notes = type(track.notes).from_numpy(time, lengthened, pitch, notes["velocity"])
        track.pedals = type(track.pedals)()
        track.controls = type(track.controls)([c for c in track.controls if c.number != SUSTAIN_PEDAL])
    return result


def apply_pedal(score: Score, pedal: str) -> Score:
    """``score`` as the models see it under ``data_engineering.pedal`` (see the module docstring):
    ``extend`` gives ``sustained(score)``; ``ignore`` and ``tokens`` give ``score`` itself (the
    tokenizer reads or ignores ``Track.pedals``)."""
    validate_pedal_mode(pedal)
    return sustained(score) if pedal == "extend" else score


def with_pedal_controls(score: Score) -> Score:
    """A copy of ``score`` whose ``Pedal`` objects are also CC64 control changes (down 127, up 0),
    so that a synthesizer, which reads MIDI, hears them: symusic writes no ``Pedal`` to MIDI.
    A track's CC64 changes are rebuilt from its pedals when it has any, and kept otherwise."""
    result = score.copy()
    for track in result.tracks:
        if not len(track.pedals):
            continue
        controls = [c for c in track.controls if c.number != SUSTAIN_PEDAL]
        for pedal in track.pedals:
            controls += [ControlChange(pedal.time, SUSTAIN_PEDAL, PEDAL_DOWN, ttype=score.ttype),
                         ControlChange(pedal.end, SUSTAIN_PEDAL, PEDAL_UP, ttype=score.ttype)]
        track.controls = type(track.controls)(sorted(controls, key=lambda c: c.time))
    return result
