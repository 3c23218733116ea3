"""Benchmark: files per second through the whole data_engineering pipeline (local, and on a Dask
LocalCluster of 1 and 2 workers), against the bare per-file work measured in the same run: a
symusic parse plus a miditok encode, one file after another.

Run by hand or with ``make bench`` (not collected by pytest):

    python tests/benchmarks/bench_data_engineering.py [--env base|maestro|midi_folder] [--repeat N]

It reads the corpus the chosen environment's catalog names (building the embedded corpus on
first use); ``--repeat N`` (6 by default: with fewer files the fixed costs of starting workers hide the scaling) copies it N times into a temporary folder (as N distinct pieces per
file) for a longer, steadier measurement. It writes nothing else. The Dask runs use a running
LocalCluster (started first, its workers' imports done, reached through ``scheduler_address`` as
a deployed cluster would be); the rate with that start added is shown too.
"""

from __future__ import annotations

import argparse
import copy
import importlib
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

import pandas as pd
from _project import load_project
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner
from symusic import Score

from symbolic_music.datasets import MidiPartitionsDataset
from symbolic_music.music.notes import piano_part
from symbolic_music.parallel import DASK_DEFAULTS, dask_client
from symbolic_music.pipelines import data_engineering
from symbolic_music.pipelines.data_engineering.nodes import create_tokenizer


def repeated_corpus(metadata: pd.DataFrame, files: dict[str, str], repeat: int, root: Path) -> pd.DataFrame:
    """``repeat`` copies of every file under ``root/copy<k>/``, and the metadata naming them."""
    tables = []
    for k in range(repeat):
        for name, path in files.items():
            target = root / f"copy{k}" / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
        tables.append(metadata.assign(midi_filename=f"copy{k}/" + metadata["midi_filename"]))
    return pd.concat(tables, ignore_index=True)


def run_pipeline(metadata, raw_midi, params, lstm_params) -> float:
    """Seconds for the pipeline's nodes; outputs stay in memory, passed on as the catalog's
    intermediate entries are (``copy_mode: assign``), so no file writing is timed."""
    pipeline = data_engineering.create_pipeline()
    catalog = DataCatalog({"raw_metadata": MemoryDataset(metadata), "raw_midi": raw_midi,
                           "params:data_engineering": MemoryDataset(params), "params:lstm_model": MemoryDataset(lstm_params),
                           **{name: MemoryDataset(copy_mode="assign") for name in pipeline.all_outputs()}})
    started = time.perf_counter()
    SequentialRunner().run(pipeline, catalog)
    return time.perf_counter() - started


def cpu_seconds() -> float:
    """User + system CPU seconds of the calling process (run on each Dask worker too)."""
    return sum(os.times()[:2])


class Report:
    """Prints one line per measurement: files/s (wall), CPU ms per file (every process involved),
    and the ratio to the bare work's files/s."""

    def __init__(self, files: int, bare_seconds: float, bare_cpu: float) -> None:
        self.files, self.bare_rate = files, files / bare_seconds
        self.line("bare work (symusic parse + miditok encode, serial):", bare_seconds, bare_cpu, ratio=False)

    def line(self, label: str, seconds: float, cpu: float, ratio: bool = True) -> float:
        rate = self.files / seconds
        extra = f"  = {rate / self.bare_rate:.3f} x bare" if ratio else ""
        print(f"{label:52s} {rate:8.2f} files/s ({seconds:6.2f} s), CPU {1000 * cpu / self.files:6.2f} ms/file{extra}")
        return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="base")
    parser.add_argument("--repeat", type=int, default=6)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    project_catalog, all_params = load_project(args.env)
    logging.disable(logging.WARNING)  # the runner's and Dask's INFO lines; the figures are printed
    params, lstm_params = all_params["data_engineering"], all_params["lstm_model"]
    metadata = project_catalog["raw_metadata"].load()  # builds the embedded corpus on first use
    root = Path(project_catalog["raw_midi"]._normalized_path)
    with tempfile.TemporaryDirectory() as tmp:
        metadata = repeated_corpus(metadata, {name: str(root / name) for name in metadata["midi_filename"]}, args.repeat, Path(tmp))
        raw_midi = MidiPartitionsDataset(path=tmp)
        paths = [str(Path(tmp) / name) for name in metadata["midi_filename"]]
        notes = sum(piano_part(Score(path), params["tracks"])[0].note_num() for path in paths)

        tokenizer = create_tokenizer(params)
        wall, cpu = time.perf_counter(), cpu_seconds()
        tokens = sum(len(tokenizer.encode(Score(path))) for path in paths)
        wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
        print(f"corpus: {args.env} x{args.repeat}: {len(paths)} files, {notes:,} notes, {tokens:,} tokens; {os.cpu_count()} CPUs,"
              f" load average {os.getloadavg()[0]:.1f}")
        report = Report(len(paths), wall, cpu)

        local = {}
        for workers in args.workers:
            cpu = cpu_seconds()
            seconds = run_pipeline(metadata, raw_midi, {**copy.deepcopy(params), "executor": "local", "num_workers": workers}, lstm_params)
            local[workers] = report.line(f"data_engineering, local, {workers} process(es):", seconds, cpu_seconds() - cpu)  # workers' CPU not counted
        if 1 in local and 2 in local:
            print(f"local scaling, 1 -> 2 processes: {local[2] / local[1]:.3f} x")
        rates = {}
        for workers in args.workers:
            started = time.perf_counter()
            with dask_client({**DASK_DEFAULTS, "n_workers": workers}) as client:  # a running cluster, its workers' imports done
                client.run(importlib.import_module, "symbolic_music.pipelines.data_engineering.per_file")
                start = time.perf_counter() - started
                dask = {**DASK_DEFAULTS, "scheduler_address": client.scheduler.address}
                before, client_cpu = client.run(cpu_seconds), cpu_seconds()
                seconds = run_pipeline(metadata, raw_midi, {**copy.deepcopy(params), "executor": "dask", "dask": dask}, lstm_params)
                client_cpu = cpu_seconds() - client_cpu
                worker_cpu = sum(now - before[worker] for worker, now in client.run(cpu_seconds).items())
            rates[workers] = report.line(f"data_engineering, dask, {workers} worker(s), running:", seconds, client_cpu + worker_cpu)
            print(f"{'':4s}CPU ms/file in the workers {1000 * worker_cpu / len(paths):.2f}, in the client and scheduler"
                  f" {1000 * client_cpu / len(paths):.2f}")
            report.line(f"  with the LocalCluster's start ({start:.2f} s):", seconds + start, client_cpu + worker_cpu)
        if 1 in rates and 2 in rates:
            print(f"dask scaling, 1 -> 2 workers (running cluster): {rates[2] / rates[1]:.3f} x")


if __name__ == "__main__":
    main()
