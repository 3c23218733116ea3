"""Corpora in MAESTRO v3's layout: the scores bundled inside ``music21``, and any folder of MIDI.

No Kedro imports here. ``build_music21_corpus`` writes ``<root>/<composer>/<piece>.midi`` and
``read_midi_folder`` reads ``<root>/<label>/<piece>.mid``; both return a metadata table with
MAESTRO's columns, so every pipeline reads them exactly as it reads MAESTRO.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

import pandas as pd
from tqdm.auto import tqdm

from symbolic_music.music.notes import merged_piano_score

log = logging.getLogger(__name__)

MAESTRO_COLUMNS = [
    "canonical_composer",
    "canonical_title",
    "split",
    "year",
    "midi_filename",
    "audio_filename",
    "duration",
]
SCORE_EXTENSIONS = ("mxl", "musicxml", "xml", "krn")
MIDI_SUFFIXES = (".mid", ".midi")  # compared in lower case: .MID and .Midi count too
UNKNOWN_LABEL = "unknown"  # the label of files at a MIDI folder's top level
MIN_GROUP_TO_HOLD_OUT = 5  # a composer or label with fewer pieces goes to train entirely


def piece_id_of(midi_filename: str) -> str:
    """The piece's id: its MIDI path inside the corpus folder, without suffix."""
    return str(PurePosixPath(midi_filename).with_suffix(""))


def midi_files(relative_paths: Iterable[str]) -> dict[str, str]:
    """``{piece_id: relative path}`` of the MIDI files among ``relative_paths`` (POSIX paths
    inside a corpus folder), sorted by path.

    A MIDI file has the suffix ``.mid`` or ``.midi`` in any case. Hidden files and anything in a
    hidden folder (``.DS_Store``, macOS's ``._piece.mid``, ``.git/``) are left out, as is every
    other file. Raises ``ValueError`` naming the files when two would be one piece
    (``a/x.mid`` beside ``a/x.MIDI``).
    """
    found: dict[str, list[str]] = {}
    for path in sorted(map(PurePosixPath, relative_paths)):
        if path.suffix.lower() in MIDI_SUFFIXES and not any(part.startswith(".") for part in path.parts):
            found.setdefault(piece_id_of(str(path)), []).append(str(path))
    clashes = [paths for paths in found.values() if len(paths) > 1]
    if clashes:
        raise ValueError(f"MIDI files differ only in their suffix, so they would be one piece; rename one of each: {clashes}")
    return {piece_id: paths[0] for piece_id, paths in found.items()}


def _stable_hash(text: str, salt: str) -> str:
    return hashlib.md5(f"{salt}:{text}".encode()).hexdigest()


def select_pieces(corpus_key: str, max_pieces: int, salt: str) -> list[Path]:
    """Up to ``max_pieces`` score files of one music21 composer, a deterministic spread.

    A movement stored twice (``.krn`` and ``.mxl``) counts once; MusicXML is preferred.
    """
    from music21 import corpus

    by_stem: dict[str, Path] = {}
    for path in sorted(map(Path, corpus.getComposer(corpus_key, fileExtensions=SCORE_EXTENSIONS))):
        stem = str(path.with_suffix(""))
        if stem not in by_stem or path.suffix != ".krn":
            by_stem[stem] = path
    paths = sorted(by_stem.values(), key=lambda p: _stable_hash(p.name + str(p.parent.name), salt))
    return paths[:max_pieces]


def assign_splits(piece_ids: list[str], validation: float, test: float, salt: str) -> dict[str, str]:
    """Deterministic split by piece: hash-ordered, the first ``test`` share is test, the next
    ``validation`` share is validation, the rest train. Groups of fewer than
    ``MIN_GROUP_TO_HOLD_OUT`` (5) pieces go to train entirely, so that every held-out piece has
    train pieces of its composer beside it.
    """
    ordered = sorted(piece_ids, key=lambda pid: _stable_hash(pid, salt))
    n = len(ordered)
    if n < MIN_GROUP_TO_HOLD_OUT:
        return dict.fromkeys(ordered, "train")
    n_test = max(1, round(n * test))
    n_val = max(1, round(n * validation))
    splits = ["test"] * n_test + ["validation"] * n_val + ["train"] * (n - n_test - n_val)
    return dict(zip(ordered, splits))


def assign_splits_per_group(piece_ids: list[str], groups: list[str], validation: float, test: float, salt: str) -> dict[str, str]:
    """``assign_splits`` within each group (``groups[i]`` is the composer or label of
    ``piece_ids[i]``), so every group large enough has held-out pieces and no group's split
    depends on another group's pieces."""
    members: dict[str, list[str]] = {}
    for piece_id, group in zip(piece_ids, groups):
        members.setdefault(group, []).append(piece_id)
    return {pid: split for ids in members.values() for pid, split in assign_splits(ids, validation, test, salt).items()}


def _read_midi(path: Path) -> tuple[float, bool]:
    """(duration in seconds, whether it has pitched notes) of one MIDI file; (0.0, False) if
    symusic cannot read it."""
    from symusic import Score

    try:
        score = Score(str(path))
    except Exception:  # symusic raises RuntimeError on corrupt, empty and non-MIDI files
        return 0.0, False
    return float(score.to("second").end()), any(len(t.notes) for t in score.tracks if not t.is_drum)


def read_midi_folder(root: Path, validation: float, test: float, salt: str) -> pd.DataFrame:
    """The metadata table (MAESTRO's columns) of every MIDI file under ``root``, inferred.

    ``canonical_composer`` is the file's first folder under ``root`` (``unknown`` at the top
    level); ``canonical_title`` its stem; ``year`` 0 (a folder has no recording year);
    ``midi_filename`` its path inside ``root``, real suffix kept; ``duration`` in seconds, 0 for a
    file symusic cannot read. ``split`` comes from ``assign_splits`` per label over the files
    with pitched notes, hashed on the piece id, so a file's split never depends on files of
    other labels; unreadable and note-less files are put in train, never holding a held-out
    place, and data_engineering skips and reports them. An empty or missing ``root`` gives an
    empty table.
    """
    paths = midi_files(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()) if root.is_dir() else {}
    rows = []
    for piece_id, relative in paths.items():
        duration, has_notes = _read_midi(root / relative)
        parts = PurePosixPath(relative).parts
        rows.append({
            "canonical_composer": parts[0] if len(parts) > 1 else UNKNOWN_LABEL,
            "canonical_title": PurePosixPath(relative).stem,
            "year": 0,
            "midi_filename": relative,
            "audio_filename": "",
            "duration": duration,
            "piece_id": piece_id,
            "has_notes": has_notes,
        })
    table = pd.DataFrame(rows, columns=[*MAESTRO_COLUMNS, "piece_id", "has_notes"])
    usable = table[table["has_notes"].astype(bool)]
    split_of = assign_splits_per_group(list(usable["piece_id"]), list(usable["canonical_composer"]), validation, test, salt)
    table["split"] = table["piece_id"].map(split_of).fillna("train")
    return table[MAESTRO_COLUMNS]


def export_score(path: Path) -> bytes:
    """Parse one music21 score and return it as MIDI bytes (music21's default tempo if none)."""
    from music21 import converter
    from music21.midi.translate import streamToMidiFile

    return streamToMidiFile(converter.parse(path)).writestr()


def build_music21_corpus(root: Path, composers: dict[str, dict], validation: float, test: float, salt: str) -> pd.DataFrame:
    """Convert the chosen music21 scores to MIDI under ``root`` and return the metadata table.

    ``composers`` maps a music21 corpus key (``bach``) to ``{name, max_pieces, year}``. ``year``
    stands in for MAESTRO's recording year (scores have none): a year of the composer's working
    life, so the ``by_year`` split strategy still has something to group on. A score music21
    cannot read or that exports no notes is logged and left out.
    """
    from symusic import Score

    rows = []
    jobs = [(key, spec, path) for key, spec in composers.items() for path in select_pieces(key, spec["max_pieces"], salt)]
    for key, spec, path in tqdm(jobs, desc="music21 → MIDI", unit="score"):
        relative = PurePosixPath(key) / f"{path.parent.name}_{path.stem}.midi" if path.parent.name != key else PurePosixPath(key) / f"{path.stem}.midi"
        try:
            midi = export_score(path)
            score = merged_piano_score(Score.from_midi(midi))
        except Exception as error:  # music21 raises many types on odd scores
            log.warning("Skipping music21 score %s: %s", path, error)
            continue
        if score.note_num() == 0:
            log.warning("Skipping music21 score %s: no notes", path)
            continue
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(midi)
        rows.append(
            {
                "canonical_composer": spec["name"],
                "canonical_title": str(relative.with_suffix("").name).replace("_", " "),
                "year": int(spec["year"]),
                "midi_filename": str(relative),
                "audio_filename": "",
                "duration": float(score.to("second").end()),
            }
        )
    metadata = pd.DataFrame(rows)
    split_of = assign_splits_per_group(list(metadata["midi_filename"]), list(metadata["canonical_composer"]), validation, test, salt)
    metadata["split"] = metadata["midi_filename"].map(split_of)
    return metadata[MAESTRO_COLUMNS]
