"""The app: its callbacks called as functions, the same through HTTP against the app served on
127.0.0.1, the message without a trained model, and the listening test's ratings file."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import pytest
from gradio_client import Client, handle_file
from symusic import Score

from symbolic_music.app.generate_tab import NO_COMPOSER, Studio, continue_piece, generate_piece
from symbolic_music.app.listening_tab import NO_MUSIC, next_pair, submit_rating
from symbolic_music.app.main import build_app, load_resources
from symbolic_music.music.listening import parse_ratings
from tests.app.helpers import GENERATED, make_listening_test, served
from tests.conftest import make_score, project_copy

SETTINGS = (1.0, 50, 0.95, 0.0)  # temperature, top_k, top_p, min_p
SECONDS = 4


@pytest.fixture
def studio(small_model, params, tmp_path) -> Studio:
    return Studio(small_model["transformer"], small_model["transformer_tokenizer"], params["generation"], params["app"], tmp_path / "generate")


@pytest.fixture
def listening(tmp_path, params):
    return make_listening_test(tmp_path / "listening", params)


@pytest.fixture
def client(studio, listening):
    with served(build_app(studio, listening)) as url:
        yield Client(url, verbose=False)


def assert_music(outputs, notes_at_least: int = 1) -> Score:
    message, roll, audio, midi, last = outputs
    assert Path(roll).read_bytes()[:4] == b"\x89PNG", message
    assert Path(audio).read_bytes()[:4] == b"OggS"
    score = Score(midi)
    assert score.note_num() >= notes_at_least, message
    assert "notes" in message and last["tokens"]
    return score


def test_generate_then_continue_returns_midi_with_notes(studio):
    composer = next(iter(studio.vocabulary.composers))
    outputs = generate_piece(studio, composer, *SETTINGS, 1, SECONDS, None)
    first = assert_music(outputs)
    assert f"Composer: {composer}" in outputs[0]
    longer = assert_music(continue_piece(studio, outputs[4], *SETTINGS, 2, SECONDS), first.note_num() + 1)
    assert longer.to("second").end() > first.to("second").end()
    seed = studio.generation["seed"]
    assert generate_piece(studio, NO_COMPOSER, *SETTINGS, None, SECONDS, None)[0].endswith(f"Composer: none, seed {seed}.")


def test_bad_uploads_and_settings_get_a_message_and_the_next_call_works(studio, tmp_path):
    not_midi, empty, long_piece = tmp_path / "notes.txt", tmp_path / "empty.mid", tmp_path / "long.mid"
    not_midi.write_bytes(b"these are not MIDI bytes")
    Score(480).dump_midi(str(empty))
    make_score(0, num_notes=200).dump_midi(str(long_piece))  # about 75 s
    last = {"tokens": [1, 2], "composer": None}
    strict = dataclasses.replace(studio, settings={**studio.settings, "max_prompt_seconds": 30})
    tiny = dataclasses.replace(studio, settings={**studio.settings, "max_upload_bytes": 100})
    cases = [
        (studio, not_midi, "cannot read prompt MIDI"),
        (studio, empty, "has no notes"),
        (strict, long_piece, "app.max_prompt_seconds"),
        (tiny, long_piece, "app.max_upload_bytes"),
    ]
    for app, upload, expected in cases:
        message, roll, audio, midi, kept = generate_piece(app, NO_COMPOSER, *SETTINGS, 1, SECONDS, str(upload), last)
        assert expected in message and (roll, audio, midi) == (None, None, None) and kept is last
    assert "Settings refused" in generate_piece(studio, NO_COMPOSER, 0.0, 50, 0.95, 0.0, 1, SECONDS, None)[0]
    assert "app.max_seconds" in generate_piece(studio, NO_COMPOSER, *SETTINGS, 1, studio.settings["max_seconds"] + 1, None)[0]
    assert "press Generate first" in continue_piece(studio, None, *SETTINGS, 1, SECONDS)[0]
    assert "Unknown composer 'Nobody'" in generate_piece(studio, "Nobody", *SETTINGS, 1, SECONDS, None)[0]
    prompt = tmp_path / "prompt.mid"
    make_score(3, num_notes=20).dump_midi(str(prompt))
    continued = assert_music(generate_piece(studio, NO_COMPOSER, *SETTINGS, 1, SECONDS, str(prompt)), 20)
    assert continued.to("second").end() > Score(str(prompt)).to("second").end()


def test_generate_through_http_and_a_bad_upload_keeps_the_app_running(client, tmp_path):
    garbage = tmp_path / "garbage.mid"
    garbage.write_bytes(b"MThd but not really")
    message, *files = client.predict(NO_COMPOSER, *SETTINGS, 1, SECONDS, handle_file(str(garbage)), api_name="/generate")
    assert "cannot read prompt MIDI" in message and files == [None, None, None]
    message, roll, audio, midi = client.predict(NO_COMPOSER, *SETTINGS, 1, SECONDS, None, api_name="/generate")
    assert Score(midi).note_num() > 0, message
    message, roll, audio, longer = client.predict(*SETTINGS, 2, SECONDS, api_name="/continue")
    assert Score(longer).note_num() > Score(midi).note_num(), message


def test_without_a_trained_model_the_app_starts_and_names_the_command(tmp_path, params):
    studio, listening = load_resources(project_copy(tmp_path, params), None, tmp_path / "work")
    assert studio.model is None
    assert "`make run`" in studio.problem and "`kedro run --pipeline=data_engineering,transformer_model`" in studio.problem
    assert generate_piece(studio, NO_COMPOSER, *SETTINGS, 1, SECONDS, None)[0] == studio.problem
    assert listening.problem == NO_MUSIC and next_pair(listening, None)[0] == NO_MUSIC
    with served(build_app(studio, listening)) as url:
        assert Client(url, verbose=False).predict(NO_COMPOSER, *SETTINGS, 1, SECONDS, None, api_name="/generate")[0] == studio.problem


def test_pairs_are_blind_and_a_judgement_is_needed(listening):
    secrets = {e.system for e in listening.pool} | {e.piece for e in listening.pool} | {"real", "lstm", "balanced"}
    assert "continuation/prefix" not in {e.system for e in listening.pool}  # excluded: real music
    state = None
    for _ in range(10):
        status, audio_a, audio_b, *cleared, state = next_pair(listening, state)
        assert cleared == [None, None, None] and Path(audio_a).read_bytes()[:4] == b"OggS"
        assert not [s for s in secrets if s in status or s in Path(audio_a).name or s in Path(audio_b).name]
        assert listening.by_key[state["a"]].system != listening.by_key[state["b"]].system
    assert "Pick the more musical" in submit_rating(listening, None, None, None, state)[0]
    assert "New pair" in submit_rating(listening, "A", None, None, None)[0]
    assert not listening.ratings.filepath.exists()
    status, *_, state = submit_rating(listening, None, 2, 5, state)
    assert status.startswith("Saved: 1 judgement") and state["submitted"] == 1
    (record,), skipped = parse_ratings(listening.ratings.load())
    assert (record["preferred"], record["rating_a"], record["rating_b"], record["synthetic"], skipped) == (None, 2, 5, True, 0)


def test_simultaneous_submissions_through_http_all_persist_and_a_half_line_is_skipped(client, listening):
    listening.ratings.filepath.parent.mkdir(parents=True, exist_ok=True)
    listening.ratings.filepath.write_bytes(b'{"a": {"system": "lstm"}, "b": {"sys')  # a writer that died mid-line
    url, barrier, errors = client.src, threading.Barrier(2), []

    def listener(choice: str) -> None:
        try:
            own = Client(url, verbose=False)  # one client, one session
            own.predict(api_name="/next_pair")
            for rating in range(1, 4):
                barrier.wait(timeout=60)
                assert own.predict(choice, rating, None, api_name="/submit")[0].startswith("Saved")
        except Exception as error:  # surfaced below: an assert in a thread would pass silently
            errors.append(error)

    threads = [threading.Thread(target=listener, args=(choice,)) for choice in "AB"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    records, skipped = parse_ratings(listening.ratings.load())
    assert skipped == 1 and len(records) == 6
    assert sorted((r["preferred"], r["rating_a"]) for r in records) == [(c, r) for c in "ab" for r in range(1, 4)]
    assert len({r["listener"] for r in records}) == 2 and all(r["synthetic"] for r in records)
    assert {r[side]["system"] for r in records for side in "ab"} <= {e.system for e in listening.pool}
    assert {r[side]["piece"] for r in records for side in "ab"} <= {*GENERATED, "continuation/p1/reference", "test_piece"}
