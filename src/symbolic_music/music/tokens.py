"""miditok tokenizers: construction from parameters, BPE training and augmentation (no Kedro imports).

Conversions between ids, token strings and scores live in ``music.vocabulary``."""

from __future__ import annotations

import miditok
from symusic import Score


def build_tokenizer(settings: dict, pedal: str = "ignore") -> miditok.REMI:
    """A miditok REMI tokenizer from the ``tokenizer`` parameters (see parameters_data_engineering.yml).

    ``beat_res`` keys are written ``"start_end"`` in YAML (``"0_4": 8``) and become tuples here.
    ``pitch_range`` is ``[low, high)`` in MIDI numbers; notes outside it are dropped by miditok.
    Pedal tokens (``use_sustain_pedals``) come from ``pedal`` (``data_engineering.pedal``) alone:
    on for ``tokens``; ``ValueError`` if the settings name them too.
    """
    if "use_sustain_pedals" in settings:
        raise ValueError("data_engineering.tokenizer.use_sustain_pedals: choose the pedal with data_engineering.pedal (tokens) instead")
    settings = {**settings, "use_sustain_pedals": pedal == "tokens"}
    settings["pitch_range"] = tuple(settings["pitch_range"])
    if "tempo_range" in settings:
        settings["tempo_range"] = tuple(settings["tempo_range"])
    settings["beat_res"] = {tuple(int(x) for x in key.split("_")): int(res) for key, res in settings["beat_res"].items()}
    return miditok.REMI(miditok.TokenizerConfig(**settings))


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
