"""generation nodes: trained transformer + its tokenizer in; MIDI pieces and a manifest out."""

from __future__ import annotations

import logging
import time

import miditok
import numpy as np
import pandas as pd
import torch
from symusic import Score
from tqdm.auto import tqdm
from transformers import GPT2LMHeadModel

from symbolic_music.models.lstm import note_features, notes_to_score, sample_notes
from symbolic_music.music.audio import FORMATS, encode_audio, find_soundfont, normalize_loudness, render
from symbolic_music.music.tokens import (
    composer_header,
    decode_ids,
    special_ids,
    syntax_error_share,
    to_model_ids,
)
from symbolic_music.pipelines.lstm_model.nodes import load_lstm

log = logging.getLogger(__name__)
SAMPLING_KEYS = ("temperature", "top_k", "top_p", "min_p")


def validate_params(params: dict) -> None:
    """Raise ``ValueError`` naming the parameter for a bad preset or generation setting
    (``FileNotFoundError`` for a missing SoundFont while audio is on)."""
    for name, preset in params["presets"].items():
        unknown = set(preset) - set(SAMPLING_KEYS)
        if unknown:
            raise ValueError(f"generation.presets.{name} has unknown keys {sorted(unknown)}; allowed: {list(SAMPLING_KEYS)}")
        if preset["temperature"] <= 0:
            raise ValueError(f"generation.presets.{name}.temperature must be > 0, got {preset['temperature']}")
        if preset["top_k"] < 0:
            raise ValueError(f"generation.presets.{name}.top_k must be >= 0 (0 = off), got {preset['top_k']}")
        if not 0 < preset["top_p"] <= 1:
            raise ValueError(f"generation.presets.{name}.top_p must be in (0, 1], got {preset['top_p']}")
        if not 0 <= preset.get("min_p", 0) < 1:
            raise ValueError(f"generation.presets.{name}.min_p must be in [0, 1), got {preset['min_p']}")
    for key in ("num_samples", "max_new_tokens", "prefix_len"):
        if params[key] < 1:
            raise ValueError(f"generation.{key} must be at least 1, got {params[key]}")
    if params["continuation"]["max_new_tokens"] < 1:
        raise ValueError("generation.continuation.max_new_tokens must be at least 1")
    if params["continuation"]["num_pieces"] < 0:
        raise ValueError("generation.continuation.num_pieces must be >= 0")
    if params["lstm"]["temperature"] <= 0:
        raise ValueError(f"generation.lstm.temperature must be > 0, got {params['lstm']['temperature']}")
    for key in ("composer_preset", "continuation_preset"):
        if params[key] not in params["presets"]:
            raise ValueError(f"generation.{key} {params[key]!r} is not one of generation.presets {list(params['presets'])}")
    audio = params["audio"]
    if audio["enabled"]:
        find_soundfont(audio["soundfont"])
        if audio["format"] not in FORMATS:
            raise ValueError(f"generation.audio.format must be one of {sorted(FORMATS)}, got {audio['format']!r}")
        if audio["loudness_dbfs"] >= audio["peak_dbfs"]:
            raise ValueError(f"generation.audio.loudness_dbfs ({audio['loudness_dbfs']}) must be below generation.audio.peak_dbfs ({audio['peak_dbfs']})")
        if audio["sample_rate"] < 1:
            raise ValueError(f"generation.audio.sample_rate must be at least 1 Hz, got {audio['sample_rate']}")
        if audio["tail_seconds"] < 0:
            raise ValueError(f"generation.audio.tail_seconds must be >= 0, got {audio['tail_seconds']}")


@torch.no_grad()
def sample_tokens(
    model: GPT2LMHeadModel, prompts: list[list[int]], preset: dict, max_new_tokens: int, seed: int, eos_id: int, pad_id: int
) -> list[list[int]]:
    """One continuation per prompt in a single batched ``generate`` call: prompts of unequal
    length are left-padded, the KV cache is on, each row stops at EOS. Returns the new tokens of
    each row, EOS and padding removed. The same seed gives the same tokens."""
    longest = max(map(len, prompts))
    room = model.config.n_positions - longest
    if max_new_tokens > room:
        log.warning("max_new_tokens=%d exceeds the model's context after the prompt; generating %d", max_new_tokens, room)
        max_new_tokens = room
    input_ids = torch.full((len(prompts), longest), pad_id, dtype=torch.long)
    attention_mask = torch.zeros_like(input_ids)
    for row, prompt in enumerate(prompts):
        input_ids[row, longest - len(prompt) :] = torch.tensor(prompt)
        attention_mask[row, longest - len(prompt) :] = 1
    torch.manual_seed(seed)
    model.eval()
    output = model.generate(
        input_ids=input_ids.to(model.device),
        attention_mask=attention_mask.to(model.device),
        do_sample=True,
        max_new_tokens=max_new_tokens,
        eos_token_id=eos_id,
        pad_token_id=pad_id,
        use_cache=True,
        **preset,
    )
    rows = output[:, longest:].tolist()
    return [[t for t in (row[: row.index(eos_id)] if eos_id in row else row) if t != pad_id] for row in rows]


def _decode(tokenizer: miditok.MusicTokenizer, tokens: list[int]) -> tuple[Score | None, str | None]:
    """Decode, or say why the piece is dropped (decoding failed, or no notes)."""
    try:
        score = decode_ids(tokenizer, tokens)
    except Exception as error:  # miditok raises on malformed sequences
        return None, f"decode failed: {error}"
    return (score, None) if score.note_num() else (None, "no notes")


def generate_pieces(model: GPT2LMHeadModel, tokenizer: miditok.MusicTokenizer, params: dict) -> tuple[dict[str, Score], dict]:
    """Task 1: ``num_samples`` pieces per preset from BOS (``unconditioned/<preset>/sample_NNN``)
    and, for a model trained with composer tokens, per composer (``composer/<name>/<preset>/...``).
    Returns the decoded scores and a manifest (per file: prompt, preset, seed, tokens, notes,
    grammar-error share, seconds taken; plus the pieces dropped because they decoded to nothing)."""
    validate_params(params)
    ids = special_ids(tokenizer)
    jobs = [(f"unconditioned/{preset}", "BOS", preset, [ids["bos"]]) for preset in params["presets"]]
    for composer, token in getattr(tokenizer, "composer_tokens", {}).items():
        folder = f"composer/{token.removeprefix('Composer_')}/{params['composer_preset']}"
        jobs.append((folder, f"BOS {token}", params["composer_preset"], [ids["bos"], tokenizer.vocab[token]]))
    pieces, manifest = {}, {"files": {}, "dropped": []}
    for offset, (folder, prompt_name, preset_name, prompt) in enumerate(tqdm(jobs, desc="generate", unit="prompt")):
        preset, seed = params["presets"][preset_name], params["seed"] + offset
        started = time.perf_counter()
        samples = sample_tokens(model, [prompt] * params["num_samples"], preset, params["max_new_tokens"], seed, ids["eos"], ids["pad"])
        seconds = (time.perf_counter() - started) / len(samples)
        for index, tokens in enumerate(samples):
            name = f"{folder}/sample_{index:03d}"
            score, reason = _decode(tokenizer, tokens)
            if reason:
                log.warning("Dropping %s: %s", name, reason)
                manifest["dropped"].append({"file": name, "reason": reason, "tokens": len(tokens)})
                continue
            pieces[name] = score
            manifest["files"][name] = {
                "prompt": prompt_name, "preset": preset_name, **preset, "seed": seed, "sample_index": index,
                "tokens": len(tokens), "notes": int(score.note_num()),
                "syntax_error_share": syntax_error_share(tokenizer, tokens), "generation_seconds": round(seconds, 3),
            }
    log.info("Generated %d pieces, dropped %d", len(pieces), len(manifest["dropped"]))
    return pieces, manifest


def continue_test_pieces(
    model: GPT2LMHeadModel,
    test_tokens: dict[str, list[int]],
    tokenizer: miditok.MusicTokenizer,
    transformer_tokenizer: miditok.MusicTokenizer,
    pieces: pd.DataFrame,
    params: dict,
) -> tuple[dict[str, Score], dict]:
    """Task 2: for the first ``continuation.num_pieces`` test pieces, prompt with BOS, the
    composer token (if the model has them) and the piece's first ``prefix_len`` tokens, and
    generate a continuation. Per piece, ``continuation/<piece>/`` holds ``prefix``,
    ``continuation``, ``full`` (prefix + continuation) and ``reference`` (the real next tokens,
    as many as were generated). Pieces no longer than ``prefix_len`` are skipped and listed."""
    validate_params(params)
    prompt_length = 1 + len(composer_header(transformer_tokenizer, "")) + params["prefix_len"]
    if prompt_length >= model.config.n_positions:
        raise ValueError(
            f"generation.prefix_len ({params['prefix_len']}) leaves no room to generate: the prompt takes "
            f"{prompt_length} of the model's {model.config.n_positions} positions"
        )
    ids = special_ids(transformer_tokenizer)
    composer_of = dict(zip(pieces["piece_id"], pieces["composer"]))
    chosen, manifest = [], {"files": {}, "dropped": [], "skipped_short_pieces": []}
    for piece_id, base_ids in list(test_tokens.items()):
        if len(chosen) == params["continuation"]["num_pieces"]:
            break
        model_ids = to_model_ids(base_ids, tokenizer, transformer_tokenizer)
        if len(model_ids) <= params["prefix_len"]:
            manifest["skipped_short_pieces"].append(piece_id)
            continue
        chosen.append((piece_id, model_ids))
    if not chosen:
        return {}, manifest
    preset = params["presets"][params["continuation_preset"]]
    prompts = [[ids["bos"], *composer_header(transformer_tokenizer, composer_of.get(p, "")), *m[: params["prefix_len"]]] for p, m in chosen]
    started = time.perf_counter()
    max_new = params["continuation"]["max_new_tokens"]
    continuations = sample_tokens(model, prompts, preset, max_new, params["seed"], ids["eos"], ids["pad"])
    seconds = (time.perf_counter() - started) / len(chosen)
    outputs = {}
    for (piece_id, model_ids), new in zip(chosen, continuations):
        prefix = model_ids[: params["prefix_len"]]
        parts = {"prefix": prefix, "continuation": new, "full": prefix + new, "reference": model_ids[len(prefix) : len(prefix) + len(new)]}
        folder = f"continuation/{piece_id.replace('/', '__')}"
        for part, tokens in parts.items():
            score, reason = _decode(transformer_tokenizer, tokens)
            if reason:
                manifest["dropped"].append({"file": f"{folder}/{part}", "reason": reason, "tokens": len(tokens)})
                continue
            outputs[f"{folder}/{part}"] = score
            manifest["files"][f"{folder}/{part}"] = {
                "prompt": f"test piece {piece_id}, first {len(prefix)} tokens", "preset": params["continuation_preset"], **preset,
                "seed": params["seed"], "tokens": len(tokens), "notes": int(score.note_num()),
                "syntax_error_share": syntax_error_share(transformer_tokenizer, tokens),
                "generation_seconds": round(seconds, 3) if part == "continuation" else 0.0,
            }
    log.info("Continued %d test pieces", len(chosen))
    return outputs, manifest


def merge_generated(
    unconditioned: dict[str, Score], continued: dict[str, Score], lstm: dict[str, Score],
    unconditioned_manifest: dict, continued_manifest: dict, lstm_manifest: dict,
) -> tuple[dict[str, Score], dict]:
    """Transformer Task 1 and Task 2 and LSTM outputs → one MIDI folder and one manifest."""
    manifests = (unconditioned_manifest, continued_manifest, lstm_manifest)
    manifest = {
        "files": {name: entry for m in manifests for name, entry in m["files"].items()},
        "dropped": [entry for m in manifests for entry in m["dropped"]],
        "skipped_short_pieces": continued_manifest["skipped_short_pieces"],
    }
    return {**unconditioned, **continued, **lstm}, manifest


def generate_lstm_pieces(lstm: dict, notes: pd.DataFrame, params: dict, lstm_params: dict) -> tuple[dict[str, Score], dict]:
    """The LSTM in the transformer's layout. Task 1: ``num_samples`` pieces
    (``lstm/<temperature preset>/sample_NNN``) each seeded with the first ``seq_length`` notes of
    a train piece. Task 2: for the first ``continuation.num_pieces`` test pieces, the first
    ``seq_length`` notes are the prefix (``lstm_continuation/<piece>/{prefix,continuation,full,reference}``).
    The quality constraints come from ``generation.lstm.constraints``."""
    validate_params(params)
    settings, timing_ranges = params["lstm"], lstm_params["timing"]
    model = load_lstm(lstm)
    seq_length = lstm_params["seq_length"]
    generator = torch.Generator().manual_seed(params["seed"])
    by_piece = {split: [g for _, g in notes[notes["split"] == split].groupby("piece_id", sort=False) if len(g) > seq_length] for split in ("train", "test")}
    pieces, manifest = {}, {"files": {}, "dropped": []}

    def add(name: str, pitch: np.ndarray, timing: np.ndarray, prompt: str) -> None:
        score = notes_to_score(pitch, timing, timing_ranges, settings["velocity"])
        pieces[name] = score
        manifest["files"][name] = {"prompt": prompt, "temperature": settings["temperature"], "seed": params["seed"],
                                   "notes": int(score.note_num()), **settings["constraints"]}

    for index in tqdm(range(params["num_samples"]), desc="LSTM task 1", unit="piece"):
        seed_piece = by_piece["train"][index % len(by_piece["train"])]
        pitch, timing = note_features(seed_piece.iloc[:seq_length], timing_ranges)
        new_pitch, new_timing = sample_notes(model, pitch, timing, settings["num_notes"], settings["temperature"], settings["constraints"], generator)
        add(f"lstm/sample_{index:03d}", new_pitch, new_timing, f"first {seq_length} notes of train piece {seed_piece['piece_id'].iloc[0]}")
    for piece in tqdm(by_piece["test"][: params["continuation"]["num_pieces"]], desc="LSTM task 2", unit="piece"):
        pitch, timing = note_features(piece, timing_ranges)
        new_pitch, new_timing = sample_notes(model, pitch[:seq_length], timing[:seq_length], settings["num_notes"], settings["temperature"], settings["constraints"], generator)
        folder, prompt = f"lstm_continuation/{piece['piece_id'].iloc[0].replace('/', '__')}", f"first {seq_length} notes of the test piece"
        end = seq_length + len(new_pitch)
        add(f"{folder}/prefix", pitch[:seq_length], timing[:seq_length], prompt)
        add(f"{folder}/continuation", new_pitch, new_timing, prompt)
        add(f"{folder}/full", np.concatenate([pitch[:seq_length], new_pitch]), np.concatenate([timing[:seq_length], new_timing]), prompt)
        if end > seq_length and len(pitch) > seq_length:
            add(f"{folder}/reference", pitch[seq_length:end], timing[seq_length:end], prompt)
    return pieces, manifest


def render_audio(generated_midi: dict[str, Score], params: dict) -> dict[str, bytes]:
    """Generated MIDI → ``{name: encoded audio bytes}`` (``generation.audio``): rendered with a
    SoundFont, brought to one loudness and encoded (OGG Vorbis by default); see ``music.audio``.
    ``{}`` and a log line when ``generation.audio.enabled`` is false. A missing SoundFont is an
    error naming ``generation.audio.soundfont``, raised before any rendering."""
    settings = params["audio"]
    if not settings["enabled"]:
        log.info("Audio rendering is off (generation.audio.enabled: false)")
        return {}
    soundfont = find_soundfont(settings["soundfont"])
    audio = {}
    for name, score in tqdm(generated_midi.items(), desc="render audio", unit="file"):
        samples = render(score, soundfont, settings["sample_rate"], settings["tail_seconds"])
        samples = normalize_loudness(samples, settings["loudness_dbfs"], settings["peak_dbfs"])
        audio[name] = encode_audio(samples, settings["sample_rate"], settings["format"])
    return audio
