"""MIDI datasets: one symusic ``Score``, or a folder of them keyed by relative name; and a
folder of the audio rendered from them."""

from __future__ import annotations

import base64
from pathlib import Path

from kedro_datasets._typing import ImagePreview
from symusic import Score

from symbolic_music.datasets._artifact import ArtifactDataset
from symbolic_music.music.corpus import MIDI_SUFFIXES


class MidiDataset(ArtifactDataset):
    """One MIDI file as a ``symusic.Score`` (ticks).

    Loading a file that symusic cannot parse raises symusic's error, naming nothing else:
    catch it where a skip is wanted (the data_engineering loader does).
    """

    def _read(self, path: Path) -> Score:
        return Score(str(path))

    def _write(self, data: Score, path: Path) -> None:
        data.dump_midi(str(path))

    def preview(self) -> ImagePreview:
        """A piano-roll PNG for kedro-viz, base64-encoded."""
        from symbolic_music.music.plots import piano_roll_png

        return ImagePreview(base64.b64encode(piano_roll_png(self.load())).decode())


class MidiFolderDataset(ArtifactDataset):
    """A folder of MIDI files as ``{name: Score}``; ``name`` is the path inside the folder
    without its suffix and may contain ``/`` (e.g. ``task1/balanced/sample_000``).

    Saving an empty dict writes an empty folder. Every file is written as ``<name>.mid``.
    """

    def _read(self, path: Path) -> dict[str, Score]:
        files = sorted(p for p in path.rglob("*") if p.suffix.lower() in MIDI_SUFFIXES)
        return {str(p.relative_to(path).with_suffix("")): Score(str(p)) for p in files}

    def _write(self, data: dict[str, Score], path: Path) -> None:
        path.mkdir(parents=True)
        for name, score in data.items():
            target = path / f"{name}.mid"
            target.parent.mkdir(parents=True, exist_ok=True)
            score.dump_midi(str(target))

    def preview(self) -> ImagePreview:
        """A piano roll of the folder's first piece (by name) for kedro-viz, base64-encoded."""
        from symbolic_music.music.plots import piano_roll_png

        pieces = self.load()
        return ImagePreview(base64.b64encode(piano_roll_png(pieces[min(pieces)])).decode() if pieces else "")


AUDIO_SUFFIXES = {b"OggS": ".ogg", b"fLaC": ".flac", b"RIFF": ".wav"}  # a file's first 4 bytes → its suffix


class AudioFolderDataset(ArtifactDataset):
    """A folder of encoded audio files as ``{name: bytes}``; ``name`` may contain ``/``.

    Each entry is saved as ``<name>.ogg``, ``<name>.flac`` or ``<name>.wav``, the suffix read
    from the bytes themselves (OGG Vorbis, FLAC or WAV; anything else is a ``ValueError`` naming
    the entry). Loading reads back all three suffixes. An empty dict writes an empty folder.
    """

    def _read(self, path: Path) -> dict[str, bytes]:
        files = sorted(p for p in path.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES.values())
        return {str(p.relative_to(path).with_suffix("")): p.read_bytes() for p in files}

    def _write(self, data: dict[str, bytes], path: Path) -> None:
        path.mkdir(parents=True)
        for name, audio in data.items():
            suffix = AUDIO_SUFFIXES.get(audio[:4])
            if suffix is None:
                raise ValueError(f"AudioFolderDataset: '{name}' is not OGG, FLAC or WAV (starts with {audio[:4]!r})")
            target = path / f"{name}{suffix}"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(audio)
