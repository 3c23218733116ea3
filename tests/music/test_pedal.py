"""The sustain pedal's three modes (``data_engineering.pedal``) on a score built in code, and the
pedal heard in rendered audio."""

from __future__ import annotations

import numpy as np
import pytest
from kedro.config import OmegaConfigLoader
from kedro.io.core import Version
from symusic import ControlChange, Note, Pedal, Score, Tempo, Track

from symbolic_music.datasets import TokenizerDataset
from symbolic_music.music.audio import find_soundfont, render
from symbolic_music.music.pedal import SUSTAIN_PEDAL, apply_pedal, sustained, validate_pedal_mode, with_pedal_controls
from symbolic_music.music.tokens import build_tokenizer
from symbolic_music.music.vocabulary import Vocabulary
from symbolic_music.settings import CONFIG_LOADER_ARGS
from tests.conftest import PROJECT_ROOT

TPQ = 480  # ticks per beat; 120 bpm, so a beat is 0.5 s
DOWN, UP = 240, 1920  # the pedal is pressed on beat 0.5 and released on beat 4 (bar 2)


def _performance() -> Score:
    """A bar of four notes played staccato under one press of the sustain pedal, a note played after
    it, a long note released after it, and a key struck twice under it; the pedal both as symusic
    reads it from MIDI (``Pedal`` and CC64 control changes)."""
    score = Score(TPQ)
    score.tempos.append(Tempo(0, 120.0))
    track = Track(name="Piano", program=0)
    track.notes.extend([
        Note(0, 240, 60, 80),      # released at 240, as the pedal goes down: held until 1920
        Note(480, 120, 64, 70),    # held until 1920
        Note(960, 120, 67, 75),    # struck again at 1440: held until then only
        Note(1440, 120, 67, 90),   # held until 1920
        Note(0, 2400, 36, 50),     # released after the pedal came up: unchanged
        Note(2400, 240, 72, 85),   # after the pedal: unchanged
    ])
    track.pedals.append(Pedal(DOWN, UP - DOWN))
    track.controls.extend([ControlChange(DOWN, SUSTAIN_PEDAL, 127), ControlChange(UP, SUSTAIN_PEDAL, 0), ControlChange(0, 7, 100)])
    score.tracks.append(track)
    return score


def _notes(score: Score) -> list[tuple[int, int, int, int]]:
    """(onset, pitch, velocity, end) of every note."""
    return [(n.time, n.pitch, n.velocity, n.end) for t in score.tracks for n in t.notes]


def test_extend_lengthens_the_notes_under_the_pedal_to_its_release():
    score = _performance()
    extended = apply_pedal(score, "extend")
    assert [end for *_, end in _notes(extended)] == [UP, UP, 1440, UP, 2400, 2640]
    assert [n[:3] for n in _notes(extended)] == [n[:3] for n in _notes(score)]  # onsets, pitches, velocities: the performance's
    assert len(extended.tracks[0].pedals) == 0
    assert [(c.number, c.value) for c in extended.tracks[0].controls] == [(7, 100)]  # the pedal is in the durations now
    assert _notes(sustained(extended)) == _notes(extended)  # applying it again changes nothing
    assert _notes(score)[0][3] == 240  # the input is left alone


def test_extend_works_in_seconds_and_joins_overlapping_presses():
    score = _performance()
    score.tracks[0].pedals.append(Pedal(UP - 100, 300))  # overlaps the first press: the pedal is up only at 2120
    seconds = apply_pedal(score.to("second"), "extend")
    ends = [round(n.end, 3) for n in seconds.tracks[0].notes]
    assert ends == [2.208, 2.208, 1.5, 2.208, 2.5, 2.75]  # 2120 ticks = 2.208 s


def test_tokens_round_trip_pedal_events_into_control_changes(params):
    vocabulary = Vocabulary(build_tokenizer(params["data_engineering"]["tokenizer"], "tokens"))
    assert vocabulary.pedal == "tokens"
    ids = vocabulary.encode(_performance())
    strings = vocabulary.base_tokens(ids)
    assert strings.count("Pedal_0") == 1 and strings.count("PedalOff_0") == 1
    decoded = vocabulary.decode(ids)
    beat = decoded.ticks_per_quarter
    assert [(p.time / beat, p.end / beat) for p in decoded.tracks[0].pedals] == [(DOWN / TPQ, UP / TPQ)]
    heard = with_pedal_controls(decoded)  # what the renderer and MIDI files get
    pedal = [(c.time / beat, c.value) for c in heard.tracks[0].controls if c.number == SUSTAIN_PEDAL]
    assert pedal == [(DOWN / TPQ, 127), (UP / TPQ, 0)]
    again = Score.from_midi(heard.dumps_midi())
    assert [(p.time / beat, p.end / beat) for p in again.tracks[0].pedals] == [(DOWN / TPQ, UP / TPQ)]
    assert sorted((n.time / beat, n.pitch, n.duration / beat) for n in decoded.tracks[0].notes) == sorted(
        (n.time / TPQ, n.pitch, n.duration / TPQ) for n in _performance().tracks[0].notes)  # key durations, as played


def test_ignore_is_the_tokenizer_of_before(params):
    settings = params["data_engineering"]["tokenizer"]
    vocabulary = Vocabulary(build_tokenizer(settings))
    assert vocabulary.pedal == "ignore" and not any("Pedal" in token for token in vocabulary.token_ids())
    score = _performance()
    assert apply_pedal(score, "ignore") is score
    decoded = vocabulary.decode(vocabulary.encode(score))
    beat = decoded.ticks_per_quarter
    assert sorted((n.time / beat, n.pitch, n.duration / beat) for n in decoded.tracks[0].notes) == sorted(
        (n.time / TPQ, n.pitch, n.duration / TPQ) for n in score.tracks[0].notes)
    assert len(decoded.tracks[0].pedals) == 0 and len(decoded.tracks[0].controls) == 0


def test_the_mode_travels_with_the_vocabulary(params, tmp_path):
    settings = params["data_engineering"]["tokenizer"]
    extend = Vocabulary(build_tokenizer(settings), pedal="extend")
    dataset = TokenizerDataset(filepath=str(tmp_path / "tokenizer.json"), version=Version(None, None))
    dataset.save(extend)
    loaded = dataset.load()
    assert loaded.pedal == "extend"
    # a prompt is prepared as the training data was: its held notes are lengthened before encoding
    assert loaded.encode(_performance()) == loaded.encode(sustained(_performance()))
    assert loaded.encode(_performance()) != Vocabulary(build_tokenizer(settings)).encode(_performance())
    with pytest.raises(ValueError, match="does not match the tokenizer"):
        Vocabulary(build_tokenizer(settings), pedal="tokens")
    with pytest.raises(ValueError, match="data_engineering.pedal"):
        validate_pedal_mode("soft")
    with pytest.raises(ValueError, match="data_engineering.pedal"):
        build_tokenizer({**settings, "use_sustain_pedals": True})


def test_rendered_pedal_is_heard(base_params):
    """Short notes under a long press ring on after their keys are up when the score holds the
    pedal only as ``Pedal`` objects (as miditok decodes it and symusic never writes to MIDI)."""
    audio = base_params["generation"]["audio"]
    soundfont = find_soundfont(audio["soundfont"])
    score = Score(TPQ)
    score.tempos.append(Tempo(0, 120.0))
    track = Track(name="Piano", program=0)
    track.notes.extend([Note(0, 120, 60, 90), Note(0, 120, 64, 90), Note(0, 120, 67, 90), Note(3 * TPQ, 10, 72, 1)])
    score.tracks.append(track)
    pedalled = score.copy()
    pedalled.tracks[0].pedals.append(Pedal(0, 3 * TPQ))

    def level(clip: np.ndarray, start: float, end: float) -> float:
        rate = audio["sample_rate"]
        return float(np.sqrt(np.mean(np.square(clip[int(start * rate) : int(end * rate)]))))

    dry, wet = (render(s, soundfont, audio["sample_rate"], 0.2) for s in (score, pedalled))
    # keys up at 0.125 s; between 0.5 s and 1.4 s only the pedal keeps the chord sounding
    assert level(wet, 0.5, 1.4) > 10 * level(dry, 0.5, 1.4)
    assert level(wet, 0.0, 0.1) == pytest.approx(level(dry, 0.0, 0.1), rel=0.05)


def test_maestro_models_the_pedal_and_changes_nothing_else(base_params):
    """conf/maestro sets the measured pedal mode (README, "The sustain pedal") and, parameters
    merging key by key, keeps every other data_engineering setting of conf/base."""
    loader = OmegaConfigLoader(conf_source=str(PROJECT_ROOT / "conf"), **{**CONFIG_LOADER_ARGS, "default_run_env": "maestro"})
    maestro, base = loader["parameters"]["data_engineering"], base_params["data_engineering"]
    assert base["pedal"] == "ignore" and maestro["pedal"] == "tokens"
    assert {k: v for k, v in maestro.items() if k not in ("pedal", "raw_folder")} == {k: v for k, v in base.items() if k not in ("pedal", "raw_folder")}
