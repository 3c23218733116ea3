"""Benchmark: files per second through the whole data_engineering pipeline (local, and on a Dask
LocalCluster of 1 and 2 workers), against the bare per-file work measured in the same run: a
symusic parse plus a miditok encode, one file after another.

Run by hand or with ``make bench`` (not collected by pytest):

    python tests/benchmarks/bench_data_engineering.py [--env base|maestro|midi_folder] [--repeat N]

It reads the corpus the chosen environment's catalog names (building the embedded corpus on
first use); ``--repeat N`` copies it N times into a temporary folder (as N distinct pieces per
file) for a longer, steadier measurement. It writes nothing else. A Dask run's time includes
starting and closing its LocalCluster and the workers' first imports; that start is measured
alone too, so both rates are shown.
"""

from __future__ import annotations

import argparse
import copy
import importlib
import logging
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="base")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    project_catalog, all_params = load_project(args.env)
    logging.disable(logging.WARNING)  # the runner's and Dask's INFO lines; the figures are printed
    params = all_params["data_engineering"]
    metadata = project_catalog["raw_metadata"].load()  # builds the embedded corpus on first use
    source = project_catalog["raw_midi"]
    root = Path(source._normalized_path)
    files = {name: str(root / name) for name in metadata["midi_filename"]}
    with tempfile.TemporaryDirectory() as tmp:
        metadata = repeated_corpus(metadata, files, args.repeat, Path(tmp))
        raw_midi = MidiPartitionsDataset(path=tmp)
        paths = [str(Path(tmp) / name) for name in metadata["midi_filename"]]

        tokenizer = create_tokenizer(params)
        started = time.perf_counter()
        tokens = sum(len(tokenizer.encode(Score(path))) for path in paths)
        bare = time.perf_counter() - started
        notes = sum(piano_part(Score(path), params["tracks"])[0].note_num() for path in paths)
        print(f"corpus: {args.env} x{args.repeat}: {len(paths)} files, {notes:,} notes, {tokens:,} tokens")
        print(f"bare work (symusic parse + miditok encode, serial): {len(paths) / bare:8.2f} files/s  ({bare:.2f} s)")

        def report(label: str, seconds: float, reference: float | None = None) -> float:
            rate = len(paths) / seconds
            extra = f"  = {rate / reference:.3f} x {'bare' if reference == len(paths) / bare else '1 worker'}" if reference else ""
            print(f"{label:50s} {rate:8.2f} files/s  ({seconds:.2f} s){extra}")
            return rate

        bare_rate = len(paths) / bare
        local = {**copy.deepcopy(params), "executor": "local", "num_workers": 1}
        report("data_engineering, local, 1 process:", run_pipeline(metadata, raw_midi, local, all_params["lstm_model"]), bare_rate)
        rates = {}
        for workers in args.workers:
            dask = {**DASK_DEFAULTS, "n_workers": workers, "threads_per_worker": 1}
            started = time.perf_counter()
            with dask_client(dask) as client:  # what every Dask run pays first: the cluster, the workers' imports
                client.run(importlib.import_module, "symbolic_music.pipelines.data_engineering.per_file")
            start = time.perf_counter() - started
            settings = {**copy.deepcopy(params), "executor": "dask", "dask": dask}
            seconds = run_pipeline(metadata, raw_midi, settings, all_params["lstm_model"])
            report(f"data_engineering, dask, {workers} worker(s), with start:", seconds, bare_rate)
            rates[workers] = report(f"  without the start (cluster, imports: {start:.2f} s):", seconds - start, bare_rate)
        if 1 in rates and 2 in rates:
            print(f"dask scaling, 1 -> 2 workers (without start): {rates[2] / rates[1]:.3f} x")


if __name__ == "__main__":
    main()
