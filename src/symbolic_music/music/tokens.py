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


def bar_bytes(tokenizer: miditok.MusicTokenizer, score: Score) -> list[str]:
    """A score's base tokens as the per-bar byte strings miditok's BPE trainer reads.

    This mirrors ``miditok.TokTrainingIterator.load_file`` for a score held in memory.
    """
    encoded = tokenizer.encode(score, encode_ids=False)
    sequence = encoded[0] if isinstance(encoded, list) else encoded
    return [tokenizer._ids_to_bytes(bar.ids, as_one_str=True) for bar in sequence.split_per_bars() if len(bar.ids)]


def train_bpe(tokenizer: miditok.MusicTokenizer, scores: list[Score], vocab_size: int) -> None:
    """Train a BPE vocabulary of ``vocab_size`` tokens in place on ``scores`` (merges stay within bars)."""
    if vocab_size <= tokenizer.vocab_size:
        raise ValueError(f"BPE vocab_size ({vocab_size}) must exceed the base vocabulary ({tokenizer.vocab_size})")
    tokenizer.train(vocab_size=vocab_size, model="BPE", iterator=[bar_bytes(tokenizer, s) for s in scores])


def augmented_scores(score: Score, pitch_offsets: list[int], velocity_offsets: list[int], pitch_range: tuple[int, int]) -> dict[str, Score]:
    """Transposed and velocity-shifted copies of ``score`` via miditok's ``augment_score``.

    A transposition that would move any note outside ``pitch_range`` (``[low, high)``) is left
    out, so no note is clipped or lost. Velocities are clipped to 1–127. Keys name the change
    (``pitch+2``, ``velocity-8``); offset 0 is skipped.
    """
    from miditok.data_augmentation import augment_score

    pitches = [n.pitch for track in score.tracks for n in track.notes]
    low, high = min(pitches), max(pitches)
    copies = {}
    for offset in pitch_offsets:
        if offset and pitch_range[0] <= low + offset and high + offset < pitch_range[1]:
            copies[f"pitch{offset:+d}"] = augment_score(score, pitch_offset=offset)
    for offset in velocity_offsets:
        if offset:
            copies[f"velocity{offset:+d}"] = augment_score(score, velocity_offset=offset, velocity_range=(1, 127))
    return copies


OTHER_COMPOSER = "other"


def special_ids(tokenizer: miditok.MusicTokenizer) -> dict[str, int]:
    """PAD/BOS/EOS ids of a miditok tokenizer (raises ``KeyError`` naming a missing one)."""
    return {name: tokenizer.vocab[f"{name.upper()}_None"] for name in ("pad", "bos", "eos")}


def composer_header(model_tokenizer: miditok.MusicTokenizer, composer: str) -> list[int]:
    """``[id of <composer=X>]`` (or of ``other`` for an unknown composer); ``[]`` when the
    tokenizer has no composer tokens."""
    tokens = getattr(model_tokenizer, "composer_tokens", {})
    if not tokens:
        return []
    return [model_tokenizer.vocab[tokens.get(composer, tokens[OTHER_COMPOSER])]]


def to_model_ids(ids: list[int], tokenizer: miditok.MusicTokenizer, model_tokenizer: miditok.MusicTokenizer) -> list[int]:
    """Base token ids (data_engineering's tokenizer) → the model tokenizer's ids (BPE applied
    when it is trained; otherwise the same ids)."""
    if not model_tokenizer.is_trained:
        return list(ids)
    return encode_score(model_tokenizer, decode_ids(tokenizer, ids))


def syntax_error_share(tokenizer: miditok.MusicTokenizer, ids: list[int]) -> float:
    """Share of tokens that break REMI's grammar (miditok's ``tokens_errors``: e.g. a Pitch not
    followed by Velocity/Duration, or a Position going backwards); special tokens ignored."""
    from miditok import TokSequence

    special = set(tokenizer.special_tokens_ids)
    kept = [i for i in ids if i not in special]
    return float(tokenizer.tokens_errors(TokSequence(ids=kept))) if kept else 0.0
