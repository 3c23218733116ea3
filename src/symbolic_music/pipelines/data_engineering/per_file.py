"""data_engineering's per-file work, as one worker (a local process or a Dask worker) does it:
read and parse one MIDI file, keep its piano part, tokenize it and extract its notes."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
from symusic import Score

from symbolic_music.music.notes import notes_table, piano_part
from symbolic_music.music.pedal import apply_pedal
from symbolic_music.music.vocabulary import Vocabulary

ONE_PIANO_TRACK = {"tracks": 1, "drum_tracks_dropped": 0, "piano_tracks": 1}  # files left out of track_handling


@dataclass(frozen=True)
class MidiFile:
    """One file of the corpus: its piece id, its path inside the corpus folder, and a
    no-argument loader returning a ``symusic.Score`` (the catalog's partition loader). It must
    pickle to reach a worker process."""

    piece_id: str
    midi_filename: str
    load: Callable[[], Score]


@dataclass
class PieceResult:
    """What the per-file work returns: a kept piece (``skip_reason is None``) with its whole
    token ids, its note table (``music.notes.notes_table``: seconds), its note count, its
    duration in seconds and the ``piano_part`` summary; or a skipped file with its reason."""

    piece_id: str
    midi_filename: str
    ids: list[int] | None = None
    notes: pd.DataFrame | None = None
    num_notes: int = 0
    duration: float = 0.0
    tracks: dict | None = None
    skip_reason: str | None = None

    def track_handling(self) -> dict | None:
        """The data-quality report's ``track_handling`` entry, or ``None`` for one piano track."""
        if self.tracks is None or {k: self.tracks[k] for k in ONE_PIANO_TRACK} == ONE_PIANO_TRACK:
            return None
        return {"midi_filename": self.midi_filename, **self.tracks}


def shorten_paths(text: str, midi_filename: str) -> str:
    """``text`` with any absolute path (or URL) ending in ``midi_filename`` shortened to it, so a
    file is named only by its path inside the corpus folder."""
    absolute = r"(?:\w[\w+.-]*://)?(?:[A-Za-z]:)?/[^'\"\n]*?" + re.escape(midi_filename)
    return re.sub(absolute, lambda _: midi_filename, text)


def unreadable_reason(error: Exception, midi_filename: str) -> str:
    """Why a MIDI file could not be loaded, naming it only by ``midi_filename`` (its path inside
    the corpus folder). Kedro's wrapper, which repeats the dataset's absolute ``filepath``, is
    dropped for the root cause, and any absolute path ending in the file's name is shortened to it."""
    while error.__cause__ is not None:
        error = error.__cause__
    return "unreadable MIDI: " + shorten_paths(str(error) or type(error).__name__, midi_filename)


def preprocess_file(file: MidiFile, tokenizer: Vocabulary, tracks: str) -> PieceResult:
    """Parse ``file``, make its piano part (``music.notes.piano_part`` with ``tracks``, a mode
    already checked) prepared under the vocabulary's pedal mode (``music.pedal.apply_pedal``), then
    tokenize the whole piece and extract its notes.

    A file symusic cannot parse (or its loader cannot read), an empty file, a file with no
    notes and (``piano_only``) a file with no piano track come back skipped with their reason;
    nothing is raised for them.
    """
    try:
        score = file.load()
    except Exception as error:  # symusic raises RuntimeError; fsspec/IO errors are skips too
        return PieceResult(file.piece_id, file.midi_filename, skip_reason=unreadable_reason(error, file.midi_filename))
    score, summary = piano_part(score, tracks)
    score = apply_pedal(score, tokenizer.pedal)
    if score.note_num() == 0:
        pitched = summary["tracks"] - summary["drum_tracks_dropped"]
        among = f"{pitched} pitched track{'s' * (pitched != 1)}"
        reason = f"no piano track (General MIDI programs 0-7) among {among}" if pitched else "no notes"
        return PieceResult(file.piece_id, file.midi_filename, skip_reason=reason)
    return PieceResult(
        file.piece_id,
        file.midi_filename,
        ids=tokenizer.encode(score),
        notes=notes_table(score),
        num_notes=int(score.note_num()),
        duration=float(score.to("second").end()),
        tracks=summary,
    )


def worker_failure(file: MidiFile, error: BaseException, tries: int) -> PieceResult:
    """The skipped result of a file whose Dask task failed for good: its worker died on each
    try (``KilledWorker``; the scheduler's ``allowed-failures`` counts them), or the work raised
    on each of its ``tries``."""
    if type(error).__name__ == "KilledWorker":
        reason = "a Dask worker died while processing it, on each try (KilledWorker)"
    else:
        reason = f"failed on a worker after {tries} tries: {type(error).__name__}: {shorten_paths(str(error), file.midi_filename)}"
    return PieceResult(file.piece_id, file.midi_filename, skip_reason=reason)
