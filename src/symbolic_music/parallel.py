"""``parallel_map``: a progress-barred map over pieces, serial or across processes."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from tqdm.auto import tqdm


def parallel_map(function: Callable, items: Iterable, num_workers: int, desc: str, unit: str = "piece") -> list[Any]:
    """``[function(item) for item in items]`` in order, with a tqdm bar.

    ``num_workers <= 1`` runs in this process; more uses a process pool, so ``function`` and the
    items must pickle. Results are identical either way (order is kept).
    """
    items = list(items)
    if num_workers <= 1 or len(items) < 2:
        return [function(item) for item in tqdm(items, desc=desc, unit=unit)]
    chunksize = max(1, len(items) // (num_workers * 8))
    with ProcessPoolExecutor(max_workers=num_workers) as pool:
        return list(tqdm(pool.map(function, items, chunksize=chunksize), total=len(items), desc=desc, unit=unit))
