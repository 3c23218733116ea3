"""data_engineering: every node, the bad inputs, and the whole pipeline on the tiny corpus."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from kedro.io import MemoryDataset
from symusic import Score

from symbolic_music.pipelines import data_engineering
from symbolic_music.pipelines.data_engineering.nodes import (
    compute_reference_statistics,
    create_tokenizer,
    extract_notes,
    load_scores,
    tokenize_pieces,
    validate_metadata,
)
from tests.conftest import make_score, raw_catalog, run_pipeline, write_corpus


def _loaders(scores: dict[str, Score]) -> dict:
    return {name: (lambda s=score: s) for name, score in scores.items()}


def _metadata(n: int = 4) -> pd.DataFrame:
    return pd.DataFrame({
        "canonical_composer": ["A", "B"] * (n // 2),
        "canonical_title": [f"t{i}" for i in range(n)],
        "split": ["train", "train", "validation", "test"][:n],
        "year": [2004, 2006, 2008, 2009][:n],
        "midi_filename": [f"2004/p{i}.midi" for i in range(n)],
    })


def test_validate_metadata_names_missing_columns(params):
    with pytest.raises(ValueError, match=r"\['split', 'year'\]"):
        validate_metadata(_metadata().drop(columns=["split", "year"]), {}, params["data_engineering"])


def test_validate_metadata_names_every_missing_file(params):
    loaders = _loaders({"2004/p0": make_score(0), "2004/p2": make_score(2)})
    with pytest.raises(FileNotFoundError) as error:
        validate_metadata(_metadata(), loaders, params["data_engineering"])
    assert "2004/p1.midi" in str(error.value) and "2004/p3.midi" in str(error.value)
    assert "2004/p0.midi" not in str(error.value)


def test_validate_metadata_official_and_by_year_splits(params):
    loaders = _loaders({f"2004/p{i}": make_score(i) for i in range(4)})
    official = validate_metadata(_metadata(), loaders, params["data_engineering"])
    assert list(official["split"]) == ["train", "train", "validation", "test"]
    assert list(official["piece_id"]) == [f"2004/p{i}" for i in range(4)]
    by_year = {**params["data_engineering"], "split": {**params["data_engineering"]["split"], "strategy": "by_year"}}
    checked = validate_metadata(_metadata(), loaders, by_year)
    # 2004 -> test, 2006 -> validation, 2008 and 2009 -> train (the original study's lists)
    assert list(checked["split"]) == ["test", "validation", "train", "train"]


def test_validate_metadata_rejects_unknown_strategy(params):
    bad = {**params["data_engineering"], "split": {"strategy": "random"}}
    with pytest.raises(ValueError, match="data_engineering.split.strategy"):
        validate_metadata(_metadata(), _loaders({f"2004/p{i}": make_score(i) for i in range(4)}), bad)


def test_load_scores_skips_and_reports_bad_files(params):
    pieces = validate_metadata(_metadata(), _loaders({f"2004/p{i}": make_score(i) for i in range(4)}), params["data_engineering"])

    def corrupt():
        return Score.from_midi(b"MThd not a midi file at all")

    def empty():
        return Score.from_midi(b"")

    loaders = {"2004/p0": lambda: make_score(0), "2004/p1": corrupt, "2004/p2": empty, "2004/p3": lambda: Score(480)}
    scores, kept, report = load_scores(pieces, loaders)
    assert list(scores) == ["2004/p0"] and list(kept["piece_id"]) == ["2004/p0"]
    reasons = {entry["midi_filename"]: entry["reason"] for entry in report["skipped"]}
    assert set(reasons) == {"2004/p1.midi", "2004/p2.midi", "2004/p3.midi"}
    assert reasons["2004/p3.midi"] == "no notes"
    assert reasons["2004/p1.midi"].startswith("unreadable MIDI")
    assert report["pieces_loaded"] == 1 and report["pieces_skipped"] == 3
    assert kept.loc[0, "num_notes"] == make_score(0).note_num()


def test_load_scores_merges_tracks_into_one_piano_track(params):
    two_tracks = make_score(1)
    two_tracks.tracks.append(make_score(2).tracks[0])
    pieces = validate_metadata(_metadata(2), _loaders({"2004/p0": two_tracks, "2004/p1": make_score(3)}), params["data_engineering"])
    scores, _, _ = load_scores(pieces, _loaders({"2004/p0": two_tracks, "2004/p1": make_score(3)}))
    assert len(scores["2004/p0"].tracks) == 1
    assert scores["2004/p0"].note_num() == two_tracks.note_num()


def test_create_tokenizer_follows_parameters(params):
    vocabulary = create_tokenizer(params["data_engineering"])
    tokenizer, settings = vocabulary.tokenizer, params["data_engineering"]["tokenizer"]
    assert tokenizer.config.pitch_range == tuple(settings["pitch_range"])
    assert tokenizer.config.use_tempos == settings["use_tempos"]
    assert len(tokenizer.velocities) == settings["num_velocities"]
    assert "BOS_None" in tokenizer.vocab and "Tempo" in " ".join(tokenizer.vocab)
    assert vocabulary.composers == {} and vocabulary.token_ids() == {t: i for t, i in tokenizer.vocab.items()}


def test_tokenize_pieces_keeps_whole_pieces_per_split(params):
    pieces = pd.DataFrame({"piece_id": ["a", "b", "c"], "split": ["train", "validation", "test"]})
    long_score = make_score(0, num_notes=600)
    scores = {"a": long_score, "b": make_score(1), "c": make_score(2)}
    tokenizer = create_tokenizer(params["data_engineering"])
    train, validation, test = tokenize_pieces(scores, pieces, tokenizer, params["data_engineering"])
    assert list(train) == ["a"] and list(validation) == ["b"] and list(test) == ["c"]
    pitch_tokens = sum(tokenizer.token(i).startswith("Pitch_") for i in train["a"])
    assert pitch_tokens == long_score.note_num()  # no truncation: one Pitch token per note
    assert len(train["a"]) > 2000


def test_extract_notes_columns_and_steps(params):
    pieces = pd.DataFrame({"piece_id": ["a", "b"], "split": ["train", "test"], "composer": ["X", "Y"]})
    notes = extract_notes({"a": make_score(0), "b": make_score(1)}, pieces, params["data_engineering"])
    assert list(notes.columns) == ["piece_id", "split", "composer", "pitch", "velocity", "start", "end", "step", "duration"]
    assert len(notes) == make_score(0).note_num() + make_score(1).note_num()
    first_a = notes[notes["piece_id"] == "a"]
    assert first_a["step"].iloc[0] == 0
    assert (first_a["step"].iloc[1:].to_numpy() == first_a["start"].diff().iloc[1:].to_numpy()).all()
    # 120 bpm, 480 ticks per quarter: a 480-tick note lasts half a second
    assert set(first_a["duration"].round(6)) <= {0.125, 0.25, 0.5}


def test_compute_reference_statistics_per_split():
    notes = pd.DataFrame({
        "piece_id": ["a"] * 3 + ["b"] * 2,
        "split": ["train"] * 3 + ["test"] * 2,
        "pitch": [60, 62, 64, 60, 60],
        "velocity": [80, 80, 80, 64, 64],
        "start": [0.0, 0.5, 1.0, 0.0, 1.0],
        "end": [0.5, 1.0, 1.5, 1.0, 2.0],
        "step": [0.0, 0.5, 0.5, 0.0, 1.0],
        "duration": [0.5, 0.5, 0.5, 1.0, 1.0],
    })
    train, test = compute_reference_statistics(notes)
    assert train["pitch"]["mean"] == 62 and train["num_notes"] == 3
    assert train["notes_per_second"] == pytest.approx(2.0)
    assert train["interval_histogram"] == {"2": 1.0}
    assert test["pitch_class_histogram"][0] == 1.0
    assert test["velocity"]["mean"] == 64


def test_whole_pipeline_on_tiny_corpus(engineered):
    report = engineered["data_quality_report"]
    assert report["pieces_loaded"] == 12 and report["skipped"] == []
    assert {len(engineered[f"{s}_tokens"]) for s in ("train", "validation", "test")} == {8, 2}
    assert len(engineered["notes"]) == sum(make_score(i).note_num() for i in range(12))
    assert engineered["test_reference_stats"]["num_pieces"] == 2


def test_maestro_layout_with_corrupt_and_empty_files(tmp_path, params):
    """Acceptance: a corrupt and an empty file among real pieces are skipped and reported."""
    metadata = write_corpus(tmp_path, num_pieces=6)
    (tmp_path / "2004" / "corrupt.midi").write_bytes(b"MThd\x00\x00\x00\x06garbage")
    (tmp_path / "2004" / "empty.midi").write_bytes(b"")
    bad_rows = pd.DataFrame([
        {**metadata.iloc[0].to_dict(), "midi_filename": "2004/corrupt.midi", "canonical_title": "corrupt"},
        {**metadata.iloc[0].to_dict(), "midi_filename": "2004/empty.midi", "canonical_title": "empty"},
    ])
    pd.concat([metadata, bad_rows]).to_csv(tmp_path / "maestro-v3.0.0.csv", index=False)
    catalog = raw_catalog(tmp_path)
    catalog["params:data_engineering"] = MemoryDataset(params["data_engineering"])
    out = run_pipeline(data_engineering.create_pipeline(), catalog)
    report = out["data_quality_report"]
    assert {e["midi_filename"] for e in report["skipped"]} == {"2004/corrupt.midi", "2004/empty.midi"}
    assert all(e["reason"].startswith("unreadable MIDI") for e in report["skipped"])
    tokenized = {**out["train_tokens"], **out["validation_tokens"], **out["test_tokens"]}
    assert len(tokenized) == 6


def test_missing_file_stops_the_pipeline_naming_it(tmp_path, params):
    write_corpus(tmp_path, num_pieces=4)
    shutil.rmtree(tmp_path / "2005")
    catalog = raw_catalog(tmp_path)
    catalog["params:data_engineering"] = MemoryDataset(params["data_engineering"])
    with pytest.raises(FileNotFoundError, match="2005/piece_01.midi"):
        run_pipeline(data_engineering.create_pipeline(), catalog)


def test_two_workers_give_the_serial_output(engineered, params):
    """Tokenization and note extraction across 2 processes equal the serial run."""
    scores, pieces = engineered["scores"], engineered["pieces"]
    tokenizer = engineered["tokenizer"]
    parallel = {**params["data_engineering"], "num_workers": 2}
    assert tokenize_pieces(scores, pieces, tokenizer, parallel) == (
        engineered["train_tokens"], engineered["validation_tokens"], engineered["test_tokens"],
    )
    pd.testing.assert_frame_equal(extract_notes(scores, pieces, parallel), engineered["notes"])
