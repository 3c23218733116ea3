"""``parallel_map`` on a Dask LocalCluster: batches of items, and a failing batch split so only
the failing item is reported."""

from __future__ import annotations

import os
import signal

import pytest

from symbolic_music.parallel import parallel_map, validate_executor


def square_unless_marked(item: int, kill: int, fail: int) -> int:
    """``item ** 2``; kills its worker process on ``kill`` and raises on ``fail``."""
    if item == kill:
        os.kill(os.getpid(), signal.SIGKILL)
    if item == fail:
        raise ValueError(f"item {item} is bad")
    return item * item


def test_a_failing_batch_is_split_and_only_its_failing_items_are_reported():
    items = list(range(64))  # 2 worker threads: batches of 8, so 13 and 21 each share a batch with 7 others
    results = parallel_map(
        square_unless_marked, items, 1, "test", executor="dask", dask={"n_workers": 2, "retries": 0},
        shared={"kill": 13, "fail": 21}, on_error=lambda item, error: f"{item}: {type(error).__name__}: {error}",
    )
    expected = [i * i for i in items]
    expected[13] = f"13: KilledWorker: {results[13].split(': ', 2)[2]}"
    expected[21] = "21: ValueError: item 21 is bad"
    assert results == expected


def test_dask_settings_are_checked_by_name():
    with pytest.raises(ValueError, match="data_engineering.executor"):
        validate_executor("spark")
    with pytest.raises(ValueError, match="data_engineering.dask.n_workers"):
        validate_executor("dask", {"n_workers": 0})
    with pytest.raises(ValueError, match=r"unknown keys \['workers'\]"):
        validate_executor("dask", {"workers": 2})
