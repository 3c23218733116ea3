"""Notes out of MIDI: one piano track per piece, and a vectorised note table in seconds.

The single source of note extraction for data_engineering, evaluation and the notebooks.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from symusic import Note, Score, Tempo, Track

NOTE_COLUMNS = ["pitch", "velocity", "start", "end", "step", "duration"]
PIANO_PROGRAMS = range(8)  # General MIDI 0-7: grand, bright, electric grand, honky-tonk, 2 electric pianos, harpsichord, clavinet
TRACK_MODES = ("merge", "piano_only")


def merged_piano_score(score: Score, tracks: list[Track] | None = None) -> Score:
    """All pitched notes and pedals of ``score`` in one piano track (program 0), in ticks.

    ``tracks`` (default: every track of ``score``) are the tracks merged; drum tracks among them
    are dropped. Tempos, time and key signatures are kept. A score with no pitched notes comes
    back with one empty track.
    """
    merged = Track(name="Piano", program=0, is_drum=False)
    for track in score.tracks if tracks is None else tracks:
        if track.is_drum:
            continue
        merged.notes.extend(track.notes)
        merged.pedals.extend(track.pedals)
    merged.notes.sort()
    merged.pedals.sort()
    result = Score(score.ticks_per_quarter)
    result.tempos = score.tempos.copy()
    result.time_signatures = score.time_signatures.copy()
    result.key_signatures = score.key_signatures.copy()
    result.tracks.append(merged)
    return result


def validate_tracks_mode(tracks: str) -> None:
    """Raise ``ValueError`` naming ``data_engineering.tracks`` unless it is a known mode."""
    if tracks not in TRACK_MODES:
        raise ValueError(f"data_engineering.tracks must be one of {list(TRACK_MODES)}, got {tracks!r}")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def piano_part(score: Score, tracks: str = "merge") -> tuple[Score, dict]:
    """One piano track out of a score of any number of tracks, and a summary of what was done.

    ``tracks="merge"`` merges every pitched track into the piano part; ``"piano_only"`` keeps
    only the tracks whose General MIDI program is a piano (0-7). Drum tracks are always dropped.
    The summary counts tracks that hold notes: ``{"tracks", "drum_tracks_dropped", "piano_tracks",
    "kept"}``, ``kept`` in words ("merged 4 tracks", "kept 1 piano track of 4": of the pitched
    tracks). With no piano track under ``piano_only`` the score comes back with no notes.
    """
    validate_tracks_mode(tracks)
    sounding = [track for track in score.tracks if len(track.notes)]
    pitched = [track for track in sounding if not track.is_drum]
    piano = [track for track in pitched if track.program in PIANO_PROGRAMS]
    # pedal-only tracks have no notes but still belong to the part they were recorded with
    kept = None if tracks == "merge" else [t for t in score.tracks if not t.is_drum and t.program in PIANO_PROGRAMS]
    summary = {
        "tracks": len(sounding),
        "drum_tracks_dropped": len(sounding) - len(pitched),
        "piano_tracks": len(piano),
        "kept": f"merged {_plural(len(pitched), 'track')}" if tracks == "merge"
        else f"kept {_plural(len(piano), 'piano track')} of {len(pitched)}",
    }
    return merged_piano_score(score, kept), summary


def notes_table(score: Score) -> pd.DataFrame:
    """One row per note of all pitched tracks: ``pitch, velocity, start, end, step, duration``.

    Times are seconds (tempo map applied). Rows are in onset order, then pitch, which is how
    polyphony is flattened. ``step`` is the onset gap to the previous note (0 for the first).
    An empty score gives an empty table with these columns.
    """
    seconds = score.to("second") if score.ttype != "Second" else score
    arrays = [track.notes.numpy() for track in seconds.tracks if not track.is_drum and len(track.notes)]
    if not arrays:
        return pd.DataFrame({column: pd.Series(dtype=float) for column in NOTE_COLUMNS})
    pitch = np.concatenate([a["pitch"] for a in arrays]).astype(np.int64)
    velocity = np.concatenate([a["velocity"] for a in arrays]).astype(np.int64)
    start = np.concatenate([a["time"] for a in arrays]).astype(np.float64)
    duration = np.concatenate([a["duration"] for a in arrays]).astype(np.float64)
    order = np.lexsort((pitch, start))
    pitch, velocity, start, duration = pitch[order], velocity[order], start[order], duration[order]
    step = np.diff(start, prepend=start[0])
    return pd.DataFrame(
        {"pitch": pitch, "velocity": velocity, "start": start, "end": start + duration, "step": step, "duration": duration}
    )


def score_from_notes(pitch, start, duration, velocity, ticks_per_quarter: int = 480, bpm: float = 120.0) -> Score:
    """A one-track piano score (ticks) from note arrays in seconds, at a fixed tempo."""
    ticks_per_second = ticks_per_quarter * bpm / 60
    score = Score(ticks_per_quarter)
    score.tempos.append(Tempo(0, bpm))
    track = Track(name="Piano", program=0, is_drum=False)
    for p, s, d, v in zip(pitch, start, duration, velocity):
        track.notes.append(Note(int(round(s * ticks_per_second)), max(1, int(round(d * ticks_per_second))), int(p), int(v)))
    track.notes.sort()
    score.tracks.append(track)
    return score


def cut_score(score: Score, start: int, end: int | None = None) -> Score:
    """The part of ``score`` between ticks ``start`` and ``end``, moved to start at 0: notes that
    begin in ``[start, end)`` are kept, and those still sounding at ``end`` are shortened to end
    there. The tempo in effect at ``start`` is kept at 0. ``end=None`` keeps everything after ``start``."""
    end = score.end() + 1 if end is None else end
    part = score.clip(start, end, clip_end=False)
    for track in part.tracks:
        for note in track.notes:
            note.duration = min(note.duration, end - note.time)
    return part.shift_time(-start) if start else part


def first_seconds(score: Score, seconds: float) -> Score:
    """The first ``seconds`` of a tick score (tempo map applied), as a tick score: notes that begin
    before ``seconds`` are kept, shortened to end there. A shorter score comes back whole."""
    return cut_score(score.to("second"), 0.0, seconds).to("tick")
