"""data_engineering nodes. Inputs arrive from the catalog; nothing here opens a file."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import PurePosixPath

import pandas as pd
from symusic import Score

from symbolic_music.music.notes import merged_piano_score, notes_table
from symbolic_music.music.statistics import reference_statistics
from symbolic_music.music.tokens import build_tokenizer
from symbolic_music.music.vocabulary import Vocabulary
from symbolic_music.parallel import parallel_map

log = logging.getLogger(__name__)

REQUIRED_COLUMNS = ["canonical_composer", "canonical_title", "split", "year", "midi_filename"]
SPLITS = ("train", "validation", "test")


def piece_id_of(midi_filename: str) -> str:
    """The piece's id: its MIDI path inside the corpus folder, without suffix."""
    return str(PurePosixPath(midi_filename).with_suffix(""))


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


def load_scores(checked_pieces: pd.DataFrame, raw_midi: dict[str, Callable]) -> tuple[dict[str, Score], pd.DataFrame, dict]:
    """Piece table + MIDI loaders → ({piece_id: one-track piano Score}, kept pieces, quality report).

    A file symusic cannot parse, an empty file and a file with no notes are each skipped with a
    logged warning and an entry (file and reason) in the report; every other piece is kept.
    """
    scores, skipped = {}, []
    for row in checked_pieces.itertuples(index=False):
        try:
            score = raw_midi[row.piece_id]()
        except Exception as error:  # symusic raises RuntimeError; fsspec/IO errors are skips too
            reason = f"unreadable MIDI: {error}"
        else:
            score = merged_piano_score(score)
            if score.note_num() > 0:
                scores[row.piece_id] = score
                continue
            reason = "no notes"
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
        "pieces_per_split": {s: int((pieces["split"] == s).sum()) for s in SPLITS},
    }
    log.info("Loaded %d of %d pieces (%d skipped)", len(pieces), len(checked_pieces), len(skipped))
    return scores, pieces, report


def create_tokenizer(params: dict) -> Vocabulary:
    """``tokenizer`` parameters → the base vocabulary: a REMI tokenizer (untrained, no BPE, no composers)."""
    return Vocabulary(build_tokenizer(params["tokenizer"]))


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
