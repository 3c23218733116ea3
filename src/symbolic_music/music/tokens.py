"""Tokenizer construction and piece ↔ token-id conversion with miditok (no Kedro imports)."""

from __future__ import annotations

import miditok
from symusic import Score


def build_tokenizer(settings: dict) -> miditok.REMI:
    """A miditok REMI tokenizer from the ``tokenizer`` parameters (see parameters_data_engineering.yml).

    ``beat_res`` keys are written ``"start_end"`` in YAML (``"0_4": 8``) and become tuples here.
    ``pitch_range`` is ``[low, high)`` in MIDI numbers; notes outside it are dropped by miditok.
    """
    settings = dict(settings)
    settings["pitch_range"] = tuple(settings["pitch_range"])
    if "tempo_range" in settings:
        settings["tempo_range"] = tuple(settings["tempo_range"])
    settings["beat_res"] = {tuple(int(x) for x in key.split("_")): int(res) for key, res in settings["beat_res"].items()}
    return miditok.REMI(miditok.TokenizerConfig(**settings))


def encode_score(tokenizer: miditok.MusicTokenizer, score: Score) -> list[int]:
    """Token ids of a one-track piano score (the whole piece, never truncated)."""
    encoded = tokenizer.encode(score)
    sequence = encoded[0] if isinstance(encoded, list) else encoded
    return [int(i) for i in sequence.ids]


def decode_ids(tokenizer: miditok.MusicTokenizer, ids: list[int]) -> Score:
    """A one-track score from token ids; special tokens (PAD/BOS/EOS/composer) are ignored."""
    special = set(tokenizer.special_tokens_ids)
    kept = [i for i in ids if i not in special]
    return tokenizer.decode([kept] if not tokenizer.one_token_stream else kept)
