"""Read-only dataset: the embedded corpus built from music21's bundled scores, cached on disk."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pandas as pd
from kedro.io import AbstractDataset, DatasetError

from symbolic_music.music.corpus import build_music21_corpus

log = logging.getLogger(__name__)


class Music21CorpusDataset(AbstractDataset[None, pd.DataFrame]):
    """Loads the metadata table (MAESTRO v3 columns) of a MIDI corpus made from music21's scores.

    The first load converts the scores into ``path`` (``<composer>/<piece>.midi`` plus
    ``metadata.csv``); later loads reuse that cache as long as the settings that built it are
    unchanged (they are stored in ``corpus_settings.json``). Saving is not supported.
    """

    def __init__(
        self,
        path: str,
        composers: dict[str, dict],
        validation_fraction: float = 0.1,
        test_fraction: float = 0.1,
        seed: int = 0,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._root = Path(path)
        self._settings = {
            "composers": composers,
            "validation_fraction": validation_fraction,
            "test_fraction": test_fraction,
            "seed": seed,
        }
        self.metadata = metadata

    @property
    def _csv(self) -> Path:
        return self._root / "metadata.csv"

    @property
    def _settings_file(self) -> Path:
        return self._root / "corpus_settings.json"

    def _cache_is_fresh(self) -> bool:
        return (
            self._csv.exists()
            and self._settings_file.exists()
            and json.loads(self._settings_file.read_text()) == self._settings
        )

    def load(self) -> pd.DataFrame:
        if not self._cache_is_fresh():
            log.info("Building the embedded music21 corpus in %s (cached for later runs)", self._root)
            self._root.mkdir(parents=True, exist_ok=True)
            table = build_music21_corpus(
                self._root,
                self._settings["composers"],
                self._settings["validation_fraction"],
                self._settings["test_fraction"],
                salt=str(self._settings["seed"]),
            )
            tmp = self._csv.with_suffix(".csv.partial")
            table.to_csv(tmp, index=False)
            tmp.replace(self._csv)
            self._settings_file.write_text(json.dumps(self._settings, indent=1))
        return pd.read_csv(self._csv, keep_default_na=False)

    def save(self, data: None) -> None:
        raise DatasetError("Music21CorpusDataset is read-only: it builds its own files.")

    def _exists(self) -> bool:
        return self._cache_is_fresh()

    def _describe(self) -> dict[str, Any]:
        return {"path": str(self._root), **self._settings}
