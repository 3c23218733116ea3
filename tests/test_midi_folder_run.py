"""`kedro run --env=midi_folder` through the real CLI on a project copy with a folder of MIDI
files written in code: two labels of 12 pieces, a corrupt, an empty and a band file, stray files."""

from __future__ import annotations

import json

from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from kedro.io.core import Version
from symusic import Score

from symbolic_music.datasets import TokenShardsDataset

from tests.conftest import PROJECT_ROOT, make_score, project_copy, write_midi_folder
from tests.test_run import _kedro


def test_the_environment_resolves_to_the_folder_datasets():
    bootstrap_project(PROJECT_ROOT)
    with KedroSession.create(project_path=PROJECT_ROOT, env="midi_folder") as session:
        context = session.load_context()
        assert type(context.catalog["raw_metadata"]).__name__ == "MidiFolderCorpusDataset"
        assert type(context.catalog["raw_midi"]).__name__ == "MidiPartitionsDataset"
        assert context.params["data_engineering"]["raw_folder"] == "data/01_raw/midi_folder"


def test_midi_folder_env_runs_data_engineering(tmp_path, params):
    project = project_copy(tmp_path, params)
    root = project / "data" / "01_raw" / "midi_folder"
    write_midi_folder(root, {"chopin": 12, "satie": 12})
    (root / "chopin" / "corrupt.mid").write_bytes(b"MThd\x00\x00\x00\x06\x00\x01garbage")
    (root / "satie" / "empty.MID").write_bytes(b"")
    (root / "satie" / "liner notes.txt").write_text("not music")
    band = make_score(50)
    band.tracks.extend([make_score(51).tracks[0], make_score(52).tracks[0]])
    band.tracks[2].is_drum = True
    band.dump_midi(str(root / "band.midi"))  # top level: label "unknown"

    _kedro(project, "--env=midi_folder", "--pipeline=data_engineering")
    report_file = next(p for p in (project / "data/08_reporting/data_quality_report.json").rglob("*.json"))
    report = json.loads(report_file.read_text())
    assert {e["midi_filename"]: e["reason"].split(":")[0] for e in report["skipped"]} == {
        "chopin/corrupt.mid": "unreadable MIDI", "satie/empty.MID": "unreadable MIDI"}
    assert str(project) not in report_file.read_text()
    assert report["pieces_loaded"] == 25
    assert report["pieces_per_split"] == {"train": 21, "validation": 2, "test": 2}
    assert report["track_handling"] == [{"midi_filename": "band.midi", "tracks": 3, "drum_tracks_dropped": 1, "piano_tracks": 2,
                                         "kept": "merged 2 tracks"}]
    tokens = {}
    for split in ("train", "validation", "test"):
        tokens.update(TokenShardsDataset(filepath=str(project / f"data/03_primary/{split}_tokens"), version=Version(None, None)).load())
    assert len(tokens) == 25 and "chopin/piece_01" in tokens and "band" in tokens
    assert Score(str(root / "chopin" / "piece_01.MID")).note_num() == make_score(1).note_num()
