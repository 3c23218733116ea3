"""Where a generated piece came from, kept inside its MIDI file (no Kedro imports).

A provenance record names the seed, the sampler's settings, the prompt (a corpus piece and its
bars, a MIDI file and its hash, or nothing) with the composer, the length asked for, and the
content hashes of the checkpoint and the vocabulary that made the piece. It travels as a MIDI
marker at time 0, so the file keeps it when it leaves the project, and
``python -m symbolic_music.generate --reproduce <file.mid>`` regenerates the piece from it.
"""

from __future__ import annotations

import hashlib
import json

import torch
from symusic import Score, TextMeta

from symbolic_music.music.vocabulary import Vocabulary

MARKER = "symbolic-music provenance "


def checkpoint_hash(model: torch.nn.Module) -> str:
    """SHA-256 of a model's weights (names, shapes, dtypes and values), cached on the model."""
    if getattr(model, "_content_hash", None) is None:
        digest = hashlib.sha256()
        for name, tensor in sorted(model.state_dict().items()):
            tensor = tensor.detach().cpu().contiguous()
            digest.update(f"{name}{tuple(tensor.shape)}{tensor.dtype}".encode())
            digest.update(tensor.view(torch.uint8).numpy().tobytes() if tensor.numel() else b"")
        model._content_hash = digest.hexdigest()
    return model._content_hash


def vocabulary_hash(vocabulary: Vocabulary) -> str:
    """SHA-256 of a vocabulary's saved form (miditok's config and BPE model, composers, ids)."""
    return hashlib.sha256(json.dumps(vocabulary.to_dict(), sort_keys=True).encode()).hexdigest()


def file_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def stamp(score: Score, record: dict) -> Score:
    """``score`` with ``record`` as its provenance marker (an older one is replaced)."""
    score.markers = [m for m in score.markers if not m.text.startswith(MARKER)]
    score.markers.append(TextMeta(0, MARKER + json.dumps(record, sort_keys=True)))
    return score


def read_stamp(score: Score) -> dict | None:
    """The provenance record of a score, or ``None`` when it has none."""
    for marker in score.markers:
        if marker.text.startswith(MARKER):
            return json.loads(marker.text.removeprefix(MARKER))
    return None
