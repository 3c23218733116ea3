"""data_engineering: every node, the bad inputs, and the whole pipeline on the tiny corpus."""

from __future__ import annotations

import json
import re
import shutil

import pandas as pd
import pytest
from kedro.io import DataCatalog, DatasetError
from symusic import ControlChange, Score

from symbolic_music.datasets import MidiDataset, MidiFolderCorpusDataset, MidiPartitionsDataset
from symbolic_music.music.corpus import piece_id_of
from symbolic_music.music.notes import notes_table
from symbolic_music.pipelines import data_engineering
from symbolic_music.pipelines.data_engineering.nodes import (
    check_corpus_size,
    compute_reference_statistics,
    create_tokenizer,
    label_notes,
    preprocess_pieces,
    split_tokens,
    validate_metadata,
)
from symbolic_music.pipelines.data_engineering.per_file import unreadable_reason
from tests.conftest import make_score, raw_catalog, run_pipeline, with_engineering_params, write_corpus, write_midi_folder


def _loaders(scores: dict[str, Score]) -> dict:
    return {name: (lambda s=score: s) for name, score in scores.items()}


def _preprocess(pieces: pd.DataFrame, loaders: dict, params: dict, **changes):
    """``preprocess_pieces`` with data_engineering's parameters (``changes`` applied) and its tokenizer."""
    settings = {**params["data_engineering"], **changes}
    return preprocess_pieces(pieces, loaders, create_tokenizer(settings), settings)


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


def test_preprocess_pieces_skips_and_reports_bad_files(params):
    pieces = validate_metadata(_metadata(), _loaders({f"2004/p{i}": make_score(i) for i in range(4)}), params["data_engineering"])

    def corrupt():
        return Score.from_midi(b"MThd not a midi file at all")

    def empty():
        return Score.from_midi(b"")

    loaders = {"2004/p0": lambda: make_score(0), "2004/p1": corrupt, "2004/p2": empty, "2004/p3": lambda: Score(480)}
    kept, report, tokens, notes = _preprocess(pieces, loaders, params)
    assert list(tokens) == list(notes) == ["2004/p0"] and list(kept["piece_id"]) == ["2004/p0"]
    reasons = {entry["midi_filename"]: entry["reason"] for entry in report["skipped"]}
    assert set(reasons) == {"2004/p1.midi", "2004/p2.midi", "2004/p3.midi"}
    assert reasons["2004/p3.midi"] == "no notes"
    assert reasons["2004/p1.midi"].startswith("unreadable MIDI")
    assert report["pieces_loaded"] == 1 and report["pieces_skipped"] == 3
    assert kept.loc[0, "num_notes"] == make_score(0).note_num()


def test_preprocess_pieces_merges_tracks_into_one_piano_track(params):
    two_tracks = make_score(1)
    two_tracks.tracks.append(make_score(2).tracks[0])
    pieces = validate_metadata(_metadata(2), _loaders({"2004/p0": two_tracks, "2004/p1": make_score(3)}), params["data_engineering"])
    kept, _, tokens, notes = _preprocess(pieces, _loaders({"2004/p0": two_tracks, "2004/p1": make_score(3)}), params)
    assert kept.loc[0, "num_notes"] == len(notes["2004/p0"]) == two_tracks.note_num()
    tokenizer = create_tokenizer(params["data_engineering"])
    assert len(tokenizer.decode(tokens["2004/p0"]).tracks) == 1


def test_create_tokenizer_follows_parameters(params):
    vocabulary = create_tokenizer(params["data_engineering"])
    tokenizer, settings = vocabulary.tokenizer, params["data_engineering"]["tokenizer"]
    assert tokenizer.config.pitch_range == tuple(settings["pitch_range"])
    assert tokenizer.config.use_tempos == settings["use_tempos"]
    assert len(tokenizer.velocities) == settings["num_velocities"]
    assert "BOS_None" in tokenizer.vocab and "Tempo" in " ".join(tokenizer.vocab)
    assert vocabulary.composers == {} and vocabulary.token_ids() == {t: i for t, i in tokenizer.vocab.items()}


def test_tokens_keep_whole_pieces_per_split(params):
    pieces = pd.concat([_one_piece(f"{name}.mid") for name in "abc"], ignore_index=True).assign(split=["train", "validation", "test"])
    long_score = make_score(0, num_notes=600)
    kept, _, piece_tokens, _ = _preprocess(pieces, _loaders({"a": long_score, "b": make_score(1), "c": make_score(2)}), params)
    train, validation, test = split_tokens(piece_tokens, kept)
    tokenizer = create_tokenizer(params["data_engineering"])
    assert list(train) == ["a"] and list(validation) == ["b"] and list(test) == ["c"]
    pitch_tokens = sum(tokenizer.token(i).startswith("Pitch_") for i in train["a"])
    assert pitch_tokens == long_score.note_num()  # no truncation: one Pitch token per note
    assert len(train["a"]) > 2000


def test_note_table_columns_and_steps(params):
    pieces = pd.concat([_one_piece("a.mid"), _one_piece("b.mid")], ignore_index=True).assign(split=["train", "test"], composer=["X", "Y"])
    kept, _, _, piece_notes = _preprocess(pieces, _loaders({"a": make_score(0), "b": make_score(1)}), params)
    notes = label_notes(piece_notes, kept)
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
    metadata = write_corpus(tmp_path, num_pieces=6).assign(split=["train"] * 4 + ["validation", "test"])
    (tmp_path / "2004" / "corrupt.midi").write_bytes(b"MThd\x00\x00\x00\x06garbage")
    (tmp_path / "2004" / "empty.midi").write_bytes(b"")
    bad_rows = pd.DataFrame([
        {**metadata.iloc[0].to_dict(), "midi_filename": "2004/corrupt.midi", "canonical_title": "corrupt"},
        {**metadata.iloc[0].to_dict(), "midi_filename": "2004/empty.midi", "canonical_title": "empty"},
    ])
    pd.concat([metadata, bad_rows]).to_csv(tmp_path / "maestro-v3.0.0.csv", index=False)
    catalog = raw_catalog(tmp_path, params)
    out = run_pipeline(data_engineering.create_pipeline(), catalog)
    report = out["data_quality_report"]
    assert {e["midi_filename"] for e in report["skipped"]} == {"2004/corrupt.midi", "2004/empty.midi"}
    assert all(e["reason"].startswith("unreadable MIDI") for e in report["skipped"])
    assert str(tmp_path) not in json.dumps(report)  # files are named by their path inside the corpus
    tokenized = {**out["train_tokens"], **out["validation_tokens"], **out["test_tokens"]}
    assert len(tokenized) == 6


def test_missing_file_stops_the_pipeline_naming_it(tmp_path, params):
    write_corpus(tmp_path, num_pieces=4)
    shutil.rmtree(tmp_path / "2005")
    catalog = raw_catalog(tmp_path, params)
    with pytest.raises(FileNotFoundError, match="2005/piece_01.midi"):
        run_pipeline(data_engineering.create_pipeline(), catalog)


def test_two_workers_give_the_serial_output(engineered, corpus_root, params):
    """Parsing, tokenization and note extraction across 2 processes equal the serial run."""
    raw_midi = raw_catalog(corpus_root)["raw_midi"].load()
    kept, report, tokens, notes = _preprocess(engineered["checked_pieces"], raw_midi, params, num_workers=2)
    pd.testing.assert_frame_equal(kept, engineered["loaded_pieces"])
    assert report == engineered["data_quality_report"] and tokens == engineered["piece_tokens"]
    assert split_tokens(tokens, kept) == (engineered["train_tokens"], engineered["validation_tokens"], engineered["test_tokens"])
    pd.testing.assert_frame_equal(label_notes(notes, kept), engineered["notes"])


def _band_score() -> Score:
    """Two piano tracks (programs 0 and 1), a string track (48) and a drum track, through MIDI bytes."""
    score = make_score(0)
    for seed, program, is_drum in ((1, 1, False), (2, 48, False), (3, 0, True)):
        track = make_score(seed).tracks[0]
        track.program, track.is_drum = program, is_drum
        score.tracks.append(track)
    return Score.from_midi(score.dumps_midi())


def _one_piece(midi_filename: str) -> pd.DataFrame:
    return pd.DataFrame({"piece_id": [piece_id_of(midi_filename)], "composer": ["A"], "title": ["t"], "split": ["train"],
                         "year": [0], "midi_filename": [midi_filename]})


@pytest.mark.parametrize("tracks, notes_from, kept", [
    ("merge", (0, 1, 2), "merged 3 tracks"),
    ("piano_only", (0, 1), "kept 2 piano tracks of 3"),
])
def test_tracks_parameter_on_a_multi_track_file(params, tracks, notes_from, kept):
    band = _band_score()
    pieces, report, _, notes = _preprocess(_one_piece("band/x.mid"), {"band/x": lambda: band}, params, tracks=tracks)
    assert pieces.loc[0, "num_notes"] == len(notes["band/x"]) == sum(band.tracks[i].note_num() for i in notes_from)
    assert report["tracks_mode"] == tracks
    assert report["track_handling"] == [
        {"midi_filename": "band/x.mid", "tracks": 4, "drum_tracks_dropped": 1, "piano_tracks": 2, "kept": kept}
    ]


def test_piano_only_skips_a_file_without_piano_and_lists_no_single_piano_file(params):
    strings = make_score(4)
    strings.tracks[0].program = 48
    pieces = pd.concat([_one_piece("a/strings.mid"), _one_piece("a/solo.mid")], ignore_index=True)
    loaders = {"a/strings": lambda: strings, "a/solo": lambda: make_score(5)}
    _, report, tokens, _ = _preprocess(pieces, loaders, params, tracks="piano_only")
    assert list(tokens) == ["a/solo"] and report["track_handling"] == []
    assert report["skipped"] == [{"midi_filename": "a/strings.mid", "piece_id": "a/strings",
                                  "reason": "no piano track (General MIDI programs 0-7) among 1 pitched track"}]


def test_unknown_tracks_mode_is_named(params):
    with pytest.raises(ValueError, match="data_engineering.tracks"):
        _preprocess(_one_piece("a/x.mid"), {"a/x": lambda: make_score(0)}, params, tracks="all")


def _pedalled_midi() -> Score:
    """A piece played under one press of the sustain pedal (CC64 down at 0, up a beat after the
    last key release), read from MIDI bytes as the raw datasets read it."""
    score = make_score(6, num_notes=8)
    track = score.tracks[0]
    track.controls.extend([ControlChange(0, 64, 127), ControlChange(max(n.end for n in track.notes) + 480, 64, 0)])
    return Score.from_midi(score.dumps_midi())


@pytest.mark.parametrize("pedal", ["ignore", "tokens", "extend"])
def test_pedal_parameter_prepares_the_notes_and_the_tokens(params, pedal):
    performance = _pedalled_midi()
    release = performance.to("second").tracks[0].pedals[0].end
    played = notes_table(performance)
    _, report, tokens, notes = _preprocess(_one_piece("a/x.mid"), {"a/x": lambda: performance}, params, pedal=pedal)
    table = notes["a/x"]
    assert report["pedal_mode"] == pedal
    key = ["start", "pitch", "velocity"]  # onsets and dynamics stay the performance's
    pd.testing.assert_frame_equal(table[key].reset_index(drop=True), played[key].reset_index(drop=True))
    vocabulary = create_tokenizer({**params["data_engineering"], "pedal": pedal})
    pedal_tokens = [t for t in vocabulary.base_tokens(tokens["a/x"]) if t.startswith("Pedal")]
    if pedal == "extend":  # every key is released under the pedal here: each note sounds until it comes up,
        # or until its key is struck again
        later = [played.loc[(played["pitch"] == row.pitch) & (played["start"] > row.start), "start"] for row in played.itertuples()]
        assert table["end"].to_numpy() == pytest.approx([min([release, *onsets]) for onsets in later])
        assert (table["end"].to_numpy() > played["end"].to_numpy()).sum() > len(table) // 2
    else:  # the notes end at key release; the tokenizer reads the pedal under `tokens` only
        assert table["end"].to_numpy() == pytest.approx(played["end"].to_numpy())
    assert pedal_tokens == (["Pedal_0", "PedalOff_0"] if pedal == "tokens" else [])


def test_reasons_name_files_by_relative_path_only(tmp_path, params):
    """Kedro's DatasetError repeats the absolute filepath; the report must not."""
    (tmp_path / "2004").mkdir()
    (tmp_path / "2004" / "corrupt.midi").write_bytes(b"MThd\x00\x00\x00\x06garbage")
    loaders = {"2004/corrupt": MidiDataset(filepath=str(tmp_path / "2004" / "corrupt.midi")).load,
               "2004/gone": MidiDataset(filepath=str(tmp_path / "2004" / "gone.midi")).load}
    pieces = pd.concat([_one_piece("2004/corrupt.midi"), _one_piece("2004/gone.midi")], ignore_index=True)
    _, report, _, _ = _preprocess(pieces, loaders, params)
    reasons = [entry["reason"] for entry in report["skipped"]]
    assert len(reasons) == 2 and not any(str(tmp_path) in reason for reason in reasons)
    assert reasons[0].startswith("unreadable MIDI: MiniMidi")
    assert reasons[1] == "unreadable MIDI: MidiDataset: nothing saved at '2004/gone.midi'."
    error = DatasetError(f"Failed while loading data from dataset MidiDataset(filepath='/data/My Music/a/b.mid')")
    assert unreadable_reason(error, "a/b.mid") == "unreadable MIDI: Failed while loading data from dataset MidiDataset(filepath='a/b.mid')"


def test_too_few_pieces_stop_the_run_naming_folder_and_counts(params):
    loaded = pd.DataFrame({"piece_id": list("abcd"), "split": ["train", "train", "validation", "test"], "num_notes": [50, 50, 50, 5]})
    report = {"pieces_listed": 6, "pieces_skipped": 2}
    settings = {**params["data_engineering"], "raw_folder": "data/01_raw/midi_folder"}
    with pytest.raises(ValueError) as error:
        check_corpus_size(loaded, report, settings, {"seq_length": 32})
    message = str(error.value)
    assert "in data/01_raw/midi_folder: found 3 (train 2, validation 1, test 0)" in message
    assert "need at least 3 (train 1, validation 1, test 1" in message
    assert "6 files were listed and 2 skipped" in message and "more than 32 notes" in message
    assert check_corpus_size(loaded, report, settings, {"seq_length": 4}) is loaded


def _midi_folder_catalog(root, params) -> DataCatalog:
    catalog = DataCatalog({"raw_metadata": MidiFolderCorpusDataset(path=str(root)), "raw_midi": MidiPartitionsDataset(path=str(root))})
    return with_engineering_params(catalog, {**params, "data_engineering": {**params["data_engineering"], "raw_folder": str(root)}})


def test_a_midi_folder_runs_like_maestro_and_reports_bad_files_by_relative_path(tmp_path, params):
    write_midi_folder(tmp_path, {"alpha": 5, "beta": 5})
    (tmp_path / "alpha" / "corrupt.MID").write_bytes(b"MThd\x00\x00\x00\x06garbage")
    (tmp_path / "beta" / "silent.midi").write_bytes(Score(480).dumps_midi())
    out = run_pipeline(data_engineering.create_pipeline(), _midi_folder_catalog(tmp_path, params))
    report = out["data_quality_report"]
    assert {e["midi_filename"]: e["reason"][:15] for e in report["skipped"]} == {"alpha/corrupt.MID": "unreadable MIDI", "beta/silent.midi": "no notes"}
    assert str(tmp_path) not in json.dumps(report)
    assert report["pieces_per_split"] == {"train": 6, "validation": 2, "test": 2}
    assert set(out["pieces"]["composer"]) == {"alpha", "beta"}


def test_a_folder_too_small_to_split_stops_naming_it(tmp_path, params):
    write_midi_folder(tmp_path, {"alpha": 4, "beta": 3})  # under 5 per label: nothing is held out
    with pytest.raises(ValueError, match=rf"Too few usable pieces in {re.escape(str(tmp_path))}: found 7 \(train 7, validation 0, test 0\), need at least 3"):
        run_pipeline(data_engineering.create_pipeline(), _midi_folder_catalog(tmp_path, params))
