"""data_engineering nodes. Inputs arrive from the catalog; nothing here opens a file."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

import numpy as np
import pandas as pd

from symbolic_music.music.corpus import MIN_GROUP_TO_HOLD_OUT, piece_id_of
from symbolic_music.music.notes import validate_tracks_mode
from symbolic_music.music.statistics import reference_statistics
from symbolic_music.music.tokens import build_tokenizer
from symbolic_music.music.vocabulary import Vocabulary
from symbolic_music.parallel import DASK_DEFAULTS, parallel_map, validate_executor
from symbolic_music.pipelines.data_engineering.per_file import (
    MidiFile,
    PieceResult,
    preprocess_file,
    worker_failure,
)

log = logging.getLogger(__name__)

REQUIRED_COLUMNS = ["canonical_composer", "canonical_title", "split", "year", "midi_filename"]
SPLITS = ("train", "validation", "test")
NOTE_TABLE_COLUMNS = ["piece_id", "split", "composer", "pitch", "velocity", "start", "end", "step", "duration"]


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


def preprocess_pieces(
    checked_pieces: pd.DataFrame, raw_midi: dict[str, Callable], tokenizer: Vocabulary, params: dict
) -> tuple[pd.DataFrame, dict, dict[str, list[int]], dict[str, pd.DataFrame]]:
    """Piece table + MIDI loaders + vocabulary → (kept pieces, quality report, {piece_id: token
    ids}, {piece_id: note table}).

    Each file is read, parsed, cut to its piano part, tokenized whole and turned into a note
    table by one worker (``per_file.preprocess_file``), through ``params["executor"]``:
    ``local`` (``num_workers`` processes, 1 = this one) or ``dask`` (``params["dask"]``: a
    scheduler's address, or a ``LocalCluster`` of ``n_workers``). Outputs are the same either way.

    ``params["tracks"]`` makes the piano part (``music.notes.piano_part``): ``merge`` plays every
    pitched track on the piano, ``piano_only`` keeps General MIDI programs 0-7; drums are dropped.
    A file symusic cannot parse, an empty file, a file with no notes and (``piano_only``) a file
    with no piano track are each skipped with a logged warning and an entry (file and reason) in
    the report's ``skipped``; so is a file whose Dask worker died on every try, or whose work
    raised on every try (``dask.retries``). ``track_handling`` lists what was done to every kept
    file that was not already one piano track. Files are named by ``midi_filename``, never by
    absolute path. Each piano part is prepared under the vocabulary's pedal mode (``create_tokenizer``
    gives it ``params["pedal"]``; ``music.pedal.apply_pedal``: under ``extend`` the notes held by
    the sustain pedal are lengthened, in the tokens and in the note table alike); the report
    records it as ``pedal_mode``.
    """
    validate_tracks_mode(params["tracks"])
    executor, dask = params.get("executor", "local"), {**DASK_DEFAULTS, **(params.get("dask") or {})}
    validate_executor(executor, dask)
    files = [MidiFile(row.piece_id, row.midi_filename, raw_midi[row.piece_id]) for row in checked_pieces.itertuples(index=False)]
    results: list[PieceResult] = parallel_map(
        preprocess_file, files, params["num_workers"], "parse, tokenize, notes",
        executor=executor, dask=dask, shared={"tokenizer": tokenizer, "tracks": params["tracks"]},
        on_error=functools.partial(worker_failure, tries=1 + int(dask["retries"])),
    )
    kept = {result.piece_id: result for result in results if result.skip_reason is None}
    skipped = []
    for result in results:
        if result.skip_reason is not None:
            log.warning("Skipping %s: %s", result.midi_filename, result.skip_reason)
            skipped.append({"midi_filename": result.midi_filename, "piece_id": result.piece_id, "reason": result.skip_reason})
    pieces = checked_pieces[checked_pieces["piece_id"].isin(kept.keys())].reset_index(drop=True)
    pieces = pieces.assign(
        num_notes=[kept[p].num_notes for p in pieces["piece_id"]],
        duration=[kept[p].duration for p in pieces["piece_id"]],
    )
    report = {
        "pieces_listed": int(len(checked_pieces)),
        "pieces_loaded": int(len(pieces)),
        "pieces_skipped": len(skipped),
        "skipped": skipped,
        "tracks_mode": params["tracks"],
        "track_handling": [entry for result in results if (entry := result.track_handling()) is not None],
        "pedal_mode": tokenizer.pedal,
        "pieces_per_split": {s: int((pieces["split"] == s).sum()) for s in SPLITS},
    }
    log.info("Loaded %d of %d pieces (%d skipped)", len(pieces), len(checked_pieces), len(skipped))
    return pieces, report, {p: r.ids for p, r in kept.items()}, {p: r.notes for p, r in kept.items()}


def check_corpus_size(loaded_pieces: pd.DataFrame, data_quality_report: dict, params: dict, lstm_params: dict) -> pd.DataFrame:
    """Loaded pieces → the same table, once every split holds ``params["min_pieces"][split]``
    pieces that every model can use: pieces with more notes than the LSTM's window
    (``lstm_model.seq_length``), since a shorter one gives the LSTM nothing to predict.

    Raises ``ValueError`` naming the corpus folder (``params["raw_folder"]``), the pieces found
    and needed per split, and how many files were skipped. It runs after ``preprocess_pieces``, so the
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


def split_tokens(
    piece_tokens: dict[str, list[int]], pieces: pd.DataFrame
) -> tuple[dict[str, list[int]], dict[str, list[int]], dict[str, list[int]]]:
    """Token ids of every whole piece → one ``{piece_id: ids}`` dict per split (train,
    validation, test), in piece order."""
    return tuple(
        {p: piece_tokens[p] for p in pieces.loc[pieces["split"] == split, "piece_id"]} for split in SPLITS
    )


def label_notes(piece_notes: dict[str, pd.DataFrame], pieces: pd.DataFrame) -> pd.DataFrame:
    """Note tables of every piece → one note table: ``piece_id, split, composer, pitch,
    velocity, start, end, step, duration`` (seconds), in piece order then onset order."""
    tables = [piece_notes[piece_id] for piece_id in pieces["piece_id"]]
    counts = [len(table) for table in tables]
    labels = {column: np.repeat(pieces[column].to_numpy(), counts) for column in ("piece_id", "split", "composer")}
    notes = pd.concat(tables, ignore_index=True)
    return pd.concat([pd.DataFrame(labels, index=notes.index), notes], axis=1)[NOTE_TABLE_COLUMNS]


def compute_reference_statistics(notes: pd.DataFrame) -> tuple[dict, dict]:
    """Note table → reference statistics of the train split and of the test split."""
    return tuple(reference_statistics(notes[notes["split"] == split]) for split in ("train", "test"))
