"""music.listening: the ratings reader and the per-system figures, on hand-made records."""

from __future__ import annotations

import json
import math
import threading

import pytest

from symbolic_music.datasets import JsonLinesDataset
from symbolic_music.music.listening import (
    SUMMARY_COLUMNS,
    listening_counts,
    listening_table,
    mean_interval,
    parse_ratings,
    wilson_interval,
)


def record(first: str, second: str, preferred: str | None = None, rating_a: int | None = None, rating_b: int | None = None) -> dict:
    return {"a": {"system": first, "piece": f"{first}/x"}, "b": {"system": second, "piece": f"{second}/y"}, "preferred": preferred,
            "rating_a": rating_a, "rating_b": rating_b, "listener": "l1", "kind": "k", "synthetic": True}


def test_a_half_written_trailing_line_and_broken_lines_are_skipped_and_counted():
    good = json.dumps(record("real/test", "lstm", "a")) + "\n"
    text = good + "{not json\n" + "\n" + '"a string"\n' + good + good[: len(good) // 2]
    records, skipped = parse_ratings(text)
    assert len(records) == 2
    assert skipped == 3  # the broken line, the string, the trailing half
    assert parse_ratings("") == ([], 0)


def test_wilson_interval_known_values():
    low, high = wilson_interval(5, 10)
    assert (low, high) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert wilson_interval(0, 10)[0] == pytest.approx(0.0) and wilson_interval(10, 10)[1] == pytest.approx(1.0)
    assert all(math.isnan(v) for v in wilson_interval(0, 0))


def test_mean_interval_known_values():
    mean, low, high = mean_interval([1, 2, 3, 4, 5])
    assert mean == 3.0 and (high - low) / 2 == pytest.approx(1.959964 * math.sqrt(2.5) / math.sqrt(5))
    assert math.isnan(mean_interval([4])[1]) and math.isnan(mean_interval([])[0])


def test_preference_against_real_music_head_to_head_and_ratings_per_system():
    records = [
        record("real/test", "lstm", "b", 4, 2),      # lstm preferred over real
        record("lstm", "real/test", "b", 1, 5),      # real preferred
        record("unconditioned/balanced", "continuation/reference", "a"),
        record("lstm", "unconditioned/balanced", "b", 2, 3),
        record("lstm", "unconditioned/balanced", None, 3, None),  # a rating without a preference
    ]
    table = listening_table(records).set_index("system")
    assert list(table.reset_index().columns) == SUMMARY_COLUMNS
    assert table.loc["lstm", "preference_n"] == 2 and table.loc["lstm", "preference_wins"] == 1
    assert table.loc["lstm", "preference_rate"] == 0.5
    assert table.loc["unconditioned/balanced", "preference_rate"] == 1.0
    assert table.loc["lstm", "head_to_head_n"] == 1 and table.loc["lstm", "head_to_head_rate"] == 0.0
    assert table.loc["lstm", "rating_n"] == 4 and table.loc["lstm", "rating_mean"] == pytest.approx(2.0)
    assert table.loc["real/test", "is_real"] and math.isnan(table.loc["real/test", "preference_rate"])
    assert table.loc["real/test", "rating_mean"] == 4.5
    counts = listening_counts(records, 1)
    assert counts == {"records": 5, "skipped_lines": 1, "synthetic_records": 5, "listeners": 1, "preferences": 4, "ratings": 7,
                      "pairs_by_kind": {"k": 5}}


def test_no_records_give_an_empty_table():
    assert list(listening_table([]).columns) == SUMMARY_COLUMNS and listening_table([]).empty


def test_concurrent_appends_all_survive_as_whole_lines(tmp_path):
    dataset = JsonLinesDataset(str(tmp_path / "ratings.jsonl"))
    assert dataset.load() == ""
    big = "x" * 100_000  # lines far longer than a pipe buffer still land whole

    def write(worker: int) -> None:
        for index in range(20):
            dataset.save([{**record("real/test", "lstm", "a"), "worker": worker, "index": index, "padding": big}])

    threads = [threading.Thread(target=write, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    records, skipped = parse_ratings(dataset.load())
    assert skipped == 0
    assert sorted((r["worker"], r["index"]) for r in records) == [(w, i) for w in range(4) for i in range(20)]
