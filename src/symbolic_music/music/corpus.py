"""The embedded corpus: scores bundled inside ``music21``, written out in MAESTRO v3's layout.

No Kedro imports here. ``build_music21_corpus`` writes ``<root>/<composer>/<piece>.midi`` and a
metadata table with MAESTRO's columns, so every pipeline reads it exactly as it reads MAESTRO.
"""

from __future__ import annotations

import hashlib
import logging
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
    ``validation`` share is validation, the rest train. Groups of fewer than five pieces go to
    train entirely, so that every held-out piece has train pieces of its composer beside it.
    """
    ordered = sorted(piece_ids, key=lambda pid: _stable_hash(pid, salt))
    n = len(ordered)
    if n < 5:
        return dict.fromkeys(ordered, "train")
    n_test = max(1, round(n * test))
    n_val = max(1, round(n * validation))
    splits = ["test"] * n_test + ["validation"] * n_val + ["train"] * (n - n_test - n_val)
    return dict(zip(ordered, splits))


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
    split_of = {}
    for _, group in metadata.groupby("canonical_composer"):
        split_of.update(assign_splits(list(group["midi_filename"]), validation, test, salt))
    metadata["split"] = metadata["midi_filename"].map(split_of)
    return metadata[MAESTRO_COLUMNS]
