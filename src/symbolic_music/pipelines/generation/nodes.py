"""generation nodes for the transformer: Task 1 and Task 2 pieces, each with its manifest entry.

All sampling is ``models.sampler``; these nodes only choose prompts, seeds and lengths, and
describe every file (with its provenance, ``models.provenance``).
"""

from __future__ import annotations

import logging
import time

import pandas as pd
from symusic import Score
from tqdm.auto import tqdm
from transformers import GPT2LMHeadModel

from symbolic_music import __version__
from symbolic_music.models.provenance import checkpoint_hash, stamp, vocabulary_hash
from symbolic_music.models.sampler import (
    Length,
    Piece,
    Request,
    cut_to_length,
    piece_score,
    sample,
    validate_generation_params,
)
from symbolic_music.music.prompts import continuation_prompts
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


def provenance(model: GPT2LMHeadModel, vocabulary: Vocabulary, params: dict, preset_name: str, request: Request, prompt: dict | None) -> dict:
    """What made a transformer piece, enough for ``generate --reproduce`` to make it again
    (see ``models.provenance``): checkpoint and vocabulary hashes, seed, settings, prompt, length."""
    return {"generator": "transformer", "checkpoint": checkpoint_hash(model), "vocabulary": vocabulary_hash(vocabulary),
            "seed": request.seed, "preset": preset_name, "settings": params["presets"][preset_name], "sampler": params["sampler"],
            "length": {"seconds": params["seconds"]}, "composer": request.composer, "prompt": prompt, "version": __version__}


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
            record = provenance(model, tokenizer, params, preset_name, request, None)
            name, score = f"{folder}/sample_{index:03d}", stamp(piece_score(tokenizer, piece), record)
            pieces[name] = score
            manifest["files"][name] = {
                "prompt": "BOS" + (f" + composer {composer}" if composer else ""), "composer": composer, "preset": preset_name,
                **params["presets"][preset_name], "seed": request.seed, "requested_seconds": params["seconds"],
                **describe(tokenizer, piece, score, piece.tokens), "generation_seconds": round(seconds, 3), "provenance": record,
            }
    log.info("Generated %d pieces", len(pieces))
    return pieces, manifest


def continue_pieces(
    model: GPT2LMHeadModel,
    test_tokens: dict[str, list[int]],
    tokenizer: Vocabulary,
    transformer_tokenizer: Vocabulary,
    pieces: pd.DataFrame,
    params: dict,
) -> tuple[dict[str, Score], dict]:
    """Task 2: ``continuation.num_pieces`` prompts of ``prefix_bars`` bars from the test split,
    each with at least ``seconds`` of real music after it, taken from the test pieces in turn
    (each piece's first bars, then later bars of the pieces long enough), prompted with BOS and
    the piece's composer, and continued for ``seconds``. Per prompt,
    ``continuation/<piece>[@bar<N>]/`` holds ``prefix``, ``continuation``, ``full`` and
    ``reference`` (the real music after the prefix, cut by the same length rule). Test pieces
    too short for one prompt are listed in the manifest."""
    validate_generation_params(params)
    settings, vocabulary = params["continuation"], transformer_tokenizer
    composer_of = dict(zip(pieces["piece_id"], pieces["composer"]))
    file_of = dict(zip(pieces["piece_id"], pieces["midi_filename"]))
    per_piece, manifest = {}, {"files": {}, "skipped_short_pieces": []}
    for piece_id, base_ids in test_tokens.items():
        found = continuation_prompts(vocabulary, tokenizer.base_tokens(base_ids), settings["prefix_bars"], params["seconds"])
        if found:
            per_piece[piece_id] = found
        else:
            manifest["skipped_short_pieces"].append(piece_id)
    in_turn = [(piece_id, *found[depth]) for depth in range(max(map(len, per_piece.values()), default=0))
               for piece_id, found in per_piece.items() if depth < len(found)]
    chosen = []
    for piece_id, bar, prompt, rest in in_turn[: settings["num_pieces"]]:
        prompt_ids, rest_ids = vocabulary.from_base_tokens(prompt), vocabulary.from_base_tokens(rest)
        chosen.append((piece_id, bar, rest_ids, Request(prompt_ids, composer_of.get(piece_id), params["seed"] + len(chosen))))
    if not chosen:
        return {}, manifest
    preset_name, length = params["continuation_preset"], Length(seconds=params["seconds"])
    started = time.perf_counter()
    sampled = sample(model, vocabulary, [request for *_, request in chosen], params["presets"][preset_name], length, params["sampler"])
    seconds = (time.perf_counter() - started) / len(chosen)
    outputs = {}
    for (piece_id, bar, rest_ids, request), piece in zip(chosen, sampled):
        reference = cut_to_length(vocabulary, request.prompt + rest_ids, len(request.prompt), length, params["sampler"]["bar_tolerance_seconds"])
        folder = f"continuation/{piece_id.replace('/', '__')}" + (f"@bar{bar}" if bar else "")
        span = {"piece_id": piece_id, "midi_filename": file_of.get(piece_id, piece_id), "bar": bar, "bars": settings["prefix_bars"],
                "tokenizer": vocabulary_hash(tokenizer)}
        record = provenance(model, vocabulary, params, preset_name, request, span)
        real = {"generator": "real music", **span, "after_prompt_seconds": params["seconds"]}
        common = {"prompt": f"{span['midi_filename']}, bars {bar}-{bar + settings['prefix_bars']}", "piece_id": piece_id,
                  "bar": bar, "composer": request.composer, "preset": preset_name, **params["presets"][preset_name],
                  "seed": request.seed, "requested_seconds": params["seconds"]}
        parts = {"prefix": (piece, "prompt", request.prompt, real), "continuation": (piece, "new", piece.tokens[piece.prompt_tokens :], record),
                 "full": (piece, "full", piece.tokens, record),
                 "reference": (reference, "new", reference.tokens[reference.prompt_tokens :], real)}
        for part, (source, which, part_tokens, origin) in parts.items():
            score = stamp(piece_score(vocabulary, source, which), {**origin, "part": part})
            outputs[f"{folder}/{part}"] = score
            manifest["files"][f"{folder}/{part}"] = {**common, **describe(vocabulary, source, score, part_tokens),
                                                     "generation_seconds": round(seconds, 3) if part == "continuation" else 0.0,
                                                     "provenance": {**origin, "part": part}}
    log.info("Continued %d prompts from %d test pieces", len(chosen), len({c[0] for c in chosen}))
    return outputs, manifest
