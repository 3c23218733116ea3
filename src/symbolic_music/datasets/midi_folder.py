"""Read-only datasets over any folder of MIDI files: its inferred metadata, and its files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from kedro.io import AbstractDataset, DatasetError
from kedro_datasets.partitions import PartitionedDataset

from symbolic_music.music.corpus import midi_files, read_midi_folder


class MidiFolderCorpusDataset(AbstractDataset[None, pd.DataFrame]):
    """Loads the metadata table (MAESTRO v3 columns) of every MIDI file under a local ``path``,
    inferred from the folder (``music.corpus.read_midi_folder``): label = first subfolder
    (``unknown`` at the top level), title = file stem, ``year`` = 0, ``duration`` in seconds read
    with symusic (0 for an unreadable file, which data_engineering then skips and reports), and a
    split hashed from the piece's path with ``seed``, per label, ``validation_fraction`` and
    ``test_fraction`` of each label's pieces held out where it has at least five.

    Only ``.mid``/``.midi`` files (any case) count; hidden files and other files are ignored.
    Every file is parsed on each load (symusic reads a MIDI file in milliseconds), and nothing is
    written: saving raises ``DatasetError``. An empty or missing folder gives an empty table.
    """

    def __init__(
        self,
        path: str,
        validation_fraction: float = 0.1,
        test_fraction: float = 0.1,
        seed: int = 0,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._root = Path(path)
        self._settings = {"validation_fraction": validation_fraction, "test_fraction": test_fraction, "seed": seed}
        self.metadata = metadata

    def load(self) -> pd.DataFrame:
        try:
            return read_midi_folder(
                self._root, self._settings["validation_fraction"], self._settings["test_fraction"], str(self._settings["seed"])
            )
        except ValueError as error:  # two files that differ only in their suffix
            raise DatasetError(f"{self._root}: {error}") from error

    def save(self, data: None) -> None:
        raise DatasetError("MidiFolderCorpusDataset is read-only: it describes the files in its folder.")

    def _exists(self) -> bool:
        return self._root.is_dir()

    def _describe(self) -> dict[str, Any]:
        return {"path": str(self._root), **self._settings}


class MidiPartitionsDataset(PartitionedDataset):
    """A folder of MIDI files as ``{piece_id: loader}`` (a ``PartitionedDataset`` of ``MidiDataset``).

    ``piece_id`` is the file's path inside the folder without its suffix, whatever the suffix:
    ``.mid``, ``.midi`` and their upper-case forms are all listed, with the same rules as
    ``MidiFolderCorpusDataset`` (``music.corpus.midi_files``), so both name the same pieces. An
    empty or missing folder loads as ``{}``. Saving raises ``DatasetError``.
    """

    def __init__(self, path: str, dataset: str | dict = "symbolic_music.datasets.MidiDataset", **kwargs: Any) -> None:
        super().__init__(path=path, dataset=dataset, **kwargs)
        self._piece_of_path: dict[str, str] = {}

    def _list_partitions(self) -> list[str]:
        if self._cached_partitions is None:
            root = self._filesystem._strip_protocol(self._normalized_path).rstrip(self._sep)
            found = {path.split(root, 1).pop().lstrip(self._sep): path for path in self._filesystem.find(self._normalized_path)}
            self._piece_of_path = {found[relative]: piece_id for piece_id, relative in midi_files(found).items()}
            self._cached_partitions = sorted(self._piece_of_path)
        return self._cached_partitions

    def _path_to_partition(self, path: str) -> str:
        return self._piece_of_path[path]

    def load(self) -> dict:
        self._invalidate_caches()
        return super().load() if self._list_partitions() else {}

    def save(self, data: dict) -> None:
        raise DatasetError("MidiPartitionsDataset is read-only.")
