"""data_engineering nodes. Inputs arrive from the catalog; nothing here opens a file."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

import pandas as pd
from symusic import Score

from symbolic_music.music.corpus import MIN_GROUP_TO_HOLD_OUT, piece_id_of
from symbolic_music.music.notes import notes_table, piano_part
from symbolic_music.music.pedal import apply_pedal
from symbolic_music.music.statistics import reference_statistics
from symbolic_music.music.tokens import build_tokenizer
from symbolic_music.music.vocabulary import Vocabulary
from symbolic_music.parallel import parallel_map

log = logging.getLogger(__name__)

REQUIRED_COLUMNS = ["canonical_composer", "canonical_title", "split", "year", "midi_filename"]
SPLITS = ("train", "validation", "test")


def _apply_split_strategy(metadata: pd.DataFrame, split: dict) -> pd.DataFrame:
    strategy = split["strategy"]
    if strategy == "official":
        unknown = sorted(set(metadata["split"]) - set(SPLITS))
        if unknown:
            raise ValueError(f"metadata column 'split' has values {unknown}; expected {list(SPLITS)}")
        return metadata
    if strategy == "by_year":
        split_of_year = {int(year): name for name in SPLITS for year in split["by_year"][name]}
        assigned = metadata.assign(split=metadata["year"].astype(int).map(split_of_year))
        dropped = assigned["split"].isna().sum()
        if dropped:
            log.info("by_year split: %d pieces have a year in no list and are left out", dropped)
        return assigned.dropna(subset=["split"])
    raise ValueError(f"data_engineering.split.strategy must be 'official' or 'by_year', got {strategy!r}")


def validate_metadata(raw_metadata: pd.DataFrame, raw_midi: dict[str, Callable], params: dict) -> pd.DataFrame:
    """Metadata table (MAESTRO columns) + the MIDI folder's partitions → checked piece table.

    Raises ``ValueError`` naming every missing required column, and ``FileNotFoundError``
    naming every ``midi_filename`` that has no file. Applies the split strategy and adds
    ``piece_id``.
    """
    missing_columns = [c for c in REQUIRED_COLUMNS if c not in raw_metadata.columns]
    if missing_columns:
        raise ValueError(f"metadata is missing required columns: {missing_columns}")
    pieces = raw_metadata.assign(piece_id=raw_metadata["midi_filename"].map(piece_id_of))
    missing_files = sorted(pieces.loc[~pieces["piece_id"].isin(raw_midi.keys()), "midi_filename"])
    if missing_files:
        raise FileNotFoundError(
            f"{len(missing_files)} metadata rows name MIDI files that do not exist: " + ", ".join(missing_files)
        )
    pieces = _apply_split_strategy(pieces, params["split"])
    return pieces.rename(columns={"canonical_composer": "composer", "canonical_title": "title"})[
        ["piece_id", "composer", "title", "split", "year", "midi_filename"]
    ].reset_index(drop=True)


def unreadable_reason(error: Exception, midi_filename: str) -> str:
    """Why a MIDI file could not be loaded, naming it only by ``midi_filename`` (its path inside
    the corpus folder). Kedro's wrapper, which repeats the dataset's absolute ``filepath``, is
    dropped for the root cause, and any absolute path ending in the file's name is shortened to it."""
    while error.__cause__ is not None:
        error = error.__cause__
    absolute = r"(?:\w[\w+.-]*://)?(?:[A-Za-z]:)?/[^'\"\n]*?" + re.escape(midi_filename)
    return "unreadable MIDI: " + re.sub(absolute, lambda _: midi_filename, str(error) or type(error).__name__)


ONE_PIANO_TRACK = {"tracks": 1, "drum_tracks_dropped": 0, "piano_tracks": 1}  # files left out of track_handling


def load_scores(
    checked_pieces: pd.DataFrame, raw_midi: dict[str, Callable], params: dict
) -> tuple[dict[str, Score], pd.DataFrame, dict]:
    """Piece table + MIDI loaders → ({piece_id: one-track piano Score}, kept pieces, quality report).

    ``params["tracks"]`` makes the piano part (``music.notes.piano_part``): ``merge`` plays every
    pitched track on the piano, ``piano_only`` keeps General MIDI programs 0-7; drums are dropped.
    A file symusic cannot parse, an empty file, a file with no notes and (``piano_only``) a file
    with no piano track are each skipped with a logged warning and an entry (file and reason) in
    the report's ``skipped``; ``track_handling`` lists what was done to every kept file that was
    not already one piano track. Files are named by ``midi_filename``, never by absolute path.
    ``params["pedal"]`` prepares every piano part for the models (``music.pedal.apply_pedal``:
    under ``extend`` the notes held by the sustain pedal are lengthened).
    """
    scores, skipped, track_handling = {}, [], []
    for row in checked_pieces.itertuples(index=False):
        try:
            score = raw_midi[row.piece_id]()
        except Exception as error:  # symusic raises RuntimeError; fsspec/IO errors are skips too
            reason = unreadable_reason(error, row.midi_filename)
        else:
            score, summary = piano_part(score, params["tracks"])
            score = apply_pedal(score, params["pedal"])
            pitched = summary["tracks"] - summary["drum_tracks_dropped"]
            if score.note_num() > 0:
                scores[row.piece_id] = score
                if {k: summary[k] for k in ONE_PIANO_TRACK} != ONE_PIANO_TRACK:
                    track_handling.append({"midi_filename": row.midi_filename, **summary})
                continue
            among = f"{pitched} pitched track{'s' * (pitched != 1)}"
            reason = f"no piano track (General MIDI programs 0-7) among {among}" if pitched else "no notes"
        log.warning("Skipping %s: %s", row.midi_filename, reason)
        skipped.append({"midi_filename": row.midi_filename, "piece_id": row.piece_id, "reason": reason})
    pieces = checked_pieces[checked_pieces["piece_id"].isin(scores.keys())].reset_index(drop=True)
    pieces = pieces.assign(
        num_notes=[scores[p].note_num() for p in pieces["piece_id"]],
        duration=[float(scores[p].to("second").end()) for p in pieces["piece_id"]],
    )
    report = {
        "pieces_listed": int(len(checked_pieces)),
        "pieces_loaded": int(len(pieces)),
        "pieces_skipped": len(skipped),
        "skipped": skipped,
        "tracks_mode": params["tracks"],
        "track_handling": track_handling,
        "pedal_mode": params["pedal"],
        "pieces_per_split": {s: int((pieces["split"] == s).sum()) for s in SPLITS},
    }
    log.info("Loaded %d of %d pieces (%d skipped)", len(pieces), len(checked_pieces), len(skipped))
    return scores, pieces, report


def check_corpus_size(loaded_pieces: pd.DataFrame, data_quality_report: dict, params: dict, lstm_params: dict) -> pd.DataFrame:
    """Loaded pieces → the same table, once every split holds ``params["min_pieces"][split]``
    pieces that every model can use: pieces with more notes than the LSTM's window
    (``lstm_model.seq_length``), since a shorter one gives the LSTM nothing to predict.

    Raises ``ValueError`` naming the corpus folder (``params["raw_folder"]``), the pieces found
    and needed per split, and how many files were skipped. It runs after ``load_scores``, so the
    data-quality report that lists the skipped files is already saved.
    """
    lstm_seq_length = lstm_params["seq_length"]
    needed = {s: int(params["min_pieces"][s]) for s in SPLITS}
    usable = loaded_pieces[loaded_pieces["num_notes"] > lstm_seq_length]
    found = {s: int((usable["split"] == s).sum()) for s in SPLITS}
    if all(found[s] >= needed[s] for s in SPLITS):
        return loaded_pieces
    raise ValueError(
        f"Too few usable pieces in {params['raw_folder']}: found {len(usable)} "
        f"({', '.join(f'{s} {found[s]}' for s in SPLITS)}), need at least {sum(needed.values())} "
        f"({', '.join(f'{s} {needed[s]}' for s in SPLITS)}; data_engineering.min_pieces). "
        f"{data_quality_report['pieces_listed']} files were listed and {data_quality_report['pieces_skipped']} skipped "
        f"(see data_quality_report); a piece counts when it has more than {lstm_seq_length} notes (lstm_model.seq_length). "
        "Add MIDI files: in the midi_folder environment a label (subfolder) holds pieces out for "
        f"validation and test only from {MIN_GROUP_TO_HOLD_OUT} pieces up."
    )


def create_tokenizer(params: dict) -> Vocabulary:
    """``tokenizer`` and ``pedal`` parameters → the base vocabulary: a REMI tokenizer (untrained,
    no BPE, no composers), with pedal tokens under ``pedal: tokens``."""
    return Vocabulary(build_tokenizer(params["tokenizer"], params["pedal"]), pedal=params["pedal"])


def tokenize_pieces(
    scores: dict[str, Score], pieces: pd.DataFrame, tokenizer: Vocabulary, params: dict
) -> tuple[dict[str, list[int]], dict[str, list[int]], dict[str, list[int]]]:
    """Scores → token ids of every whole piece, one ``{piece_id: ids}`` dict per split
    (train, validation, test)."""
    ids = parallel_map(
        tokenizer.encode, [scores[p] for p in pieces["piece_id"]], params["num_workers"], "tokenize"
    )
    by_piece = dict(zip(pieces["piece_id"], ids))
    return tuple(
        {p: by_piece[p] for p in pieces.loc[pieces["split"] == split, "piece_id"]} for split in SPLITS
    )


def extract_notes(scores: dict[str, Score], pieces: pd.DataFrame, params: dict) -> pd.DataFrame:
    """Scores → one note table: ``piece_id, split, composer, pitch, velocity, start, end, step,
    duration`` (seconds), in piece order then onset order."""
    tables = parallel_map(notes_table, [scores[p] for p in pieces["piece_id"]], params["num_workers"], "note tables")
    labelled = [
        table.assign(piece_id=row.piece_id, split=row.split, composer=row.composer)
        for row, table in zip(pieces.itertuples(index=False), tables)
    ]
    columns = ["piece_id", "split", "composer", "pitch", "velocity", "start", "end", "step", "duration"]
    return pd.concat(labelled, ignore_index=True)[columns]


def compute_reference_statistics(notes: pd.DataFrame) -> tuple[dict, dict]:
    """Note table → reference statistics of the train split and of the test split."""
    return tuple(reference_statistics(notes[notes["split"] == split]) for split in ("train", "test"))
