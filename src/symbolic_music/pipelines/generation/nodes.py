"""generation nodes: the trained models in; MIDI pieces and a manifest out.

All sampling is ``models.sampler`` (transformer) and ``models.lstm`` (LSTM); these nodes only
choose prompts, seeds and lengths, and describe every file in the manifest.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import pandas as pd
import torch
from symusic import Score
from tqdm.auto import tqdm
from transformers import GPT2LMHeadModel

from symbolic_music.models.lstm import load_lstm, note_features, notes_to_score, sample_notes
from symbolic_music.music.audio import find_soundfont, score_audio, validate_audio_settings
from symbolic_music.models.sampler import (
    Length,
    Piece,
    Request,
    cut_to_length,
    piece_score,
    sample,
    validate_generation_params,
)
from symbolic_music.music.systems import token_figures
from symbolic_music.music.vocabulary import Vocabulary, composer_token

log = logging.getLogger(__name__)


def describe(vocabulary: Vocabulary, piece: Piece, score: Score, part_tokens: list[int]) -> dict:
    """Manifest fields of one written file: its tokens, notes, length, grammar-error share and
    notes per token (real music has 0 errors)."""
    return {
        "tokens": len(part_tokens),
        "notes": int(score.note_num()),
        "seconds": round(float(score.to("second").end()), 3),
        "grammar_error_share": vocabulary.grammar_error_share(part_tokens),
        "notes_per_token": score.note_num() / max(len(part_tokens), 1),
        "stop": piece.stop,
    }


def generate_pieces(model: GPT2LMHeadModel, tokenizer: Vocabulary, params: dict) -> tuple[dict[str, Score], dict]:
    """Task 1: ``num_samples`` pieces of ``seconds`` per preset from BOS
    (``unconditioned/<preset>/sample_NNN``) and, for a model with composer tokens, per composer
    (``composer/<name>/<preset>/...``). Returns the scores and a manifest entry per file."""
    validate_generation_params(params)
    jobs = [(f"unconditioned/{preset}", None, preset) for preset in params["presets"]]
    jobs += [(f"composer/{composer_token(c).removeprefix('Composer_')}/{params['composer_preset']}", c, params["composer_preset"])
             for c in tokenizer.composers]
    length = Length(seconds=params["seconds"])
    pieces, manifest, seed = {}, {"files": {}}, params["seed"]
    for folder, composer, preset_name in tqdm(jobs, desc="generate", unit="set"):
        requests = [Request([], composer, seed + index) for index in range(params["num_samples"])]
        seed += params["num_samples"]
        started = time.perf_counter()
        sampled = sample(model, tokenizer, requests, params["presets"][preset_name], length, params["sampler"])
        seconds = (time.perf_counter() - started) / len(sampled)
        for index, (request, piece) in enumerate(zip(requests, sampled)):
            name, score = f"{folder}/sample_{index:03d}", piece_score(tokenizer, piece)
            pieces[name] = score
            manifest["files"][name] = {
                "prompt": "BOS" + (f" + composer {composer}" if composer else ""), "composer": composer, "preset": preset_name,
                **params["presets"][preset_name], "seed": request.seed, "requested_seconds": params["seconds"],
                **describe(tokenizer, piece, score, piece.tokens), "generation_seconds": round(seconds, 3),
            }
    log.info("Generated %d pieces", len(pieces))
    return pieces, manifest


def bar_prefix(vocabulary: Vocabulary, ids: list[int], bars: int) -> list[int] | None:
    """The first ``bars`` bars of a piece's ids (up to the token that opens bar ``bars``), or
    ``None`` when the piece has no more bars than that."""
    starts = [i for i, token in enumerate(ids) if vocabulary.base_tokens([token])[:1] == ["Bar_None"]]
    return ids[: starts[bars]] if len(starts) > bars else None


def continue_pieces(
    model: GPT2LMHeadModel,
    test_tokens: dict[str, list[int]],
    tokenizer: Vocabulary,
    transformer_tokenizer: Vocabulary,
    pieces: pd.DataFrame,
    params: dict,
) -> tuple[dict[str, Score], dict]:
    """Task 2: the first ``continuation.num_pieces`` test pieces with more than ``prefix_bars``
    bars, prompted with BOS, their composer and their first ``prefix_bars`` bars, continued for
    ``seconds``. Per piece, ``continuation/<piece>/`` holds ``prefix``, ``continuation``,
    ``full`` and ``reference`` (the real music after the prefix, cut by the same length rule)."""
    validate_generation_params(params)
    settings, vocabulary = params["continuation"], transformer_tokenizer
    composer_of = dict(zip(pieces["piece_id"], pieces["composer"]))
    file_of = dict(zip(pieces["piece_id"], pieces["midi_filename"]))
    chosen, manifest = [], {"files": {}, "skipped_short_pieces": []}
    for piece_id, base_ids in test_tokens.items():
        if len(chosen) == settings["num_pieces"]:
            break
        ids = vocabulary.convert(base_ids, tokenizer)
        prefix = bar_prefix(vocabulary, ids, settings["prefix_bars"])
        if prefix is None:
            manifest["skipped_short_pieces"].append(piece_id)
            continue
        chosen.append((piece_id, ids, Request(prefix, composer_of.get(piece_id), params["seed"] + len(chosen))))
    if not chosen:
        return {}, manifest
    preset_name, length = params["continuation_preset"], Length(seconds=params["seconds"])
    started = time.perf_counter()
    sampled = sample(model, vocabulary, [request for _, _, request in chosen], params["presets"][preset_name], length, params["sampler"])
    seconds = (time.perf_counter() - started) / len(chosen)
    outputs = {}
    for (piece_id, ids, request), piece in zip(chosen, sampled):
        reference = cut_to_length(vocabulary, ids, len(request.prompt), length, params["sampler"]["bar_tolerance_seconds"])
        folder = f"continuation/{piece_id.replace('/', '__')}"
        common = {"prompt": f"{file_of.get(piece_id, piece_id)}, bars 0-{settings['prefix_bars']}", "piece_id": piece_id,
                  "composer": request.composer, "preset": preset_name, **params["presets"][preset_name], "seed": request.seed,
                  "requested_seconds": params["seconds"]}
        parts = {"prefix": (piece, "prompt", request.prompt), "continuation": (piece, "new", piece.tokens[piece.prompt_tokens :]),
                 "full": (piece, "full", piece.tokens), "reference": (reference, "new", reference.tokens[reference.prompt_tokens :])}
        for part, (source, which, part_tokens) in parts.items():
            score = piece_score(vocabulary, source, which)
            outputs[f"{folder}/{part}"] = score
            manifest["files"][f"{folder}/{part}"] = {**common, **describe(vocabulary, source, score, part_tokens),
                                                     "generation_seconds": round(seconds, 3) if part == "continuation" else 0.0}
    log.info("Continued %d test pieces", len(chosen))
    return outputs, manifest


def generate_lstm_pieces(lstm: dict, notes: pd.DataFrame, params: dict, lstm_params: dict) -> tuple[dict[str, Score], dict]:
    """The LSTM in the transformer's layout, ``seconds`` of music each. Task 1: ``num_samples``
    pieces (``lstm/sample_NNN``) each seeded with the first ``seq_length`` notes of a train
    piece. Task 2: for the first ``continuation.num_pieces`` test pieces, the first
    ``seq_length`` notes are the prefix (``lstm_continuation/<piece>/{prefix,continuation,full,reference}``).
    The quality constraints come from ``generation.lstm.constraints``."""
    validate_generation_params(params)
    settings, timing_ranges = params["lstm"], lstm_params["timing"]
    model = load_lstm(lstm)
    seq_length = lstm_params["seq_length"]
    generator = torch.Generator().manual_seed(params["seed"])
    max_notes = int(params["seconds"] * settings["max_notes_per_second"])
    by_piece = {split: [g for _, g in notes[notes["split"] == split].groupby("piece_id", sort=False) if len(g) > seq_length] for split in ("train", "test")}
    pieces, manifest = {}, {"files": {}}

    def add(name: str, pitch: np.ndarray, timing: np.ndarray, prompt: str) -> None:
        score = notes_to_score(pitch, timing, timing_ranges, settings["velocity"])
        pieces[name] = score
        manifest["files"][name] = {"prompt": prompt, "temperature": settings["temperature"], "seed": params["seed"],
                                   "notes": int(score.note_num()), "seconds": round(float(score.to("second").end()), 3),
                                   **settings["constraints"]}

    def continue_seed(pitch: np.ndarray, timing: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return sample_notes(model, pitch, timing, params["seconds"], timing_ranges, settings["temperature"], settings["constraints"],
                            generator, max_notes)

    for index in tqdm(range(params["num_samples"]), desc="LSTM task 1", unit="piece"):
        seed_piece = by_piece["train"][index % len(by_piece["train"])]
        new_pitch, new_timing = continue_seed(*note_features(seed_piece.iloc[:seq_length], timing_ranges))
        add(f"lstm/sample_{index:03d}", new_pitch, new_timing, f"first {seq_length} notes of train piece {seed_piece['piece_id'].iloc[0]}")
    for piece in tqdm(by_piece["test"][: params["continuation"]["num_pieces"]], desc="LSTM task 2", unit="piece"):
        pitch, timing = note_features(piece, timing_ranges)
        new_pitch, new_timing = continue_seed(pitch[:seq_length], timing[:seq_length])
        folder, prompt = f"lstm_continuation/{piece['piece_id'].iloc[0].replace('/', '__')}", f"first {seq_length} notes of the test piece"
        add(f"{folder}/prefix", pitch[:seq_length], timing[:seq_length], prompt)
        add(f"{folder}/continuation", new_pitch, new_timing, prompt)
        add(f"{folder}/full", np.concatenate([pitch[:seq_length], new_pitch]), np.concatenate([timing[:seq_length], new_timing]), prompt)
        onsets = piece["start"].to_numpy() - piece["start"].to_numpy()[seq_length]
        real = np.flatnonzero((onsets >= 0) & (onsets < params["seconds"]))
        if len(real):
            add(f"{folder}/reference", pitch[real], timing[real], prompt)
    return pieces, manifest


def real_token_figures(test_tokens: dict[str, list[int]], tokenizer: Vocabulary, transformer_tokenizer: Vocabulary) -> dict:
    """The real test split in the model's tokens: its grammar-error share (0 for real music)
    and notes per token, means over pieces; the yardstick of the generation guard."""
    figures = []
    for base_ids in test_tokens.values():
        ids = transformer_tokenizer.convert(base_ids, tokenizer)
        figures.append((transformer_tokenizer.grammar_error_share(ids), transformer_tokenizer.decode(ids).note_num() / max(len(ids), 1)))
    shares, density = zip(*figures) if figures else ((0.0,), (0.0,))
    return {"pieces": len(figures), "grammar_error_share": float(np.mean(shares)), "notes_per_token": float(np.mean(density))}


def merge_generated(
    unconditioned: dict[str, Score], continued: dict[str, Score], lstm: dict[str, Score],
    unconditioned_manifest: dict, continued_manifest: dict, lstm_manifest: dict, real_test_figures: dict,
) -> tuple[dict[str, Score], dict]:
    """Transformer Task 1 and Task 2 and LSTM outputs → one MIDI folder and one manifest. The
    manifest's ``sets`` give each transformer set's mean grammar-error share and notes per
    token, beside ``real_test``'s."""
    manifests = (unconditioned_manifest, continued_manifest, lstm_manifest)
    files = {name: entry for m in manifests for name, entry in m["files"].items()}
    manifest = {
        "real_test": real_test_figures,
        "sets": token_figures(files),
        "files": files,
        "skipped_short_pieces": continued_manifest["skipped_short_pieces"],
    }
    return {**unconditioned, **continued, **lstm}, manifest


def render_audio(generated_midi: dict[str, Score], params: dict) -> dict[str, bytes]:
    """Generated MIDI → ``{name: encoded audio bytes}`` (``generation.audio``): rendered with a
    SoundFont, brought to one loudness and encoded (OGG Vorbis by default); see ``music.audio``.
    ``{}`` and a log line when ``generation.audio.enabled`` is false. A missing SoundFont is an
    error naming ``generation.audio.soundfont``, raised before any rendering."""
    settings = params["audio"]
    if not settings["enabled"]:
        log.info("Audio rendering is off (generation.audio.enabled: false)")
        return {}
    validate_audio_settings(settings)
    soundfont = find_soundfont(settings["soundfont"])
    return {name: score_audio(score, soundfont, settings) for name, score in tqdm(generated_midi.items(), desc="render audio", unit="file")}
