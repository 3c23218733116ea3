"""``models.sampler``: seeded, batch-independent sampling; greedy equivalence; length control past the context."""

from __future__ import annotations

import copy

import pytest
import torch

from symbolic_music.models.sampler import Length, Request, cut_to_length, piece_score, sample, validate_preset
from symbolic_music.models.transformer import build_model
from symbolic_music.music.timeline import bar_starts, bars_from

SETTINGS = {"context_kept": 0.5, "bar_tolerance_seconds": 4.0, "max_tokens_per_second": 100, "batch_size": 8, "precision": "auto"}
BALANCED = {"temperature": 1.0, "top_k": 50, "top_p": 0.95}
GREEDY = {"temperature": 1.0, "top_k": 1, "top_p": 1.0}


@pytest.fixture(scope="module")
def vocabulary(engineered):
    return engineered["tokenizer"]


@pytest.fixture(scope="module")
def model(vocabulary, params):
    torch.manual_seed(0)
    return build_model(vocabulary, params["transformer_model"]).eval()  # untrained: any token may come


def bar_prefix(vocabulary, ids: list[int], bars: int) -> list[int] | None:
    """The ids of a piece's first ``bars`` bars; ``None`` if it has no more bars than that."""
    strings = vocabulary.base_tokens(ids)
    starts = bar_starts(strings, vocabulary.timeline())
    return vocabulary.from_base_tokens(bars_from(strings, starts, 0, bars)) if len(starts) > bars else None


def _prompt(engineered, bars=2):
    ids = next(iter(engineered["test_tokens"].values()))
    return bar_prefix(engineered["tokenizer"], ids, bars)


def test_same_seed_same_piece_other_seed_other_piece(model, vocabulary):
    length = Length(seconds=2.0)
    first = sample(model, vocabulary, [Request(seed=7)], BALANCED, length, SETTINGS)[0]
    again = sample(model, vocabulary, [Request(seed=7)], BALANCED, length, SETTINGS)[0]
    other = sample(model, vocabulary, [Request(seed=8)], BALANCED, length, SETTINGS)[0]
    assert first.tokens == again.tokens and first.tokens != other.tokens


def test_a_piece_is_the_same_alone_and_in_a_batch(model, vocabulary, engineered):
    """What lets the CLI reproduce a pipeline piece: each request has its own generator."""
    prompt = _prompt(engineered)
    requests = [Request([], None, 1), Request(prompt, None, 2), Request(prompt[:5], None, 3)]
    batched = sample(model, vocabulary, requests, BALANCED, Length(seconds=3.0), SETTINGS)
    for request, piece in zip(requests, batched):
        alone = sample(model, vocabulary, [request], BALANCED, Length(seconds=3.0), SETTINGS)[0]
        assert alone.tokens == piece.tokens


def test_top_k_one_is_greedy(model, vocabulary, engineered):
    prompt = _prompt(engineered)
    ours = sample(model, vocabulary, [Request(prompt, None, 3)], {**GREEDY, "temperature": 1.3}, Length(bars=2), SETTINGS)[0]
    per_round = int(model.config.n_positions * (1 - SETTINGS["context_kept"]))
    window = vocabulary.header() + prompt[len(prompt) - (model.config.n_positions - 1 - per_round) :]  # what the first round sees
    new = ours.tokens[len(prompt) :][:per_round]
    hf = model.generate(torch.tensor([window]), do_sample=False, max_new_tokens=len(new),
                        pad_token_id=vocabulary.pad_id, eos_token_id=vocabulary.eos_id)[0, len(window) :].tolist()
    stop = hf.index(vocabulary.eos_id) if vocabulary.eos_id in hf else len(hf)  # the sampler holds EOS back
    assert len(new) > 0 and new[:stop] == hf[:stop]


def test_the_prompt_is_kept_and_the_new_music_starts_after_its_last_bar(model, vocabulary, engineered):
    prompt = _prompt(engineered, bars=3)
    piece = sample(model, vocabulary, [Request(prompt, None, 0)], BALANCED, Length(seconds=4.0), SETTINGS)[0]
    assert piece.tokens[: len(prompt)] == prompt and piece.prompt_tokens == len(prompt)
    assert piece.start_beats == 12.0  # three 4/4 bars
    prompt_notes = sorted((n.time, n.pitch) for n in piece_score(vocabulary, piece, "prompt").tracks[0].notes)
    full_notes = sorted((n.time, n.pitch) for n in piece_score(vocabulary, piece, "full").tracks[0].notes)
    assert full_notes[: len(prompt_notes)] == prompt_notes


def _bar_seconds(vocabulary, piece):
    """Length of a bar at the piece's last tempo (4/4)."""
    seconds = piece_score(vocabulary, piece).to("second")
    return 4 * 60.0 / seconds.tempos[-1].qpm


def test_an_untrained_model_slides_past_its_context_and_stops(vocabulary, params):
    """A model with a 32-token context slides several times; even garbage stops, and says why."""
    p = copy.deepcopy(params["transformer_model"])
    p["model"]["n_positions"] = 32
    torch.manual_seed(1)
    small = build_model(vocabulary, p).eval()
    pieces = sample(small, vocabulary, [Request([], None, s) for s in range(3)], BALANCED, Length(seconds=12.0), SETTINGS)
    assert any(len(p.tokens) > 32 for p in pieces)
    assert all(p.stop in {"bar line", "no bar line within tolerance", "token limit", "eos"} for p in pieces)


@pytest.mark.parametrize("seconds", [3.0, 12.0])
def test_a_request_in_seconds_gives_that_long_and_at_most_a_bar_more(small_model, seconds):
    model, vocabulary = small_model["transformer"], small_model["transformer_tokenizer"]
    pieces = sample(model, vocabulary, [Request([], "Ada Composer", s) for s in range(4)], BALANCED, Length(seconds=seconds), SETTINGS)
    for piece in pieces:
        written = piece_score(vocabulary, piece).to("second").end()
        assert piece.seconds == pytest.approx(written, abs=1e-3)  # the timeline follows miditok's decoder
        assert seconds <= written <= seconds + _bar_seconds(vocabulary, piece) + 1e-6, piece.stop


def test_real_music_is_cut_by_the_same_rule(vocabulary, engineered):
    ids = max(engineered["train_tokens"].values(), key=len)
    prompt = bar_prefix(vocabulary, ids, 2)
    cut = cut_to_length(vocabulary, ids, len(prompt), Length(seconds=6.0), 4.0)
    assert cut.tokens == ids[: len(cut.tokens)] and cut.stop == "bar line"
    new = piece_score(vocabulary, cut, "new").to("second")
    assert 6.0 <= new.end() <= 6.0 + 2.0 + 1e-6  # these pieces are at 120 bpm: 2 s a bar
    assert new.note_num() > 0 and cut.start_seconds == pytest.approx(4.0, abs=0.05)


def test_a_bar_prefix_survives_midi_and_back(vocabulary, engineered):
    """The CLI reads a prompt from MIDI; a bar prefix written as MIDI re-encodes to its ids."""
    for ids in engineered["test_tokens"].values():
        prefix = bar_prefix(vocabulary, ids, 3)
        assert vocabulary.encode(vocabulary.decode(prefix)) == prefix
        later = vocabulary.from_base_tokens(bars_from(vocabulary.base_tokens(ids), bar_starts(vocabulary.base_tokens(ids), vocabulary.timeline()), 2, 2))
        assert vocabulary.encode(vocabulary.decode(later)) == later  # a prompt from bar 2 on, its tempo written at its start
    assert bar_prefix(vocabulary, ids, 10_000) is None


@pytest.mark.parametrize("preset, name", [({"temperature": 0, "top_k": 1, "top_p": 1.0}, "temperature"),
                                          ({"temperature": 1, "top_k": 1, "top_p": 1.0, "topk": 3}, "topk")])
def test_bad_presets_are_named(preset, name):
    with pytest.raises(ValueError, match=f"generation.presets.mine.*{name}|mine has unknown keys.*{name}"):
        validate_preset("mine", preset)


def test_bad_lengths_are_refused():
    with pytest.raises(ValueError, match="not both"):
        Length(seconds=1.0, bars=2)
    with pytest.raises(ValueError, match="positive"):
        Length(seconds=-1.0)
