"""The token store: ``{piece_id: token ids}`` as a folder of Parquet shards, loaded lazily,
one shard at a time."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from symbolic_music.datasets._artifact import ArtifactDataset

SCHEMA = pa.schema([("piece_id", pa.string()), ("ids", pa.list_(pa.int32()))])
SHARD_NAME = "shard-{:05d}.parquet"


def shard_groups(tokens: Mapping[str, list[int]], shard_size: int) -> Iterator[list[tuple[str, list[int]]]]:
    """``(piece_id, ids)`` in order, cut into shards of at most ``shard_size`` tokens. A piece
    is never split: one longer than ``shard_size`` is a shard on its own."""
    group, count = [], 0
    for piece_id, ids in tokens.items():
        if group and count + len(ids) > shard_size:
            yield group
            group, count = [], 0
        group.append((piece_id, ids))
        count += len(ids)
    if group:
        yield group


class TokenShards(Mapping):
    """A read-only ``{piece_id: [token ids]}`` over the Parquet shards of a folder (any fsspec
    filesystem), in the order the pieces were saved.

    Nothing is read until it is needed: keys come from the shards' ``piece_id`` columns, and a
    value loads its whole shard, which stays cached until another shard is read. So iterating
    ``items()`` or ``values()`` (or ``shards()``) holds one shard's ids in memory at a time, and a
    split larger than memory can be streamed. Values are ``list[int]``, equal to what was saved.
    Compares equal to a ``dict`` with the same items.
    """

    def __init__(self, fs: Any, folder: str) -> None:
        self._fs, self._folder = fs, folder.rstrip("/")
        self._files = sorted(p for p in self._fs.ls(self._folder, detail=False) if p.endswith(".parquet"))
        self._shard_of: dict[str, int] | None = None
        self._cached: tuple[int, dict[str, list[int]]] | None = None

    def __repr__(self) -> str:
        return f"TokenShards({self._folder!r}, {len(self._files)} shards)"

    def _read(self, number: int, columns: list[str] | None = None) -> pa.Table:
        with self._fs.open(self._files[number], "rb") as file:
            return pq.read_table(file, columns=columns)

    def _index(self) -> dict[str, int]:
        if self._shard_of is None:
            self._shard_of = {
                piece_id: number
                for number in range(len(self._files))
                for piece_id in self._read(number, ["piece_id"]).column("piece_id").to_pylist()
            }
        return self._shard_of

    def shard(self, number: int) -> dict[str, list[int]]:
        """Shard ``number`` (0-based) as ``{piece_id: ids}``."""
        if self._cached is None or self._cached[0] != number:
            table = self._read(number)
            ids = table.column("ids").combine_chunks()
            values, offsets = ids.values.to_numpy(), ids.offsets.to_numpy()
            pieces = table.column("piece_id").to_pylist()
            self._cached = (number, {p: values[offsets[i] : offsets[i + 1]].tolist() for i, p in enumerate(pieces)})
        return self._cached[1]

    def shards(self) -> Iterator[dict[str, list[int]]]:
        """Every shard in order, as ``{piece_id: ids}``: a split, streamed."""
        for number in range(len(self._files)):
            yield self.shard(number)

    @property
    def num_shards(self) -> int:
        return len(self._files)

    def __getitem__(self, piece_id: str) -> list[int]:
        return self.shard(self._index()[piece_id])[piece_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._index())

    def __len__(self) -> int:
        return len(self._index())

    def __contains__(self, piece_id: object) -> bool:
        return piece_id in self._index()

    def items(self):
        return ((piece_id, ids) for shard in self.shards() for piece_id, ids in shard.items())

    def values(self):
        return (ids for shard in self.shards() for ids in shard.values())

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_cached": None}


class TokenShardsDataset(ArtifactDataset):
    """Token ids of whole pieces, ``{piece_id: [ids]}``, as a folder of Parquet shards
    (``shard-00000.parquet`` …; columns ``piece_id: string``, ``ids: list<int32>``).

    ``shard_size`` is the most tokens a shard holds (a longer piece is a shard on its own; a
    piece is never split), so memory while streaming a split is bounded by it. Saving takes any
    mapping (a ``dict`` or a loaded ``TokenShards``) and keeps its order; an empty mapping saves
    an empty folder. Loading returns a lazy ``TokenShards`` (see there): nothing is read until a
    piece is asked for. Ids must fit int32. Versioned like every ``ArtifactDataset``: each save is
    a new ``<filepath>/<timestamp>/<name>/`` folder, written aside and renamed into place.
    """

    def __init__(self, filepath: str, shard_size: int = 1_000_000, **kwargs: Any) -> None:
        if shard_size < 1:
            raise ValueError(f"TokenShardsDataset: shard_size must be at least 1 token, got {shard_size}")
        super().__init__(filepath=filepath, **kwargs)
        self._shard_size = int(shard_size)

    def load(self) -> TokenShards:
        from kedro.io.core import DatasetError, get_filepath_str

        load_path = get_filepath_str(self._get_load_path(), self._protocol)
        if not self._fs.exists(load_path):
            raise DatasetError(f"{type(self).__name__}: nothing saved at '{load_path}'.")
        return TokenShards(self._fs, load_path)

    def _write(self, data: Mapping[str, list[int]], path: Path) -> None:
        path.mkdir(parents=True)
        for number, group in enumerate(shard_groups(data, self._shard_size)):
            rows = [np.asarray(ids, dtype=np.int64) for _, ids in group]
            if any(len(r) and (r.min() < 0 or r.max() > np.iinfo(np.int32).max) for r in rows):
                raise ValueError("TokenShardsDataset: token ids must be in [0, 2**31)")
            lengths = np.array([len(r) for r in rows], dtype=np.int32)
            offsets = pa.array(np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32))
            flat = pa.array(np.concatenate(rows).astype(np.int32) if rows else np.array([], np.int32))
            piece_ids = pa.array([piece_id for piece_id, _ in group], pa.string())
            table = pa.table([piece_ids, pa.ListArray.from_arrays(offsets, flat)], schema=SCHEMA)
            pq.write_table(table, path / SHARD_NAME.format(number))

    def _describe(self) -> dict[str, Any]:
        return {**super()._describe(), "shard_size": self._shard_size}
