"""``python -m symbolic_music.maestro_sample`` on a fake miditok sdist: nothing is downloaded."""

from __future__ import annotations

import hashlib
import io
import subprocess
import tarfile
from pathlib import Path

import pandas as pd
import pytest
from symusic import Score

from symbolic_music import maestro_sample
from symbolic_music.maestro_sample import (
    CSV_NAME,
    FALLBACK_SPLIT_CYCLE,
    HASH_CHARS,
    KNOWN_PERFORMANCES,
    UNKNOWN_COMPOSER,
    Performance,
    main,
)
from symbolic_music.music.corpus import MAESTRO_COLUMNS
from tests.conftest import make_score

NUM_FILES = 10
SAMPLE_DIR = "miditok-9.9.9/tests/MIDIs_one_track"


def midi_bytes(score: Score) -> bytes:
    return bytes(score.dumps_midi())


def write_sdist(path: Path, members: dict[str, bytes]) -> Path:
    """A ``.tar.gz`` holding ``members`` (``{name inside the archive: bytes}``)."""
    with tarfile.open(path, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture
def sample_files() -> dict[str, bytes]:
    """Ten small performances named like miditok's, Maestro_1 … Maestro_10."""
    return {f"Maestro_{n}": midi_bytes(make_score(n, num_notes=20 + n)) for n in range(1, NUM_FILES + 1)}


@pytest.fixture
def sdist(tmp_path, sample_files) -> Path:
    members = {f"{SAMPLE_DIR}/{stem}.mid": data for stem, data in sample_files.items()}
    members["miditok-9.9.9/tests/MIDIs_one_track/POP909_008.mid"] = midi_bytes(make_score(99))  # not MAESTRO
    members["miditok-9.9.9/tests/MIDIs_multitrack/Maestro_1.mid"] = midi_bytes(make_score(98))  # wrong folder
    return write_sdist(tmp_path / "miditok-9.9.9.tar.gz", members)


def test_builds_maestro_layout_from_the_sdist(tmp_path, sdist, sample_files, capsys):
    out = tmp_path / "raw" / "maestro-v3.0.0"
    assert main(["--sdist", str(sdist), "--out", str(out)]) == 0
    metadata = pd.read_csv(out / CSV_NAME, keep_default_na=False)
    assert list(metadata.columns) == MAESTRO_COLUMNS
    # numeric order, so Maestro_10 comes last; the fake files match no identified performance
    assert list(metadata["canonical_title"]) == [f"Maestro_{n}" for n in range(1, NUM_FILES + 1)]
    assert set(metadata["canonical_composer"]) == {UNKNOWN_COMPOSER}
    expected_splits = [FALLBACK_SPLIT_CYCLE[i % len(FALLBACK_SPLIT_CYCLE)] for i in range(NUM_FILES)]
    assert list(metadata["split"]) == expected_splits
    assert metadata["split"].value_counts().to_dict() == {"train": 6, "validation": 2, "test": 2}
    for row in metadata.itertuples():
        path = out / row.midi_filename
        assert row.midi_filename == f"0000/{row.canonical_title}.midi"
        assert row.audio_filename == f"0000/{row.canonical_title}.wav"
        assert path.read_bytes() == sample_files[row.canonical_title]
        assert row.duration == pytest.approx(Score(str(path)).to("second").end())
        assert row.duration > 0
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no staging folder left
    printed = capsys.readouterr().out
    assert f"{NUM_FILES} performances" in printed and "train 6, validation 2, test 2" in printed


def test_an_identified_file_gets_its_maestro_labels(tmp_path, sdist, sample_files, monkeypatch):
    known = Performance(hashlib.sha256(sample_files["Maestro_2"]).hexdigest()[:HASH_CHARS], "Franz Liszt",
                        "Dante Sonata", 2009, "test", "train", "2009/original.midi")
    monkeypatch.setitem(KNOWN_PERFORMANCES, "Maestro_2", known)
    out = tmp_path / "maestro"
    assert main(["--sdist", str(sdist), "--out", str(out)]) == 0
    metadata = pd.read_csv(out / CSV_NAME, keep_default_na=False).set_index("canonical_title")
    assert metadata.loc["Dante Sonata", ["canonical_composer", "year", "split", "midi_filename"]].tolist() == [
        "Franz Liszt", 2009, "test", "2009/Maestro_2.midi"]
    # Maestro_3's table entry names other bytes, so it is not guessed
    assert metadata.loc["Maestro_3", "canonical_composer"] == UNKNOWN_COMPOSER


def test_identified_performances_fill_every_split_with_composers_train_holds_too():
    splits = {p.split for p in KNOWN_PERFORMANCES.values()}
    assert splits == {"train", "validation", "test"}
    held_out = {p.composer for p in KNOWN_PERFORMANCES.values() if p.split != "train"}
    assert held_out <= {p.composer for p in KNOWN_PERFORMANCES.values() if p.split == "train"}
    assert sorted(p.split for p in KNOWN_PERFORMANCES.values()).count("test") == 2
    assert all(len(p.sha256) == HASH_CHARS for p in KNOWN_PERFORMANCES.values())


def test_refuses_to_overwrite_a_non_empty_out_unless_forced(tmp_path, sdist, capsys):
    out = tmp_path / "maestro"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert main(["--sdist", str(sdist), "--out", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert (out / "keep.txt").read_text() == "mine"
    assert main(["--sdist", str(sdist), "--out", str(out), "--force"]) == 0
    assert not (out / "keep.txt").exists() and (out / CSV_NAME).exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["maestro", sdist.name])


def test_an_empty_out_folder_is_filled(tmp_path, sdist):
    out = tmp_path / "maestro"
    out.mkdir()
    assert main(["--sdist", str(sdist), "--out", str(out)]) == 0
    assert (out / CSV_NAME).exists()


def test_missing_sdist_exits_with_status_2(tmp_path, capsys):
    missing = tmp_path / "nowhere.tar.gz"
    assert main(["--sdist", str(missing), "--out", str(tmp_path / "maestro")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"no sdist at {missing}" in err
    assert list(tmp_path.iterdir()) == []


def test_not_a_tar_gz_exits_with_status_2(tmp_path, capsys):
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(b"not an archive")
    assert main(["--sdist", str(bad), "--out", str(tmp_path / "maestro")]) == 2
    assert "is not a readable .tar.gz" in capsys.readouterr().err


def test_sdist_without_maestro_files_exits_with_status_2(tmp_path, capsys):
    sdist = write_sdist(tmp_path / "m.tar.gz", {"miditok-1/README.md": b"hello"})
    assert main(["--sdist", str(sdist), "--out", str(tmp_path / "maestro")]) == 2
    assert "holds no tests/MIDIs_one_track/Maestro_*.mid" in capsys.readouterr().err


def test_a_file_without_notes_writes_nothing(tmp_path, sample_files, capsys):
    silent = make_score(1, num_notes=0)
    members = {f"{SAMPLE_DIR}/{stem}.mid": data for stem, data in sample_files.items()}
    members[f"{SAMPLE_DIR}/Maestro_4.mid"] = midi_bytes(silent)
    sdist = write_sdist(tmp_path / "m.tar.gz", members)
    out = tmp_path / "maestro"
    assert main(["--sdist", str(sdist), "--out", str(out)]) == 2
    assert "Maestro_4.mid holds no notes" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.tar.gz"]


def test_an_unreadable_file_writes_nothing(tmp_path, sample_files, capsys):
    members = {f"{SAMPLE_DIR}/{stem}.mid": data for stem, data in sample_files.items()}
    members[f"{SAMPLE_DIR}/Maestro_7.mid"] = b"MThd but not really MIDI"
    sdist = write_sdist(tmp_path / "m.tar.gz", members)
    assert main(["--sdist", str(sdist), "--out", str(tmp_path / "maestro")]) == 2
    assert "Maestro_7.mid: symusic cannot read it" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.tar.gz"]


def test_out_that_is_a_file_exits_with_status_2(tmp_path, sdist, capsys):
    out = tmp_path / "maestro"
    out.write_text("a file")
    assert main(["--sdist", str(sdist), "--out", str(out), "--force"]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    assert out.read_text() == "a file"


def test_a_failed_download_exits_with_status_2(tmp_path, monkeypatch, capsys):
    def failing_pip(command, **kwargs):
        assert command[1:4] == ["-m", "pip", "download"] and "--no-deps" in command
        stderr = "WARNING: retrying\nERROR: No matching distribution found for miditok==3.1.0\n"
        return subprocess.CompletedProcess(command, 1, stdout="", stderr=stderr)

    monkeypatch.setattr(maestro_sample.subprocess, "run", failing_pip)
    assert main(["--out", str(tmp_path / "maestro")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "could not download" in err and "No matching distribution found for miditok==3.1.0" in err
    assert list(tmp_path.iterdir()) == []
