"""Any folder of MIDI files as a corpus: inferred metadata, stable splits, suffix handling."""

from __future__ import annotations

import pytest
from kedro.io import DatasetError

from symbolic_music.datasets import MidiFolderCorpusDataset, MidiPartitionsDataset
from symbolic_music.music.corpus import MAESTRO_COLUMNS, piece_id_of
from tests.conftest import make_score, write_midi_folder


def _metadata(root, **kwargs):
    return MidiFolderCorpusDataset(path=str(root), **kwargs).load().set_index("midi_filename")


def test_metadata_is_inferred_from_the_folder(tmp_path):
    write_midi_folder(tmp_path, {"alpha": 6, "beta/live": 2, "": 1})
    (tmp_path / "notes.txt").write_text("not music")
    (tmp_path / "alpha" / ".DS_Store").write_bytes(b"\0\1")
    (tmp_path / "alpha" / "._piece_00.mid").write_bytes(b"\0\5\26\7")  # macOS resource fork
    table = MidiFolderCorpusDataset(path=str(tmp_path)).load()
    assert list(table.columns) == MAESTRO_COLUMNS
    assert list(table["midi_filename"]) == sorted(table["midi_filename"])
    rows = table.set_index("midi_filename")
    assert set(rows.index) == {"alpha/piece_00.mid", "alpha/piece_01.MID", "alpha/piece_02.midi", "alpha/piece_03.mid",
                               "alpha/piece_04.MID", "alpha/piece_05.midi", "beta/live/piece_00.mid", "beta/live/piece_01.MID",
                               "piece_00.midi"}
    assert rows.loc["beta/live/piece_01.MID", "canonical_composer"] == "beta"  # the first subfolder names the label
    assert rows.loc["piece_00.midi", "canonical_composer"] == "unknown"
    assert rows.loc["alpha/piece_01.MID", "canonical_title"] == "piece_01"
    assert set(table["year"]) == {0} and set(table["audio_filename"]) == {""}
    # make_score: 80 steps of 240 or 480 ticks at 120 bpm, so 20-40 s
    assert table["duration"].between(15, 40).all()
    assert set(rows.loc[["beta/live/piece_00.mid", "beta/live/piece_01.MID", "piece_00.midi"], "split"]) == {"train"}
    assert sorted(rows.loc[rows["canonical_composer"] == "alpha", "split"]) == ["test", "train", "train", "train", "train", "validation"]


def test_partitions_are_keyed_like_the_metadata_whatever_the_suffix(tmp_path):
    write_midi_folder(tmp_path, {"alpha": 3, "": 1})
    (tmp_path / "alpha" / "readme.txt").write_text("x")
    (tmp_path / ".DS_Store").write_bytes(b"\0")
    metadata = MidiFolderCorpusDataset(path=str(tmp_path)).load()
    partitions = MidiPartitionsDataset(path=str(tmp_path)).load()
    assert sorted(partitions) == sorted(metadata["midi_filename"].map(piece_id_of)) == [
        "alpha/piece_00", "alpha/piece_01", "alpha/piece_02", "piece_00"]
    assert partitions["alpha/piece_01"]().note_num() == make_score(1).note_num()  # piece_01.MID
    with pytest.raises(DatasetError, match="read-only"):
        MidiPartitionsDataset(path=str(tmp_path)).save({})


def test_splits_are_stable_when_unrelated_files_are_added(tmp_path):
    write_midi_folder(tmp_path, {"alpha": 12, "beta": 12})
    before = _metadata(tmp_path)["split"]
    assert {label: sorted(before[before.index.str.startswith(label)]).count("test") for label in ("alpha", "beta")} == {"alpha": 1, "beta": 1}
    write_midi_folder(tmp_path, {"gamma": 7, "": 2}, first_seed=100)
    (tmp_path / "alpha" / "cover.txt").write_text("x")
    (tmp_path / "beta" / "broken.mid").write_bytes(b"MThd\x00\x00\x00\x06garbage")  # unreadable: never held out
    after = _metadata(tmp_path)
    assert after.loc[before.index, "split"].equals(before)
    assert after.loc["beta/broken.mid", "split"] == "train" and after.loc["beta/broken.mid", "duration"] == 0
    assert set(after.loc[after.index.str.startswith("gamma"), "split"]) == {"train", "validation", "test"}
    assert _metadata(tmp_path, seed=1)["split"].to_dict() != after["split"].to_dict()  # the seed reshuffles
    assert _metadata(tmp_path)["split"].equals(after["split"])  # and loading is deterministic


def test_bad_files_do_not_stop_the_listing(tmp_path):
    write_midi_folder(tmp_path, {"alpha": 2})
    (tmp_path / "alpha" / "empty.mid").write_bytes(b"")
    (tmp_path / "alpha" / "letter.MID").write_text("Dear Sir, this is not MIDI at all, whatever its name says.")
    rows = _metadata(tmp_path)
    assert rows.loc[["alpha/empty.mid", "alpha/letter.MID"], "duration"].tolist() == [0.0, 0.0]


def test_two_files_one_piece_are_named(tmp_path):
    make_score(0).dump_midi(str(tmp_path / "x.mid"))
    make_score(1).dump_midi(str(tmp_path / "x.MIDI"))
    with pytest.raises(DatasetError, match=r"x\.MIDI.*x\.mid|x\.mid.*x\.MIDI"):
        MidiFolderCorpusDataset(path=str(tmp_path)).load()


def test_an_empty_or_missing_folder_loads_empty(tmp_path):
    assert MidiFolderCorpusDataset(path=str(tmp_path / "none")).load().empty
    assert MidiPartitionsDataset(path=str(tmp_path / "none")).load() == {}
    (tmp_path / "only.txt").write_text("x")
    assert MidiFolderCorpusDataset(path=str(tmp_path)).load().empty
    assert MidiPartitionsDataset(path=str(tmp_path)).load() == {}
