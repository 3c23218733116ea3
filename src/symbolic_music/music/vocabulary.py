"""A model's id space: miditok's tokens first, then one control token per composer.

Ids are data, not a side effect. ``Vocabulary`` owns every conversion between token ids, token
strings and scores, so no caller assumes that two tokenizers share ids:

- ids ``0 … len(tokenizer) - 1`` are miditok's: REMI's base tokens, or its BPE tokens once BPE
  is trained (BPE keeps the base tokens at their base ids and adds merges after them);
- ids from ``len(tokenizer)`` on are composer tokens, in the order they were added. Adding a
  composer appends one id and never moves another, so a model fine-tuned on new composers keeps
  every id it was trained with.

miditok itself never sees the composer tokens, so nothing it rebuilds on reload can shift them.
``to_dict``/``from_dict`` carry the full token → id map, and loading checks it.

The vocabulary also carries how its scores were prepared: ``pedal`` (``data_engineering.pedal``,
see ``music.pedal``), so a prompt is encoded as the training data was (``encode``).
"""

from __future__ import annotations

import re

import miditok
from symusic import Score

from symbolic_music.music.pedal import apply_pedal, validate_pedal_mode
from symbolic_music.music.timeline import Timeline

COMPOSER_PREFIX = "Composer_"
OTHER_COMPOSER = "other"
SPECIAL = ("PAD_None", "BOS_None", "EOS_None")


def composer_token(composer: str) -> str:
    """``"Johann Sebastian Bach"`` → ``"Composer_Johann-Sebastian-Bach"`` (miditok's Type_Value form)."""
    return COMPOSER_PREFIX + (re.sub(r"[^A-Za-z0-9]+", "-", composer).strip("-") or "unknown")


class Vocabulary:
    """A miditok tokenizer plus composer control tokens, in one explicit id space.

    ``composers`` maps a composer's name to its token's id. A name not in it is played as
    ``other`` when that token exists. ``pedal`` is the ``data_engineering.pedal`` mode its
    scores are encoded under; by default ``tokens`` when the tokenizer has pedal tokens, else
    ``ignore``. ``ValueError`` when the two disagree.
    """

    def __init__(self, tokenizer: miditok.MusicTokenizer, composers: dict[str, int] | None = None, pedal: str | None = None) -> None:
        self.tokenizer = tokenizer
        self.composers = dict(composers or {})
        pedal_tokens = bool(tokenizer.config.use_sustain_pedals)
        self.pedal = pedal or ("tokens" if pedal_tokens else "ignore")
        validate_pedal_mode(self.pedal)
        if (self.pedal == "tokens") != pedal_tokens:
            raise ValueError(f"pedal mode {self.pedal!r} does not match the tokenizer (use_sustain_pedals={pedal_tokens})")
        expected = list(range(len(tokenizer), len(tokenizer) + len(self.composers)))
        if sorted(self.composers.values()) != expected:
            raise ValueError(f"composer ids must follow miditok's {len(tokenizer)} tokens without gaps, got {self.composers}")
        self.pad_id, self.bos_id, self.eos_id = (tokenizer.vocab[name] for name in SPECIAL)
        self._music_size = len(tokenizer)
        self._base_of_id = self._base_tokens_per_id()

    def __len__(self) -> int:
        return self._music_size + len(self.composers)

    def __repr__(self) -> str:
        bpe = f", BPE {self._music_size}" if self.tokenizer.is_trained else ""
        pedal = f", pedal {self.pedal}" if self.pedal != "ignore" else ""
        return f"Vocabulary({len(self)} ids{bpe}{pedal}, composers {list(self.composers)})"

    # ------------------------------------------------------------------ ids and strings
    def _base_tokens_per_id(self) -> list[tuple[str, ...]]:
        """For every miditok id, the base token strings it stands for (one, or several for a BPE merge)."""
        t = self.tokenizer
        if not t.is_trained:
            inverse = {i: token for token, i in t.vocab.items()}
            return [(inverse[i],) for i in range(self._music_size)]
        return [tuple(t._vocab_learned_bytes_to_tokens[t._model.id_to_token(i)]) for i in range(self._music_size)]

    def token(self, token_id: int) -> str:
        """The string of one id: a base token, base tokens joined by ``+`` for a BPE merge, or a composer token."""
        if token_id >= self._music_size:
            return composer_token(next(name for name, i in self.composers.items() if i == token_id))
        return "+".join(self._base_of_id[token_id])

    def token_ids(self) -> dict[str, int]:
        """The whole map token string → id; ``Vocabulary`` loaded from disk must reproduce it."""
        return {self.token(i): i for i in range(len(self))}

    def is_control(self, token_id: int) -> bool:
        return token_id >= self._music_size

    def base_tokens(self, ids: list[int]) -> list[str]:
        """Music ids → the flat list of base token strings they stand for; special and composer
        tokens are left out."""
        skip = {self.pad_id, self.bos_id, self.eos_id}
        return [token for i in ids if i < self._music_size and i not in skip for token in self._base_of_id[i]]

    def convert(self, ids: list[int], source: Vocabulary) -> list[int]:
        """Music ids of ``source``'s space → this vocabulary's ids, through the base token strings."""
        return self.from_base_tokens(source.base_tokens(ids))

    def from_base_tokens(self, strings: list[str]) -> list[int]:
        """Base token strings → this vocabulary's ids. With BPE, each bar is merged on its own, as
        miditok's own encoding does. ``KeyError`` names a token this vocabulary lacks."""
        missing = sorted({s for s in strings if s not in self.tokenizer.vocab})
        if missing:
            raise KeyError(f"tokens unknown to this vocabulary: {missing[:10]}")
        if not self.tokenizer.is_trained:
            return [self.tokenizer.vocab[s] for s in strings]
        bars: list[list[str]] = []
        for token in strings:
            if token == "Bar_None" or not bars:
                bars.append([])
            bars[-1].append(token)
        to_byte = self.tokenizer._vocab_base_id_to_byte
        chunks = ["".join(to_byte[self.tokenizer.vocab[s]] for s in bar) for bar in bars]
        return list(self.tokenizer._model.encode(chunks, is_pretokenized=True).ids) if chunks else []

    def timeline(self) -> Timeline:
        """An empty ``Timeline`` with this tokenizer's time division and default tempo."""
        return Timeline(self.tokenizer.time_division, self.tokenizer.default_tempo)

    # ------------------------------------------------------------------ composers
    def add_composers(self, names: list[str]) -> None:
        """Append a token for each new name; existing ids never move."""
        for name in names:
            if name not in self.composers:
                self.composers[name] = len(self)

    def composer_ids(self, composer: str | None) -> list[int]:
        """``[id]`` of ``composer``'s token (``other``'s for an unknown one); ``[]`` without composer tokens."""
        if not self.composers:
            return []
        if composer in self.composers:
            return [self.composers[composer]]
        if OTHER_COMPOSER not in self.composers:
            raise KeyError(f"no token for composer {composer!r} and no '{OTHER_COMPOSER}' token; known: {list(self.composers)}")
        return [self.composers[OTHER_COMPOSER]]

    def header(self, composer: str | None = None) -> list[int]:
        """What every sequence starts with: BOS, then the composer token if the vocabulary has them."""
        return [self.bos_id, *self.composer_ids(composer)]

    # ------------------------------------------------------------------ scores
    def encode(self, score: Score) -> list[int]:
        """Ids of a one-track piano score (the whole piece, never truncated; BPE applied if trained),
        prepared under this vocabulary's ``pedal`` mode first (``music.pedal.apply_pedal``)."""
        encoded = self.tokenizer.encode(apply_pedal(score, self.pedal))
        sequence = encoded[0] if isinstance(encoded, list) else encoded
        return [int(i) for i in sequence.ids]

    def music_ids(self, ids: list[int]) -> list[int]:
        """``ids`` without special and composer tokens."""
        skip = {self.pad_id, self.bos_id, self.eos_id}
        return [i for i in ids if i < self._music_size and i not in skip]

    def decode(self, ids: list[int]) -> Score:
        """A one-track score from ids; special and composer tokens are ignored. A note whose
        tokens are cut off (a Pitch with no Duration) is dropped, as miditok does."""
        kept = self.music_ids(ids)
        return self.tokenizer.decode([kept] if not self.tokenizer.one_token_stream else kept)

    def grammar_error_share(self, ids: list[int]) -> float:
        """Share of (music) tokens that break REMI's grammar, by miditok's ``tokens_errors``: e.g. a
        Pitch not followed by Velocity and Duration, or a Position going backwards. Real music
        has 0. An empty sequence gives 0."""
        kept = self.music_ids(ids)
        if not kept:
            return 0.0
        return float(self.tokenizer.tokens_errors(miditok.TokSequence(ids=kept, are_ids_encoded=self.tokenizer.is_trained)))

    # ------------------------------------------------------------------ storage
    def to_dict(self) -> dict:
        """miditok's own dict (config, and the BPE model when trained), plus the composers, the
        pedal mode and the full token → id map."""
        return {**self.tokenizer.to_dict(),
                "symbolic_music": {"composers": self.composers, "pedal": self.pedal, "token_ids": self.token_ids()}}

    @classmethod
    def from_dict(cls, params: dict, tokenizer: miditok.MusicTokenizer) -> Vocabulary:
        """Rebuild from ``to_dict``'s output, given miditok's tokenizer loaded from the same dict.
        ``ValueError`` if any token's id differs from the saved one. A file without a pedal mode
        (written before there was one) gets the default, which is what it was encoded under."""
        saved = params.get("symbolic_music", {})
        if "token_ids" not in saved:
            raise ValueError("the tokenizer file has no saved token ids (written by an older version): its ids cannot be "
                             "checked. Run `kedro run --pipeline=data_engineering` and retrain the models.")
        composers = saved.get("composers", {})
        expected = {t: i for t, i in saved["token_ids"].items() if i not in set(composers.values())}
        now = cls(tokenizer).token_ids()
        moved = {t: (i, now.get(t)) for t, i in expected.items() if now.get(t) != i}
        if moved or len(now) != len(expected):
            sample = dict(list(moved.items())[:5])
            raise ValueError(f"token ids differ from those saved ({len(moved)} moved, {len(now)} music tokens now against "
                             f"{len(expected)} saved; e.g. token: (saved, now) {sample}); the file was written by another "
                             "miditok version or edited")
        return cls(tokenizer, composers, saved.get("pedal"))
