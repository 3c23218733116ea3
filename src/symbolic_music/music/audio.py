"""MIDI → WAV with the FluidSynth program and a General MIDI SoundFont (no Kedro imports).

symusic 0.6's own ``Synthesizer.render`` fails to return its audio under numpy 2.x, so the
project renders with FluidSynth (Debian: ``apt-get install fluidsynth``). The default SoundFont
is ``TimGM6mb.sf2``, shipped inside the ``pretty_midi`` package (``pip install -e ".[audio]"``).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from importlib import resources
from pathlib import Path

from symusic import Score


def find_soundfont(path: str | None) -> Path:
    """``path`` if given, else pretty_midi's ``TimGM6mb.sf2``; ``FileNotFoundError`` saying how to get one."""
    if path:
        if not Path(path).is_file():
            raise FileNotFoundError(f"generation.audio.soundfont: no file at '{path}'")
        return Path(path)
    try:
        return Path(str(resources.files("pretty_midi") / "TimGM6mb.sf2"))
    except ModuleNotFoundError:
        raise FileNotFoundError(
            "no SoundFont: install the audio extra (pip install -e '.[audio]', which brings pretty_midi's "
            "TimGM6mb.sf2) or set generation.audio.soundfont to a .sf2 file"
        ) from None


def fluidsynth_program() -> str:
    """Path of the ``fluidsynth`` program; ``FileNotFoundError`` saying how to install it."""
    program = shutil.which("fluidsynth")
    if program is None:
        raise FileNotFoundError("audio rendering needs the fluidsynth program: apt-get install fluidsynth (Debian/Ubuntu)")
    return program


def render_wav(score: Score, soundfont: Path, sample_rate: int) -> bytes:
    """One score as 16-bit WAV bytes rendered by FluidSynth at ``sample_rate`` Hz."""
    with tempfile.TemporaryDirectory() as tmp:
        midi, wav = Path(tmp) / "in.mid", Path(tmp) / "out.wav"
        score.dump_midi(str(midi))
        subprocess.run(
            [fluidsynth_program(), "-ni", "-q", "-F", str(wav), "-r", str(sample_rate), str(soundfont), str(midi)],
            check=True, capture_output=True, timeout=600,
        )
        return wav.read_bytes()
