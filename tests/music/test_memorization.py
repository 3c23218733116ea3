"""The copying check against oracles: a planted transposed copy, random notes, brute force, collisions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from symbolic_music.music import memorization
from symbolic_music.music.memorization import CopiedRun, CopyIndex, copy_threshold, memorization_table, note_symbols
from symbolic_music.music.notes import notes_table
from tests.conftest import make_score

IOIS = [0.125, 0.25, 0.5]


def walk(seed: int, num_notes: int, step: int = 4, iois=IOIS) -> pd.DataFrame:
    """A random-walk melody (pitch steps within +-``step``) with octave doublings as chords."""
    rng = np.random.default_rng(seed)
    pitch = 60 + np.cumsum(rng.integers(-step, step + 1, num_notes))
    start = np.concatenate([[0.0], np.cumsum(rng.choice(iois, num_notes - 1))])
    doubled = rng.random(num_notes) < 0.2
    notes = pd.DataFrame({"pitch": np.concatenate([pitch, pitch[doubled] - 12]), "start": np.concatenate([start, start[doubled]])})
    return notes.sort_values(["start", "pitch"], ignore_index=True)


def split_table(pieces: dict[str, pd.DataFrame]) -> pd.DataFrame:
    return pd.concat([notes.assign(piece_id=piece_id) for piece_id, notes in pieces.items()], ignore_index=True)


def is_verbatim(run: CopiedRun, piece: pd.DataFrame, train: dict[str, pd.DataFrame]) -> bool:
    """The run's notes really have the same symbols in the piece and the training piece."""
    symbols, onsets = note_symbols(piece)
    train_symbols, train_onsets = note_symbols(train[run.train_piece])
    i, p, k = run.piece_start_note, run.train_start_note, run.notes - 1
    assert (onsets[i], train_onsets[p]) == (run.piece_start_seconds, run.train_start_seconds)
    return np.array_equal(symbols[i : i + k], train_symbols[p : p + k])


def brute_force_longest(piece: pd.DataFrame, train: dict[str, pd.DataFrame]) -> int:
    """Longest common run of symbols by dynamic programming, in notes (0 when none)."""
    a, _ = note_symbols(piece)
    best = 0
    for notes in train.values():
        b, _ = note_symbols(notes)
        same = a[:, None] == b[None, :]
        run = np.zeros((len(a) + 1, len(b) + 1), dtype=int)
        for i in range(len(a)):
            run[i + 1, 1:] = np.where(same[i], run[i, :-1] + 1, 0)
        best = max(best, int(run.max()))
    return best + 1 if best else 0


@pytest.fixture(scope="module")
def train() -> dict[str, pd.DataFrame]:
    return {f"walk_{i}": walk(i, 300) for i in range(20)}


@pytest.fixture(scope="module")
def planted(train) -> pd.DataFrame:
    """80 notes from the middle of walk_2, transposed +5 and moved to start at 10 s, between two
    random stretches whose 3 s gaps (an IOI no training piece has) keep the run from growing."""
    rng = np.random.default_rng(99)
    middle = train["walk_2"].iloc[100:180]
    copy = middle.assign(pitch=middle["pitch"] + 5, start=middle["start"] - middle["start"].iloc[0] + 10.0)
    before = pd.DataFrame({"pitch": rng.integers(21, 109, 20), "start": np.linspace(0.0, 7.0 - 0.25, 20)})
    after_start = copy["start"].iloc[-1] + 3.0
    after = pd.DataFrame({"pitch": rng.integers(21, 109, 20), "start": after_start + np.arange(20) * 0.25})
    return pd.concat([before, copy, after], ignore_index=True)


def random_notes(seed: int, num_notes: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"pitch": rng.integers(21, 109, num_notes), "start": np.cumsum(rng.choice(IOIS, num_notes))})


def test_symbols_are_transposition_invariant_and_count_pairs():
    notes = walk(1, 30)
    symbols, onsets = note_symbols(notes)
    assert len(symbols) == len(notes) - 1
    np.testing.assert_array_equal(onsets, notes["start"].to_numpy()[:-1])
    moved, _ = note_symbols(notes.assign(pitch=notes["pitch"] - 7, start=notes["start"] + 3.0).iloc[::-1])
    np.testing.assert_array_equal(symbols, moved)
    assert len(note_symbols(notes.iloc[:1])[0]) == 0


def test_ioi_classes_separate_note_values_and_tolerate_small_deviations():
    def ioi_class(seconds):
        return note_symbols(pd.DataFrame({"pitch": [60, 60], "start": [0.0, seconds]}))[0][0]

    assert len({ioi_class(s) for s in (0.0, 0.125, 0.25, 0.375, 0.5, 1.0)}) == 6
    assert ioi_class(0.0) == ioi_class(0.02)  # a spread chord is still a chord
    assert ioi_class(0.25) == ioi_class(0.27) == ioi_class(0.23)


def test_planted_transposed_copy_is_found_with_its_length_and_location(train, planted):
    index = CopyIndex(split_table(train), n=8)
    run = index.longest_copied_run(planted)
    assert run == CopiedRun(80, "walk_2", float(train["walk_2"]["start"].iloc[100]), 10.0, 100, 20)
    assert is_verbatim(run, planted, train)
    copy_only = planted.iloc[20:100]
    assert index.copied_ngram_share(copy_only) == 1.0
    assert index.copied_ngram_share(planted) == pytest.approx(73 / 113, abs=0.02)


def test_random_notes_share_almost_nothing_with_random_walks(train, planted):
    index = CopyIndex(split_table(train), n=8)
    for seed in range(5):
        piece = random_notes(seed, 300)
        run = index.longest_copied_run(piece)
        assert run.notes < 8 < 80
        assert run.notes == 0 or is_verbatim(run, piece, train)
        assert index.copied_ngram_share(piece) < 0.01


def collide_hashes(monkeypatch, buckets: int) -> None:
    """Make gram hashes fall into ``buckets`` values only, so nearly every lookup collides."""
    original = memorization._gram_hashes
    def few(symbols, length):
        return [h % np.uint64(buckets) for h in original(symbols, length)]

    monkeypatch.setattr(memorization, "_gram_hashes", few)


@pytest.mark.parametrize("colliding", [False, True])
@pytest.mark.parametrize("n", [3, 6])
@pytest.mark.parametrize("seed", range(4))
def test_longest_run_matches_brute_force_at_every_length(monkeypatch, seed, n, colliding):
    # Small steps and two IOIs make chance matches of every length, below and above n.
    if colliding:
        collide_hashes(monkeypatch, 3)
    train = {f"t{i}": walk(100 * seed + i, 60, step=1, iois=[0.25, 0.5]) for i in range(3)}
    piece = walk(100 * seed + 50, 60, step=1, iois=[0.25, 0.5])
    run = CopyIndex(split_table(train), n=n).longest_copied_run(piece)
    assert run.notes == brute_force_longest(piece, train)
    assert run.notes == 0 or is_verbatim(run, piece, train)


def test_short_pieces_empty_tables_and_a_one_piece_split(train):
    index = CopyIndex(split_table(train), n=8)
    five = train["walk_4"].iloc[40:45]
    assert index.longest_copied_run(five).notes == 5
    assert index.copied_ngram_share(five) == 0.0
    leap = pd.DataFrame({"pitch": [five["pitch"].iloc[3] + 50], "start": [five["start"].iloc[3] + 3.0]})  # in no training piece
    broken = pd.concat([five.iloc[:4], leap])
    assert index.longest_copied_run(broken).notes == 4
    assert index.longest_copied_run(five.iloc[:1]) == CopiedRun(0)
    empty = notes_table(make_score(0, num_notes=0))
    assert index.longest_copied_run(empty) == CopiedRun(0)
    assert index.copied_ngram_share(empty) == 0.0
    nothing = CopyIndex(split_table({"x": empty}), n=8)
    assert nothing.longest_copied_run(train["walk_0"]) == CopiedRun(0)
    assert nothing.copied_ngram_share(train["walk_0"]) == 0.0

    single = notes_table(make_score(3))
    alone = CopyIndex(split_table({"only": single}), n=8)
    assert alone.longest_copied_run(single) == CopiedRun(len(single), "only", 0.0, 0.0, 0, 0)
    assert alone.copied_ngram_share(single) == 1.0


def test_a_run_never_spans_two_training_pieces():
    first = walk(5, 30)
    second = walk(6, 20).assign(start=lambda t: t["start"] + first["start"].iloc[-1] + 0.25)
    both = pd.concat([first, second], ignore_index=True)
    index = CopyIndex(split_table({"first": first, "second": second}), n=8)
    assert index.longest_copied_run(both).notes == len(first)


def test_runs_stay_exact_when_every_hash_collides(monkeypatch, train, planted):
    some = split_table({piece_id: train[piece_id] for piece_id in ("walk_1", "walk_2", "walk_3")})
    pieces = (planted, random_notes(7, 200))
    honest = CopyIndex(some, n=8)
    expected = [(honest.longest_copied_run(p), honest.copied_ngram_share(p)) for p in pieces]
    collide_hashes(monkeypatch, 3)
    colliding = CopyIndex(some, n=8)
    assert colliding._hashes[-1].max() <= 2  # the patch took effect: three buckets hold everything
    assert expected[0][0].notes == 80
    for piece, (run, share) in zip(pieces, expected):
        assert colliding.longest_copied_run(piece) == run
        assert colliding.copied_ngram_share(piece) == share


def test_memorization_table_has_a_row_per_piece(train, planted):
    index = CopyIndex(split_table(train), n=8)
    table = memorization_table({"planted": planted, "random": random_notes(1, 100)}, index)
    assert list(table["piece_id"]) == ["planted", "random"]
    assert table.loc[0, ["notes", "longest_run_notes", "train_piece"]].tolist() == [len(planted), 80, "walk_2"]
    assert list(memorization_table({}, index).columns) == list(table.columns)


def test_copy_threshold_is_a_percentile_of_real_runs():
    assert copy_threshold([4, 6, 8, 10, 12], 50) == 8.0
    assert copy_threshold([4, 6, 8, 10, 12], 100) == 12.0
    with pytest.raises(ValueError, match="at least one real piece"):
        copy_threshold([], 95)
    with pytest.raises(ValueError, match="percentile"):
        copy_threshold([3], 101)


def test_bad_index_arguments_are_refused(train):
    with pytest.raises(ValueError, match="n must be"):
        CopyIndex(split_table(train), n=1)
    with pytest.raises(ValueError, match="piece_id"):
        CopyIndex(train["walk_0"], n=8)
