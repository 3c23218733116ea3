"""Excerpts of one length, so sets of pieces are compared like with like (no Kedro imports).

mgeval's features (pitch count, pitch range, …) grow with a piece's length, so a 30-note snippet
and a whole piece cannot be compared. Every set is cut into excerpts of the same number of
seconds before any comparison.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def cut_excerpts(notes: pd.DataFrame, lengths: dict[str, float], seconds: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Consecutive, non-overlapping excerpts of ``seconds`` from every piece of a note table.

    ``notes`` has ``piece_id`` and note columns in seconds (``start``, ``end``, ``step``,
    ``duration``, ``pitch``, ``velocity``; others are kept); ``lengths`` lists every piece with
    its length in seconds (a piece may end with a rest, or have no note at all). A piece of length L gives ``floor(L / seconds)`` excerpts; what follows the last
    whole excerpt is left out. A piece shorter than one excerpt counts once, whole, and is
    marked ``short``. In an excerpt, times start at 0, the notes that start in it are kept, and
    notes still sounding at its end are shortened.

    Returns the excerpts' notes (``excerpt_id`` = ``<piece_id>#<k>`` added) and one row per
    excerpt (``excerpt_id``, ``piece_id``, ``short``, ``notes``), which also lists excerpts
    without a note.
    """
    parts, index_rows = [], []
    by_piece = dict(tuple(notes.groupby("piece_id", sort=False)))
    for piece_id, length in lengths.items():
        piece = by_piece.get(piece_id, notes.iloc[:0])
        count = int(length // seconds)
        if count == 0:
            parts.append(piece.assign(excerpt_id=f"{piece_id}#0"))
            index_rows.append({"excerpt_id": f"{piece_id}#0", "piece_id": piece_id, "short": True, "notes": len(piece)})
            continue
        window = np.floor(piece["start"].to_numpy() / seconds).astype(int)
        for k in range(count):
            part, offset = piece[window == k], k * seconds
            part = part.assign(start=part["start"] - offset, end=np.minimum(part["end"], offset + seconds) - offset)
            part = part.assign(duration=part["end"] - part["start"], excerpt_id=f"{piece_id}#{k}")
            if len(part):
                part.iloc[0, part.columns.get_loc("step")] = 0.0  # the first note of an excerpt follows nothing
            parts.append(part)
            index_rows.append({"excerpt_id": f"{piece_id}#{k}", "piece_id": piece_id, "short": False, "notes": len(part)})
    columns = [*notes.columns, "excerpt_id"]
    excerpt_notes = pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)
    return excerpt_notes, pd.DataFrame(index_rows, columns=["excerpt_id", "piece_id", "short", "notes"])
