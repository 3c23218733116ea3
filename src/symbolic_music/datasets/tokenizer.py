"""The miditok tokenizer as a versioned JSON file, via miditok's own save and load."""

from __future__ import annotations

import json
from pathlib import Path

import miditok

from symbolic_music.datasets._artifact import ArtifactDataset


class TokenizerDataset(ArtifactDataset):
    """A miditok ``MusicTokenizer`` (REMI, or any miditok class) saved with ``tokenizer.save``.

    The class is read back from the ``tokenization`` field miditok writes, so a BPE-trained
    tokenizer loads with its learned vocabulary. Extra attributes set by this project
    (``composer_tokens``) are kept under the ``symbolic_music`` key of the same file.
    """

    def _read(self, path: Path) -> miditok.MusicTokenizer:
        params = json.loads(path.read_text())
        tokenizer_class = getattr(miditok, params["tokenization"])
        tokenizer = tokenizer_class(params=path)
        tokenizer.composer_tokens = params.get("symbolic_music", {}).get("composer_tokens", {})
        return tokenizer

    def _write(self, data: miditok.MusicTokenizer, path: Path) -> None:
        data.save(path)
        params = json.loads(path.read_text())
        params["symbolic_music"] = {"composer_tokens": getattr(data, "composer_tokens", {})}
        path.write_text(json.dumps(params, indent=1))
