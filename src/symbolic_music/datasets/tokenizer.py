"""A ``Vocabulary`` (miditok tokenizer + composer tokens) as one versioned JSON file."""

from __future__ import annotations

import json
from pathlib import Path

import miditok

from symbolic_music.datasets._artifact import ArtifactDataset
from symbolic_music.music.vocabulary import Vocabulary


class TokenizerDataset(ArtifactDataset):
    """A ``symbolic_music.music.vocabulary.Vocabulary`` in miditok's JSON format.

    The file is miditok's own (``tokenizer.save``: config, and the BPE model once trained; the
    class is read back from its ``tokenization`` field), plus a ``symbolic_music`` key with the
    composer tokens and the full token → id map. Loading rebuilds miditok's tokenizer and raises
    ``ValueError`` if any id differs from the saved map, so ids cannot shift silently.
    """

    def _read(self, path: Path) -> Vocabulary:
        params = json.loads(path.read_text())
        tokenizer = getattr(miditok, params["tokenization"])(params=path)
        try:
            return Vocabulary.from_dict(params, tokenizer)
        except ValueError as error:
            raise ValueError(f"{self._filepath.name}: {error}") from None

    def _write(self, data: Vocabulary, path: Path) -> None:
        path.write_text(json.dumps(data.to_dict(), indent=1))
