"""Is it copying? The longest run of notes a piece shares verbatim with the training split.

A piece becomes a sequence of symbols, one per consecutive note pair (``note_symbols``). A
training index (``CopyIndex``) hashes every symbol n-gram of the training split once; checking a
piece then costs about its length plus the matches it extends. Runs are always verified symbol by
symbol, so a hash collision can never report a copy that is not there.

Counting: ``k`` matching consecutive symbols are ``k + 1`` matching consecutive notes. A run needs
at least one matching symbol (two notes); a piece with no matching pair reports 0 notes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import numpy as np
import pandas as pd

TOGETHER_SECONDS = 0.03  # onsets closer than this are one chord (performed chords spread ~10-30 ms)
BINS_PER_OCTAVE = 2  # an IOI bin spans a factor of sqrt(2)
_IOI_CLASSES = 64
_MAX_INTERVAL = 127
_SEPARATOR = -1  # between training pieces; never equal to a real symbol
_HASH_BASE = np.uint64(0x9E3779B97F4A7C15)


def note_symbols(
    notes: pd.DataFrame, together_seconds: float = TOGETHER_SECONDS, bins_per_octave: int = BINS_PER_OCTAVE
) -> tuple[np.ndarray, np.ndarray]:
    """``(symbols, onsets)`` of one piece: a symbol per consecutive note pair, and the onset in
    seconds of each pair's first note.

    Notes are taken in onset order, then pitch (``notes_table``'s flattening of chords); the table
    is sorted that way here, so its row order does not matter. A symbol encodes

    - the pitch interval in semitones (clipped to +-127), so a transposed copy matches, and
    - the inter-onset interval (IOI) on a log scale: class 0 when the onsets are less than
      ``together_seconds`` apart (a chord), else ``round(bins_per_octave * log2(ioi))``, i.e.
      bins centred on powers of two seconds, each a factor ``2 ** (1 / bins_per_octave)`` wide.

    Why a log scale rather than a fixed quantum: the tolerance is relative, so a 10 % timing
    deviation means the same at a 16th note as at a half note, and 8th, dotted 8th and quarter
    (ratios 1, 1.5, 2) stay distinct at any tempo. A fixed 62.5 ms quantum would split every
    slow note on rubato and merge fast ones. IOIs are absolute, so a copy played at another tempo
    shifts bins and is not found (pitch transposition is the augmentation this project uses).

    Symbols are non-negative ints below ``255 * 64``. Fewer than two notes give empty arrays.
    """
    order = np.lexsort((notes["pitch"].to_numpy(), notes["start"].to_numpy()))
    pitch = notes["pitch"].to_numpy(dtype=np.int64)[order]
    start = notes["start"].to_numpy(dtype=np.float64)[order]
    return _pair_symbols(pitch, start, together_seconds, bins_per_octave), start[:-1]


def _pair_symbols(pitch: np.ndarray, start: np.ndarray, together_seconds: float, bins_per_octave: int) -> np.ndarray:
    if len(pitch) < 2:
        return np.zeros(0, dtype=np.int64)
    interval = np.clip(np.diff(pitch), -_MAX_INTERVAL, _MAX_INTERVAL) + _MAX_INTERVAL
    ioi = np.diff(start)
    lowest = np.rint(bins_per_octave * np.log2(together_seconds))
    level = np.rint(bins_per_octave * np.log2(np.maximum(ioi, together_seconds))) - lowest
    ioi_class = np.where(ioi < together_seconds, 0, 1 + np.clip(level, 0, _IOI_CLASSES - 2)).astype(np.int64)
    return interval * _IOI_CLASSES + ioi_class


def _gram_hashes(symbols: np.ndarray, max_length: int) -> list[np.ndarray]:
    """Polynomial hashes (uint64, wrapping) of every gram of 1..``max_length`` symbols; entry
    ``L - 1`` has one hash per start position, ``len(symbols) - L + 1`` of them."""
    level = (symbols + 2).astype(np.uint64)  # the separator hashes apart from every symbol too
    hashes = [level]
    for length in range(2, max_length + 1):
        level = level[:-1] * _HASH_BASE + hashes[0][length - 1 :]
        hashes.append(level)
    return hashes


def _longest_true_run(mask: np.ndarray) -> tuple[int, int]:
    """``(start, length)`` of the first longest run of True in ``mask``; ``(0, 0)`` when none."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    if len(starts) == 0:
        return 0, 0
    best = int(np.argmax(ends - starts))
    return int(starts[best]), int(ends[best] - starts[best])


@dataclass(frozen=True)
class CopiedRun:
    """The longest run of consecutive notes of a piece found verbatim (as symbols) in training.

    ``notes`` counts notes (0 when not even one note pair matches). ``train_piece`` is the
    training piece id, ``train_start_seconds`` and ``piece_start_seconds`` the onsets where the
    run starts there and in the checked piece. Inside a chord an onset is ambiguous, so
    ``train_start_note`` and ``piece_start_note`` give the first note's row in onset-then-pitch
    order (0-based). ``""``, NaN and -1 when ``notes`` is 0.
    """

    notes: int
    train_piece: str = ""
    train_start_seconds: float = float("nan")
    piece_start_seconds: float = float("nan")
    train_start_note: int = -1
    piece_start_note: int = -1


class CopyIndex:
    """Every symbol n-gram of a training split, hashed to where it occurs; build it once.

    ``n`` is the gram length in notes (``n - 1`` symbols). Grams of every shorter length are
    indexed too, so runs below ``n`` notes are exact as well rather than guessed. Memory is about
    ``16 * (n - 1)`` bytes per training note (sorted hashes and positions per gram length).
    """

    def __init__(
        self, train_notes: pd.DataFrame, n: int = 8, together_seconds: float = TOGETHER_SECONDS, bins_per_octave: int = BINS_PER_OCTAVE
    ):
        """``train_notes``: a note table with ``piece_id, pitch, start`` (seconds), any row order.

        Raises ValueError when ``n < 2`` or ``piece_id`` is missing. An empty table gives an
        index in which nothing is found.
        """
        if n < 2:
            raise ValueError(f"n must be at least 2 notes, got {n}")
        if "piece_id" not in train_notes.columns:
            raise ValueError("train_notes needs a 'piece_id' column")
        self.n, self.together_seconds, self.bins_per_octave = n, together_seconds, bins_per_octave
        codes, self.piece_ids = pd.factorize(train_notes["piece_id"])
        pitch = train_notes["pitch"].to_numpy(dtype=np.int64)
        start = train_notes["start"].to_numpy(dtype=np.float64)
        order = np.lexsort((pitch, start, codes))
        codes, pitch, start = codes[order], pitch[order], start[order]
        # One sequence for the whole split: pairs that straddle two pieces become separators.
        symbols = _pair_symbols(pitch, start, together_seconds, bins_per_octave)
        self._symbols = np.where(codes[:-1] == codes[1:], symbols, _SEPARATOR) if len(symbols) else symbols
        self._onsets, self._piece = start[:-1], codes[:-1]
        self._first_note = np.searchsorted(codes, np.arange(len(self.piece_ids)))
        separators = np.concatenate([[0], np.cumsum(self._symbols == _SEPARATOR)])
        self._hashes, self._positions = [], []
        for length, hashes in enumerate(_gram_hashes(self._symbols, n - 1), start=1):
            valid = np.flatnonzero(separators[length:] == separators[:-length]) if len(hashes) else np.zeros(0, dtype=np.int64)
            order = np.argsort(hashes[valid], kind="stable")
            self._hashes.append(hashes[valid][order])
            self._positions.append(valid[order])

    def _symbols_of(self, notes: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        return note_symbols(notes, self.together_seconds, self.bins_per_octave)

    def _occurrences(self, symbols: np.ndarray, hashes: np.ndarray, length: int) -> np.ndarray:
        """Per gram of ``length`` symbols of the piece: a training position holding the same
        symbols (the first in hash order), or -1. Verified symbol by symbol."""
        table, positions = self._hashes[length - 1], self._positions[length - 1]
        lo, hi = np.searchsorted(table, hashes, "left"), np.searchsorted(table, hashes, "right")
        found = np.full(len(hashes), -1, dtype=np.int64)
        offsets = np.arange(length)
        hit = np.flatnonzero(hi > lo)
        first = positions[lo[hit]]
        same = (self._symbols[first[:, None] + offsets] == symbols[hit[:, None] + offsets]).all(axis=1)
        found[hit[same]] = first[same]
        for i in hit[~same]:  # only after a hash collision: look through the rest of the bucket
            rest = positions[lo[i] + 1 : hi[i]]
            same_rest = np.flatnonzero((self._symbols[rest[:, None] + offsets] == symbols[i + offsets]).all(axis=1))
            if len(same_rest):
                found[i] = rest[same_rest[0]]
        return found

    def _run(self, symbols_run: int, piece_position: int, train_position: int, onsets: np.ndarray) -> CopiedRun:
        piece = self._piece[train_position]
        return CopiedRun(
            notes=symbols_run + 1,
            train_piece=str(self.piece_ids[piece]),
            train_start_seconds=float(self._onsets[train_position]),
            piece_start_seconds=float(onsets[piece_position]),
            train_start_note=int(train_position - self._first_note[piece]),
            piece_start_note=piece_position,
        )

    def _longest_seeded_run(self, symbols: np.ndarray, hashes: np.ndarray) -> tuple[int, int, int]:
        """``(length, piece position, train position)`` of the longest verified run of at least
        ``n - 1`` symbols, or length 0. Seeds are (piece, train) pairs of equal gram hashes; seeds
        on one diagonal (train - piece position) at consecutive piece positions chain into one
        candidate run, which the hash claims to be ``seeds + n - 2`` symbols long. Every true run
        of that size is inside such a chain, so chains are verified longest claim first and the
        search stops once no claim can beat the best verified run."""
        m = self.n - 1
        table, positions = self._hashes[m - 1], self._positions[m - 1]
        lo, hi = np.searchsorted(table, hashes, "left"), np.searchsorted(table, hashes, "right")
        counts = hi - lo
        if counts.sum() == 0:
            return 0, 0, 0
        piece_at = np.repeat(np.arange(len(hashes)), counts)
        within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        train_at = positions[np.repeat(lo, counts) + within]
        diagonal = train_at - piece_at
        order = np.lexsort((piece_at, diagonal))
        piece_at, train_at, diagonal = piece_at[order], train_at[order], diagonal[order]
        new_chain = np.concatenate([[True], (np.diff(diagonal) != 0) | (np.diff(piece_at) != 1)])
        heads = np.flatnonzero(new_chain)
        claims = np.diff(np.append(heads, len(piece_at))) + m - 1
        best = (0, 0, 0)
        for chain in np.lexsort((train_at[heads], piece_at[heads], -claims)):
            claim, i, p = int(claims[chain]), int(piece_at[heads[chain]]), int(train_at[heads[chain]])
            if claim <= best[0]:
                break
            offset, length = _longest_true_run(symbols[i : i + claim] == self._symbols[p : p + claim])
            if length > best[0]:
                best = (length, i + offset, p + offset)
        return best if best[0] >= m else (0, 0, 0)

    def longest_copied_run(self, notes: pd.DataFrame) -> CopiedRun:
        """The longest run of consecutive notes of ``notes`` (a note table with ``pitch, start``)
        that occurs as the same symbols in one training piece, and where.

        Exact at every length: runs of ``n`` notes or more come from chained n-gram seeds, shorter
        ones from the shorter-gram indexes (the longest gram length with a verified match). Ties
        go to the earliest position in the piece, then in the training split. An empty table, a
        single note or an empty index give ``CopiedRun(0)``.

        Cost: linear in the piece's length (one sorted lookup per gram and gram length) plus
        sorting the seeds, the (piece, training) n-gram matches; only music made of one repeated
        figure that the training split also repeats has many of them.
        """
        symbols, onsets = self._symbols_of(notes)
        if len(symbols) == 0 or len(self._symbols) == 0:
            return CopiedRun(0)
        hashes = _gram_hashes(symbols, min(self.n - 1, len(symbols)))
        if len(hashes) == self.n - 1:
            length, i, p = self._longest_seeded_run(symbols, hashes[-1])
            if length:
                return self._run(length, i, p, onsets)
        for length in range(min(self.n - 2, len(symbols)), 0, -1):
            found = self._occurrences(symbols, hashes[length - 1], length)
            hit = np.flatnonzero(found >= 0)
            if len(hit):
                return self._run(length, int(hit[0]), int(found[hit[0]]), onsets)
        return CopiedRun(0)

    def copied_ngram_share(self, notes: pd.DataFrame) -> float:
        """Share (0..1) of the piece's n-grams of notes (``n - 1`` symbols each) that occur, as the
        same symbols, somewhere in the training split. 0.0 for a piece with fewer than ``n`` notes
        (it has no n-gram) and for an empty index."""
        symbols, _ = self._symbols_of(notes)
        if len(symbols) < self.n - 1 or len(self._symbols) == 0:
            return 0.0
        hashes = _gram_hashes(symbols, self.n - 1)[-1]
        return float(np.mean(self._occurrences(symbols, hashes, self.n - 1) >= 0))


def memorization_table(pieces: dict[str, pd.DataFrame], index: CopyIndex) -> pd.DataFrame:
    """One row per piece: ``piece_id, notes`` (the piece's note count), ``longest_run_notes``,
    the run's location (the other fields of ``CopiedRun``) and ``copied_ngram_share``. No pieces
    give an empty table with these columns."""
    rows = []
    for piece_id, notes in pieces.items():
        where = asdict(index.longest_copied_run(notes))
        longest = where.pop("notes")
        share = index.copied_ngram_share(notes)
        rows.append({"piece_id": piece_id, "notes": len(notes), "longest_run_notes": longest, **where, "copied_ngram_share": share})
    columns = ["piece_id", "notes", "longest_run_notes", *[f.name for f in fields(CopiedRun)][1:], "copied_ngram_share"]
    return pd.DataFrame(rows, columns=columns)


def copy_threshold(real_longest_runs, percentile: float = 99.0) -> float:
    """The flagging threshold in notes: the ``percentile`` (0-100) of the longest copied runs of
    real held-out pieces (test or validation, never train) against the same index.

    Real music shares idioms with its training split (scales, cadences, repeated chords), so some
    copying is normal; a generated piece whose longest run exceeds what held-out music reaches
    is flagged. The threshold comes from real data only, never tuned on generated pieces.
    Raises ValueError on no runs or a percentile outside 0..100.
    """
    runs = np.asarray(real_longest_runs, dtype=np.float64)
    if runs.size == 0:
        raise ValueError("copy_threshold needs the longest runs of at least one real piece")
    if not 0 <= percentile <= 100:
        raise ValueError(f"percentile must be within 0..100, got {percentile}")
    return float(np.percentile(runs, percentile))


def copy_report(pieces: dict[str, pd.DataFrame], train_notes: pd.DataFrame, real_notes: dict[str, pd.DataFrame],
                n: int, max_copied_notes: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The check as the pipelines run it: index the training split once, measure ``pieces`` and
    the real held-out ``real_notes`` (cut like the pieces, so lengths match: the baseline), and
    flag (``copied``) each piece or real excerpt whose longest run exceeds ``max_copied_notes``
    (set from real data with ``copy_threshold``). Returns both tables."""
    index = CopyIndex(train_notes, n)
    tables = [memorization_table(group, index) for group in (pieces, real_notes)]
    return tuple(table.assign(copied=table["longest_run_notes"] > max_copied_notes) for table in tables)


def held_out_pieces(notes: pd.DataFrame, split: str, seconds: float) -> dict[str, pd.DataFrame]:
    """The real pieces of ``split`` (a note table with ``split`` and ``piece_id``) cut into
    excerpts of ``seconds``, so their longest runs are measured at a generated piece's length."""
    from symbolic_music.music.excerpts import cut_excerpts

    held_out = notes[notes["split"] == split]
    excerpt_notes, index = cut_excerpts(held_out, held_out.groupby("piece_id", sort=False)["end"].max().to_dict(), seconds)
    by_excerpt = dict(tuple(excerpt_notes.groupby("excerpt_id", sort=False)))
    return {e: by_excerpt[e] for e in index["excerpt_id"] if e in by_excerpt}
