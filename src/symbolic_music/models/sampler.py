"""The one sampler of the transformer: the generation pipeline, the CLI and the app all call it.

``sample`` continues each request's prompt (or starts from nothing) until its piece reaches a
length in seconds or bars, with HF ``generate`` and its KV cache:

- **Pieces of any length.** Past the model's context the window slides: each round keeps the
  header (BOS, composer) and the most recent tokens, prefills them once and samples a fixed
  number of new tokens with the cache. GPT-2's absolute positions mean the cache cannot shift,
  so the next round prefills again. Time is tracked token by token (``music.timeline``); no
  round decodes the piece.
- **Length control.** A piece of T seconds ends at the first bar line at or after T, so it lasts
  T to T + one bar (see ``LengthRule``). EOS is held back until the last bar has begun.
- **Reproducible per piece.** Every request has its own seed and random generator, so a piece
  comes out the same alone (the CLI) or in a batch (the pipeline), up to the float rounding of
  batched matrix products.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import torch
from symusic import Score, TextMeta
from tqdm.auto import tqdm
from transformers import (
    LogitsProcessor,
    LogitsProcessorList,
    MinPLogitsWarper,
    StoppingCriteria,
    StoppingCriteriaList,
    TemperatureLogitsWarper,
    TopKLogitsWarper,
    TopPLogitsWarper,
)

from symbolic_music.models.precision import for_sampling
from symbolic_music.music.notes import cut_score
from symbolic_music.music.vocabulary import Vocabulary

log = logging.getLogger(__name__)
PRESET_KEYS = ("temperature", "top_k", "top_p", "min_p")


def validate_preset(name: str, preset: dict) -> None:
    """``ValueError`` naming ``generation.presets.<name>.<key>`` for an unknown key or a bad value."""
    unknown = set(preset) - set(PRESET_KEYS)
    if unknown:
        raise ValueError(f"generation.presets.{name} has unknown keys {sorted(unknown)}; allowed: {list(PRESET_KEYS)}")
    if preset["temperature"] <= 0:
        raise ValueError(f"generation.presets.{name}.temperature must be > 0, got {preset['temperature']}")
    if preset["top_k"] < 0:
        raise ValueError(f"generation.presets.{name}.top_k must be >= 0 (0 = off), got {preset['top_k']}")
    if not 0 < preset["top_p"] <= 1:
        raise ValueError(f"generation.presets.{name}.top_p must be in (0, 1], got {preset['top_p']}")
    if not 0 <= preset.get("min_p", 0) < 1:
        raise ValueError(f"generation.presets.{name}.min_p must be in [0, 1), got {preset['min_p']}")


def validate_generation_params(params: dict) -> None:
    """Raise ``ValueError`` naming the parameter for a bad preset or setting of the ``generation`` group."""
    for name, preset in params["presets"].items():
        validate_preset(name, preset)
    for key in ("num_samples", "seconds"):
        if params[key] <= 0:
            raise ValueError(f"generation.{key} must be positive, got {params[key]}")
    continuation = params["continuation"]
    if continuation["num_pieces"] < 0:
        raise ValueError("generation.continuation.num_pieces must be >= 0")
    if continuation["prefix_bars"] < 1:
        raise ValueError(f"generation.continuation.prefix_bars must be at least 1, got {continuation['prefix_bars']}")
    if not 0 <= params["sampler"]["context_kept"] < 1:
        raise ValueError(f"generation.sampler.context_kept must be in [0, 1), got {params['sampler']['context_kept']}")
    if params["lstm"]["temperature"] <= 0:
        raise ValueError(f"generation.lstm.temperature must be > 0, got {params['lstm']['temperature']}")
    for key in ("composer_preset", "continuation_preset"):
        if params[key] not in params["presets"]:
            raise ValueError(f"generation.{key} {params[key]!r} is not one of generation.presets {list(params['presets'])}")


@dataclass
class Request:
    """One piece to sample: ``prompt`` holds music ids of the model's vocabulary (no BOS or
    composer token: ``composer`` picks that); ``seed`` seeds this piece's own generator."""

    prompt: list[int] = field(default_factory=list)
    composer: str | None = None
    seed: int = 0


@dataclass
class Length:
    """How much new music to sample: ``seconds`` (the music after the prompt lasts at least this
    long) or ``bars`` (this many bars after the prompt's last bar)."""

    seconds: float | None = None
    bars: int | None = None

    def __post_init__(self) -> None:
        if (self.seconds is None) == (self.bars is None):
            raise ValueError("give a length in seconds or in bars, not both")
        if (self.seconds or self.bars) <= 0:
            raise ValueError(f"the length must be positive, got {self}")


@dataclass
class Piece:
    """A sampled piece: ``tokens`` (prompt then new music ids), where the new music starts and
    where it was cut (in beats; ``cut_beats`` is ``None`` when it ended at EOS or the token
    limit), its new music's length in seconds, and why it stopped."""

    tokens: list[int]
    prompt_tokens: int
    start_beats: float
    start_seconds: float
    seconds: float
    cut_beats: float | None
    stop: str


class LengthRule:
    """Follows one piece token by token and says when it has reached its length.

    In seconds, the piece ends at the first bar line at or after the target (EOS, held back
    until then, also ends it at that bar line). Should that bar line lie more than
    ``bar_tolerance_seconds`` past the target, the piece ends at the target instead. In bars,
    it ends at the bar line that closes the last bar asked for. The same rule cuts real music to
    the same length as generated music.
    """

    def __init__(self, vocabulary: Vocabulary, prompt: list[int], length: Length, bar_tolerance_seconds: float, max_tokens: int) -> None:
        self.vocabulary, self.length, self.tolerance, self.max_tokens = vocabulary, length, bar_tolerance_seconds, max_tokens
        self.timeline = vocabulary.timeline().feed_all(vocabulary.base_tokens(prompt))
        self.start_bar = self.timeline.bar + 1
        self.start_tick = self.timeline.next_bar_tick
        self.start_seconds = self.timeline.seconds(self.start_tick)
        self.new_tokens, self.stop, self.cut_tick = 0, None, None

    @property
    def start_beats(self) -> float:
        return self.start_tick / self.timeline.ticks_per_beat

    @property
    def cut_beats(self) -> float | None:
        return None if self.cut_tick is None else self.cut_tick / self.timeline.ticks_per_beat

    @property
    def target_seconds(self) -> float | None:
        return None if self.length.seconds is None else self.start_seconds + self.length.seconds

    @property
    def reached(self) -> bool:
        """Whether the current bar ends at or after the target, so the piece may end with it."""
        if self.length.bars is not None:
            return self.timeline.bar + 1 >= self.start_bar + self.length.bars
        return self.timeline.bar >= 0 and self.timeline.seconds(self.timeline.next_bar_tick) >= self.target_seconds

    def take(self, token_id: int) -> bool:
        """Whether ``token_id`` belongs to the piece; afterwards ``stop`` says if the piece has ended."""
        timeline = self.timeline
        if token_id == self.vocabulary.eos_id:
            self.stop, self.cut_tick = "eos", timeline.next_bar_tick if self.reached else None
            return False
        base = self.vocabulary.base_tokens([token_id])
        if base[:1] == ["Bar_None"] and self.reached:
            self.stop, self.cut_tick = "bar line", timeline.next_bar_tick
            return False
        timeline.feed_all(base)
        self.new_tokens += 1
        target = self.target_seconds
        if target is not None and timeline.now >= target and timeline.seconds(timeline.next_bar_tick) > target + self.tolerance:
            self.stop, self.cut_tick = "no bar line within tolerance", self._tick_at(target)
        elif self.new_tokens >= self.max_tokens:
            self.stop = "token limit"
        return True

    def _tick_at(self, seconds: float) -> int:
        """The first tick at or after ``seconds`` (under the tempo map so far)."""
        tick = self.timeline.bar_tick
        while self.timeline.seconds(tick) < seconds:
            tick += 1
        return tick

    @property
    def seconds(self) -> float:
        """Length of the new music as written: to the cut, or to its last note's end."""
        end = self.timeline.end_tick if self.cut_tick is None else self.cut_tick
        return max(self.timeline.seconds(end) - self.start_seconds, 0.0)


def cut_to_length(vocabulary: Vocabulary, tokens: list[int], prompt_tokens: int, length: Length, bar_tolerance_seconds: float) -> Piece:
    """Real music cut like a sampled piece: ``tokens[:prompt_tokens]`` is the prompt, and what
    follows is kept up to the same length rule (or to the piece's end)."""
    rule = LengthRule(vocabulary, tokens[:prompt_tokens], length, bar_tolerance_seconds, len(tokens))
    kept = list(tokens[:prompt_tokens])
    for token in tokens[prompt_tokens:]:
        if not rule.take(token):
            break
        kept.append(token)
        if rule.stop:
            break
    return Piece(kept, prompt_tokens, rule.start_beats, rule.start_seconds, rule.seconds, rule.cut_beats, rule.stop or "end of piece")


class _Rows(LogitsProcessor):
    """The per-piece state of one ``generate`` call: samples each row with its own generator
    (after HF's warpers), holds EOS back until the row's length is reached, and records which
    rows have ended."""

    def __init__(self, rules: list[LengthRule], generators: list[torch.Generator], warpers: LogitsProcessorList, prompt_width: int, eos_id: int) -> None:
        self.rules, self.generators, self.warpers, self.prompt_width, self.eos_id = rules, generators, warpers, prompt_width, eos_id
        self.new: list[list[int]] = [[] for _ in rules]
        self.seen = [0] * len(rules)
        self.done = [False] * len(rules)

    def observe(self, input_ids: torch.LongTensor) -> None:
        """Pass every token generated since the last call to its row's length rule."""
        generated = input_ids.shape[1] - self.prompt_width
        active = [row for row, done in enumerate(self.done) if not done]
        offset = min((self.seen[row] for row in active), default=generated)
        if generated <= offset:
            return
        latest = input_ids[:, self.prompt_width + offset :].tolist()
        for row in active:
            while self.seen[row] < generated and not self.done[row]:
                token = latest[row][self.seen[row] - offset]
                self.seen[row] += 1
                if self.rules[row].take(token):
                    self.new[row].append(token)
                self.done[row] = self.rules[row].stop is not None

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        self.observe(input_ids)
        scores = scores.clone()
        for row, rule in enumerate(self.rules):
            if not rule.reached:
                scores[row, self.eos_id] = -torch.inf
        probabilities = self.warpers(input_ids, scores).float().softmax(-1).cpu()
        chosen = torch.full_like(scores, -torch.inf)
        for row, generator in enumerate(self.generators):
            chosen[row, int(torch.multinomial(probabilities[row], 1, generator=generator))] = 0.0
        return chosen


class _Stop(StoppingCriteria):
    def __init__(self, rows: _Rows) -> None:
        self.rows = rows

    def __call__(self, input_ids: torch.LongTensor, scores, **kwargs) -> torch.BoolTensor:
        self.rows.observe(input_ids)
        return torch.tensor(self.rows.done, device=input_ids.device)


def warpers_of(preset: dict) -> LogitsProcessorList:
    """HF's temperature, top-k, top-p and min-p warpers for a preset (0 / 1.0 switch one off)."""
    warpers = LogitsProcessorList([TemperatureLogitsWarper(preset["temperature"])])
    if preset["top_k"] > 0:
        warpers.append(TopKLogitsWarper(preset["top_k"]))
    if preset["top_p"] < 1.0:
        warpers.append(TopPLogitsWarper(preset["top_p"]))
    if preset.get("min_p", 0) > 0:
        warpers.append(MinPLogitsWarper(preset["min_p"]))
    return warpers


@torch.no_grad()
def sample(model, vocabulary: Vocabulary, requests: list[Request], preset: dict, length: Length, settings: dict, progress: str | None = None) -> list[Piece]:
    """Sample one piece per request (see the module docstring).

    ``settings`` are ``generation.sampler``: ``context_kept`` (share of the context kept as
    conditioning when the window slides), ``bar_tolerance_seconds``, ``max_tokens_per_second``
    (a cap on new tokens, for a model that never moves time on), ``batch_size`` and
    ``precision`` (``models.precision``: the model is moved to the GPU and cast there, in place).
    """
    validate_preset("(given)", preset)
    model = for_sampling(model, settings["precision"])
    context = model.config.n_positions
    new_per_round = max(1, int(context * (1 - settings["context_kept"])))
    cap_seconds = length.seconds if length.seconds is not None else length.bars * 8  # generous: 8 s a bar
    max_tokens = int(cap_seconds * settings["max_tokens_per_second"])
    model.eval()
    pieces: list[Piece] = []
    for first in tqdm(range(0, len(requests), settings["batch_size"]), desc=progress or "sample", unit="batch", disable=progress is None):
        batch = requests[first : first + settings["batch_size"]]
        rules = [LengthRule(vocabulary, r.prompt, length, settings["bar_tolerance_seconds"], max_tokens) for r in batch]
        generators = [torch.Generator().manual_seed(r.seed) for r in batch]
        tokens = [list(r.prompt) for r in batch]
        active = list(range(len(batch)))
        while active:
            headers = [vocabulary.header(batch[i].composer) for i in active]
            windows = [h + tokens[i][max(0, len(tokens[i]) - (context - len(h) - new_per_round)) :] for h, i in zip(headers, active)]
            rows = _Rows([rules[i] for i in active], [generators[i] for i in active], warpers_of(preset), max(map(len, windows)), vocabulary.eos_id)
            _generate(model, windows, rows, min(new_per_round, context - rows.prompt_width), vocabulary)
            for row, i in enumerate(active):
                tokens[i] += rows.new[row]
                if not rows.done[row] and not rows.new[row]:
                    rules[i].stop = "no progress"
            active = [i for i in active if rules[i].stop is None]
        for request, rule, piece_tokens in zip(batch, rules, tokens):
            pieces.append(Piece(piece_tokens, len(request.prompt), rule.start_beats, rule.start_seconds, rule.seconds, rule.cut_beats, rule.stop))
    return pieces


def _generate(model, windows: list[list[int]], rows: _Rows, max_new_tokens: int, vocabulary: Vocabulary) -> None:
    """One round: left-padded windows prefilled once, then sampled with the KV cache."""
    width = max(map(len, windows))
    input_ids = torch.full((len(windows), width), vocabulary.pad_id, dtype=torch.long)
    attention_mask = torch.zeros_like(input_ids)
    for row, window in enumerate(windows):
        input_ids[row, width - len(window) :] = torch.tensor(window)
        attention_mask[row, width - len(window) :] = 1
    model.generate(
        input_ids=input_ids.to(model.device),
        attention_mask=attention_mask.to(model.device),
        do_sample=False,
        max_new_tokens=max_new_tokens,
        logits_processor=LogitsProcessorList([rows]),
        stopping_criteria=StoppingCriteriaList([_Stop(rows)]),
        eos_token_id=vocabulary.eos_id,
        pad_token_id=vocabulary.pad_id,
        use_cache=True,
    )


def piece_score(vocabulary: Vocabulary, piece: Piece, part: str = "full") -> Score:
    """A sampled (or cut) piece as a score: ``full`` (prompt and new music), ``prompt``, or
    ``new`` (the new music alone, from time 0, with the tempo in effect where it starts). A cut
    piece lasts to its cut: notes still sounding there are shortened, and an ``end`` marker
    there keeps a closing rest (as a score's last bar would)."""
    score = vocabulary.decode(piece.tokens if part != "prompt" else piece.tokens[: piece.prompt_tokens])
    if part == "prompt":
        return score
    ticks = score.ticks_per_quarter
    start = 0 if part == "full" else round(piece.start_beats * ticks)
    if piece.cut_beats is None:
        return cut_score(score, start)
    end = round(piece.cut_beats * ticks)
    part_score = cut_score(score, start, end)
    part_score.markers.append(TextMeta(end - start, "end"))
    return part_score
