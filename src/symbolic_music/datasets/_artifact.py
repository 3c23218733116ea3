"""Shared base for the project's custom datasets: a versioned file or folder, saved atomically.

Subclasses implement ``_read(local_path)`` and ``_write(data, local_path)`` on a plain local
path; this base class handles Kedro versioning, fsspec and the atomic rename.
"""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path, PurePosixPath
from typing import Any

import fsspec
from kedro.io.core import (
    AbstractVersionedDataset,
    DatasetError,
    Version,
    get_filepath_str,
    get_protocol_and_path,
)


class ArtifactDataset(AbstractVersionedDataset):
    """A file or folder at ``filepath``; versioned saves land in ``filepath/<timestamp>/<name>``.

    Saves are atomic: the artefact is written to a hidden staging path next to its target and
    renamed into place, so an interrupted save never leaves a half-written version behind.
    """

    def __init__(
        self,
        filepath: str,
        version: Version | None = None,
        fs_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        protocol, path = get_protocol_and_path(filepath, version)
        self._protocol = protocol
        self._fs = fsspec.filesystem(protocol, **(fs_args or {}))
        self.metadata = metadata
        super().__init__(
            filepath=PurePosixPath(path),
            version=version,
            exists_function=self._fs.exists,
            glob_function=self._fs.glob,
        )

    # --- subclass hooks -------------------------------------------------------------------
    def _read(self, path: Path) -> Any:
        raise NotImplementedError

    def _write(self, data: Any, path: Path) -> None:
        raise NotImplementedError

    # --- Kedro interface ------------------------------------------------------------------
    def load(self) -> Any:
        load_path = get_filepath_str(self._get_load_path(), self._protocol)
        if not self._fs.exists(load_path):
            raise DatasetError(f"{type(self).__name__}: nothing saved at '{load_path}'.")
        if self._protocol == "file":
            return self._read(Path(load_path))
        with tempfile.TemporaryDirectory() as tmp:
            local = Path(tmp) / PurePosixPath(load_path).name
            self._fs.get(load_path, str(local), recursive=True)
            return self._read(local)

    def save(self, data: Any) -> None:
        save_path = get_filepath_str(self._get_save_path(), self._protocol)
        name = PurePosixPath(save_path).name
        parent = str(PurePosixPath(save_path).parent)
        with tempfile.TemporaryDirectory() as tmp:
            local = Path(tmp) / name
            self._write(data, local)
            self._fs.makedirs(parent, exist_ok=True)
            staging = f"{parent}/.{name}.{uuid.uuid4().hex}.partial"
            self._fs.put(str(local), staging, recursive=local.is_dir())
            if self._fs.exists(save_path):  # only unversioned datasets reach this
                self._fs.rm(save_path, recursive=True)
            self._fs.mv(staging, save_path, recursive=True)
        self._invalidate_cache()

    def _exists(self) -> bool:
        try:
            load_path = get_filepath_str(self._get_load_path(), self._protocol)
        except DatasetError:
            return False
        return self._fs.exists(load_path)

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath), "protocol": self._protocol, "version": self._version}

    def _release(self) -> None:
        super()._release()
        self._invalidate_cache()

    def _invalidate_cache(self) -> None:
        self._fs.invalidate_cache(get_filepath_str(self._filepath, self._protocol))
