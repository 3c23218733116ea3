"""Benchmark: notes per second through the whole data_engineering pipeline, against symusic's
bare parse speed measured in the same run, at 1 and 2 worker processes.

Run by hand or with ``make bench`` (not collected by pytest):

    python tests/benchmarks/bench_data_engineering.py [--env base|maestro|midi_folder]

It reads the corpus the chosen environment's catalog names (building the embedded corpus on
first use) and writes nothing.
"""

from __future__ import annotations

import argparse
import copy
import logging
import time

from _project import load_project
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner
from symusic import Score

from symbolic_music.pipelines import data_engineering


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="base")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    logging.getLogger("kedro").setLevel(logging.WARNING)

    project_catalog, all_params = load_project(args.env)
    params = all_params["data_engineering"]
    metadata = project_catalog["raw_metadata"].load()  # builds the embedded corpus on first use
    raw_midi = project_catalog["raw_midi"]

    paths = raw_midi._list_partitions()  # full file paths
    started = time.perf_counter()
    num_notes = sum(Score(path).note_num() for path in paths)
    bare_seconds = time.perf_counter() - started
    bare_rate = num_notes / bare_seconds
    print(f"corpus: {len(metadata)} pieces, {num_notes:,} notes")
    print(f"symusic bare parse:              {bare_rate:12,.0f} notes/s  ({bare_seconds:.2f} s)")

    for workers in args.workers:
        worker_params = copy.deepcopy(params)
        worker_params["num_workers"] = workers
        catalog = DataCatalog(
            {
                "raw_metadata": MemoryDataset(metadata),
                "raw_midi": raw_midi,
                "params:data_engineering": MemoryDataset(worker_params),
                "params:lstm_model": MemoryDataset(all_params["lstm_model"]),
            }
        )
        started = time.perf_counter()
        SequentialRunner().run(data_engineering.create_pipeline(), catalog)
        seconds = time.perf_counter() - started
        rate = num_notes / seconds
        print(
            f"data_engineering, {workers} worker(s):  {rate:12,.0f} notes/s  ({seconds:.2f} s)"
            f"  = {rate / bare_rate:.3f} x bare parse"
        )


if __name__ == "__main__":
    main()
