"""``parallel_map``: a progress-barred map over pieces: serial, across local processes, or on a
Dask cluster (``dask.distributed``)."""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from tqdm.auto import tqdm

log = logging.getLogger(__name__)
EXECUTORS = ("local", "dask")
DASK_DEFAULTS = {"scheduler_address": None, "n_workers": 2, "threads_per_worker": 1, "retries": 2}
MAX_ITEMS_PER_TASK = 16  # Dask tasks carry up to this many items: a few ms of overhead per task, shared


def validate_executor(executor: str, dask: dict | None = None) -> None:
    """Raise ``ValueError`` naming ``data_engineering.executor`` or its ``dask`` settings when
    they cannot work."""
    if executor not in EXECUTORS:
        raise ValueError(f"data_engineering.executor must be one of {list(EXECUTORS)}, got {executor!r}")
    unknown = sorted(set(dask or {}) - set(DASK_DEFAULTS))
    if unknown:
        raise ValueError(f"data_engineering.dask has unknown keys {unknown}; known: {sorted(DASK_DEFAULTS)}")
    settings = {**DASK_DEFAULTS, **(dask or {})}
    for key in ("n_workers", "threads_per_worker"):
        if int(settings[key]) < 1:
            raise ValueError(f"data_engineering.dask.{key} must be at least 1, got {settings[key]}")
    if int(settings["retries"]) < 0:
        raise ValueError(f"data_engineering.dask.retries must be at least 0, got {settings['retries']}")


def parallel_map(
    function: Callable,
    items: Iterable,
    num_workers: int,
    desc: str,
    unit: str = "piece",
    *,
    executor: str = "local",
    dask: dict | None = None,
    shared: dict | None = None,
    on_error: Callable[[Any, BaseException], Any] | None = None,
) -> list[Any]:
    """``[function(item, **shared) for item in items]`` in order, with a tqdm bar.

    ``executor="local"``: ``num_workers <= 1`` runs in this process; more uses a process pool, so
    ``function``, ``shared`` and the items must pickle. An exception stops the map.

    ``executor="dask"``: Dask tasks of up to ``MAX_ITEMS_PER_TASK`` items (about four tasks per
    worker thread) on the cluster at ``dask["scheduler_address"]``, or, with no address, on a
    ``LocalCluster`` of ``n_workers`` processes of ``threads_per_worker`` threads started here
    and closed at the end (``num_workers`` is not used). ``shared`` values are sent once, as a
    task every other task depends on. A task is tried at most ``1 + retries`` times, whether it
    raised or its worker died (Dask's task ``retries``; on the ``LocalCluster`` also the
    scheduler's ``allowed-failures``: an external scheduler keeps its own); a batch that still
    fails is split, and each of its items tried alone the same way. An item that fails alone
    goes to ``on_error(item, error)``, whose return value takes its place; without ``on_error``
    the error is raised.

    Results are identical whichever executor runs (order is kept).
    """
    items = list(items)
    if executor == "dask":
        return _dask_map(function, items, {**DASK_DEFAULTS, **(dask or {})}, shared or {}, desc, unit, on_error)
    validate_executor(executor)
    bound = functools.partial(function, **shared) if shared else function
    if num_workers <= 1 or len(items) < 2:
        return [bound(item) for item in tqdm(items, desc=desc, unit=unit)]
    chunksize = max(1, len(items) // (num_workers * 8))
    # The function and its shared values reach each worker once, not with every chunk of items.
    with ProcessPoolExecutor(max_workers=num_workers, initializer=_install, initargs=(bound,)) as pool:
        return list(tqdm(pool.map(_call_installed, items, chunksize=chunksize), total=len(items), desc=desc, unit=unit))


_installed: list[Callable] = []  # in a worker process: the function parallel_map runs there


def _install(function: Callable) -> None:
    _installed[:] = [function]


def _call_installed(item: Any) -> Any:
    return _installed[0](item)


@contextlib.contextmanager
def dask_client(settings: dict) -> Iterator[Any]:
    """A ``distributed.Client`` on the scheduler at ``settings["scheduler_address"]``, or on a
    ``LocalCluster`` started for the ``with`` block and closed after it."""
    import dask.config
    from distributed import Client, LocalCluster

    if settings["scheduler_address"]:
        with Client(settings["scheduler_address"]) as client:
            yield client
        return
    # The LocalCluster's scheduler runs in this process: give it the same budget of worker deaths,
    # and one task per worker thread at a time, so a dying worker takes only its own file with it.
    config = {"distributed.scheduler.allowed-failures": int(settings["retries"]), "distributed.scheduler.worker-saturation": 1.0}
    with dask.config.set(config):
        cluster = LocalCluster(
            n_workers=int(settings["n_workers"]),
            threads_per_worker=int(settings["threads_per_worker"]),
            processes=True,
            dashboard_address=None,
        )
    with cluster, Client(cluster) as client:
        yield client


def _identity(value: Any) -> Any:
    return value


def _run_batch(batch: list, function: Callable, **shared: Any) -> list[Any]:
    return [function(item, **shared) for item in batch]


def _dask_map(function, items, settings, shared, desc, unit, on_error) -> list[Any]:
    """One task per batch of items; a batch that fails for good is split into one task per
    item, so only the item that fails is reported and its batch-mates are processed alone."""
    from distributed import as_completed

    validate_executor("dask", {k: v for k, v in settings.items() if k in DASK_DEFAULTS})
    results: list[Any] = [None] * len(items)
    retries = int(settings["retries"])
    with dask_client(settings) as client:
        threads = max(1, sum(client.nthreads().values()))
        size = max(1, min(MAX_ITEMS_PER_TASK, len(items) // (threads * 4)))
        log.info("Dask: %d items in tasks of %d on %s (%d threads)", len(items), size, client.scheduler.address, threads)
        # shared values as tasks, not scattered data: a task's result lost with every worker that
        # held it is computed again, where scattered data would be gone and cancel every item
        shared_futures = {name: client.submit(_identity, value, pure=False) for name, value in shared.items()}

        def submit(batches: list[list[int]]) -> dict:
            futures = client.map(_run_batch, [[items[i] for i in batch] for batch in batches], function=function,
                                 retries=retries, pure=False, **shared_futures)
            return {future: batch for future, batch in zip(futures, batches)}

        pending = submit([list(range(start, min(start + size, len(items)))) for start in range(0, len(items), size)])
        completed = as_completed(list(pending))
        with tqdm(total=len(items), desc=desc, unit=unit) as bar:
            for future in completed:
                batch = pending.pop(future)
                if future.status not in ("finished", "error"):  # lost with its worker after finishing: Dask computes it again
                    pending[future] = batch
                    completed.add(future)
                    continue
                if future.status == "finished":
                    for index, result in zip(batch, future.result()):
                        results[index] = result
                    bar.update(len(batch))
                elif len(batch) > 1:
                    log.warning("Dask: a batch of %d failed (%s); trying each item alone", len(batch), type(future.exception()).__name__)
                    singles = submit([[index] for index in batch])
                    pending.update(singles)
                    completed.update(singles)
                elif on_error is None:
                    raise future.exception()
                else:
                    results[batch[0]] = on_error(items[batch[0]], future.exception())
                    bar.update(1)
                future.release()
    return results
