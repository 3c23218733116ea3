"""data_engineering on a Dask ``LocalCluster`` of two workers: the local run's outputs, file for
file, and no file lost when a worker dies."""

from __future__ import annotations

import copy
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from symbolic_music.pipelines import data_engineering
from tests.conftest import raw_catalog, run_pipeline, write_corpus

COMPARED = ("loaded_pieces", "pieces", "data_quality_report", "train_tokens", "validation_tokens", "test_tokens",
            "notes", "train_reference_stats", "test_reference_stats")


@dataclass(frozen=True)
class KillsItsWorker:
    """A MIDI loader that kills the process running it (SIGKILL, as the OOM killer would): the
    first time only when ``marker`` is a path (the file it creates remembers), else every time."""

    load: Callable
    marker: str | None = None

    def __call__(self):
        if self.marker is None or not os.path.exists(self.marker):
            if self.marker is not None:
                Path(self.marker).touch()
            os.kill(os.getpid(), signal.SIGKILL)
        return self.load()


@pytest.fixture(scope="module")
def corpus_with_bad_files(tmp_path_factory) -> Path:
    """Ten good pieces (every split), a corrupt file and an empty one."""
    root = tmp_path_factory.mktemp("dask_corpus")
    metadata = write_corpus(root, num_pieces=10).assign(split=["train"] * 6 + ["validation"] * 2 + ["test"] * 2)
    (root / "2004" / "corrupt.midi").write_bytes(b"MThd\x00\x00\x00\x06garbage")
    (root / "2005" / "empty.midi").write_bytes(b"")
    bad = metadata.iloc[:2].assign(midi_filename=["2004/corrupt.midi", "2005/empty.midi"])
    pd.concat([metadata, bad]).to_csv(root / "maestro-v3.0.0.csv", index=False)
    return root


def _params(params: dict, executor: str, **dask) -> dict:
    p = copy.deepcopy(params)
    p["data_engineering"]["executor"] = executor
    p["data_engineering"]["dask"].update(n_workers=2, threads_per_worker=1, **dask)
    return p


@pytest.fixture(scope="module")
def local_run(corpus_with_bad_files, params) -> dict:
    return run_pipeline(data_engineering.create_pipeline(), raw_catalog(corpus_with_bad_files, _params(params, "local")))


def _assert_same(got: dict, expected: dict) -> None:
    for name in COMPARED:
        if isinstance(expected[name], pd.DataFrame):
            pd.testing.assert_frame_equal(got[name], expected[name], check_exact=True)
        else:
            assert got[name] == expected[name], name


def _dask_run(root: Path, params: dict, raw_midi: dict | None = None, **dask) -> dict:
    inputs = None if raw_midi is None else {"raw_midi": raw_midi}
    return run_pipeline(data_engineering.create_pipeline(), raw_catalog(root, _params(params, "dask", **dask)), inputs)


def test_two_dask_workers_give_the_local_outputs_file_for_file(corpus_with_bad_files, params, local_run):
    report = local_run["data_quality_report"]
    assert report["pieces_loaded"] == 10 and {e["midi_filename"] for e in report["skipped"]} == {"2004/corrupt.midi", "2005/empty.midi"}
    _assert_same(_dask_run(corpus_with_bad_files, params), local_run)


def test_a_worker_killed_mid_run_loses_no_file(corpus_with_bad_files, params, local_run, tmp_path):
    """The worker reading one file dies the first time; Dask runs the file again elsewhere."""
    raw_midi = raw_catalog(corpus_with_bad_files)["raw_midi"].load()
    marker = tmp_path / "killed_once"
    raw_midi["2005/piece_04"] = KillsItsWorker(raw_midi["2005/piece_04"], str(marker))
    out = _dask_run(corpus_with_bad_files, params, raw_midi)
    assert marker.exists()  # a worker did die
    _assert_same(out, local_run)


def test_a_file_that_kills_every_worker_is_reported_with_its_reason(corpus_with_bad_files, params, local_run):
    raw_midi = raw_catalog(corpus_with_bad_files)["raw_midi"].load()
    raw_midi["2005/piece_04"] = KillsItsWorker(raw_midi["2005/piece_04"])
    out = _dask_run(corpus_with_bad_files, params, raw_midi, retries=1)
    report = out["data_quality_report"]
    assert report["pieces_loaded"] == 9 and report["pieces_loaded"] + report["pieces_skipped"] == report["pieces_listed"] == 12
    killed = [e for e in report["skipped"] if e["piece_id"] == "2005/piece_04"]
    assert killed == [{"midi_filename": "2005/piece_04.midi", "piece_id": "2005/piece_04",
                       "reason": "a Dask worker died while processing it, on each try (KilledWorker)"}]
    assert out["train_tokens"] == {k: v for k, v in local_run["train_tokens"].items() if k != "2005/piece_04"}
