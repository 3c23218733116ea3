"""An append-only JSON-lines file that many writers share: the listening test's ratings."""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from typing import Any

from kedro.io import AbstractDataset, DatasetError


def append_lines(path: Path, records: list[dict]) -> None:
    """Append each record to ``path`` as one JSON line, creating the file and its folder.

    Each line goes to the file in ONE ``os.write`` on a descriptor opened with ``O_APPEND``,
    under an exclusive ``flock``, so lines from writers in other threads or processes never
    interleave, and a crash leaves at most one trailing line without its newline (which
    ``music.listening.parse_ratings`` skips). The next writer ends such a line first, so it
    never swallows a new record. ``OSError`` when a write falls short.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n").encode() for record in records]
    descriptor = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        size = os.fstat(descriptor).st_size
        if lines and size and os.pread(descriptor, 1, size - 1) != b"\n":
            lines[0] = b"\n" + lines[0]
        for line in lines:
            written = os.write(descriptor, line)
            if written != len(line):
                raise OSError(f"short write to '{path}': {written} of {len(line)} bytes")
        os.fsync(descriptor)
    finally:
        os.close(descriptor)  # closing releases the lock


class JsonLinesDataset(AbstractDataset[list[dict], str]):
    """A local JSON-lines file: ``save(records)`` appends (see ``append_lines``); ``load()``
    returns the file's text, ``""`` when the file does not exist yet.

    Loading returns text, not records, so the reader decides what to do with a line that is
    half-written or broken (``music.listening.parse_ratings`` skips and counts them). Not
    versioned: every writer appends to the one file.
    """

    def __init__(self, filepath: str, metadata: dict[str, Any] | None = None) -> None:
        self._filepath = Path(filepath)
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath)}

    @property
    def filepath(self) -> Path:
        return self._filepath

    def load(self) -> str:
        try:
            return self._filepath.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def save(self, data: list[dict]) -> None:
        if not isinstance(data, list) or not all(isinstance(record, dict) for record in data):
            raise DatasetError(f"JsonLinesDataset saves a list of dicts, got {type(data).__name__}")
        append_lines(self._filepath, data)

    def _exists(self) -> bool:
        return self._filepath.exists()
