"""generation nodes: trained transformer + tokenizer in; MIDI pieces and a manifest out."""

from __future__ import annotations

import logging
import time

import miditok
import torch
from symusic import Score
from tqdm.auto import tqdm
from transformers import GPT2LMHeadModel

from symbolic_music.music.tokens import decode_ids
from symbolic_music.pipelines.transformer_model.nodes import special_ids

log = logging.getLogger(__name__)
SAMPLING_KEYS = ("temperature", "top_k", "top_p")


def validate_presets(params: dict) -> None:
    """Raise ``ValueError`` naming the parameter for a bad preset or sampling setting."""
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
    if params["num_samples"] < 1 or params["max_new_tokens"] < 1:
        raise ValueError("generation.num_samples and generation.max_new_tokens must be at least 1")


@torch.no_grad()
def sample_tokens(model: GPT2LMHeadModel, prompt: list[int], num_samples: int, preset: dict, max_new_tokens: int, seed: int, eos_id: int, pad_id: int) -> list[list[int]]:
    """``num_samples`` continuations of one prompt in a single batched ``generate`` call (KV
    cache on), stopping at EOS; returns the new tokens of each, EOS and padding removed."""
    room = model.config.n_positions - len(prompt)
    if max_new_tokens > room:
        log.warning("max_new_tokens=%d exceeds the model's context; generating %d", max_new_tokens, room)
        max_new_tokens = room
    torch.manual_seed(seed)
    model.eval()
    input_ids = torch.tensor([prompt] * num_samples, dtype=torch.long, device=model.device)
    output = model.generate(
        input_ids=input_ids,
        attention_mask=torch.ones_like(input_ids),
        do_sample=True,
        max_new_tokens=max_new_tokens,
        eos_token_id=eos_id,
        pad_token_id=pad_id,
        use_cache=True,
        **preset,
    )
    new_tokens = output[:, len(prompt):].tolist()
    return [[t for t in row[: row.index(eos_id)] if t != pad_id] if eos_id in row else [t for t in row if t != pad_id] for row in new_tokens]


def _prompts(tokenizer: miditok.MusicTokenizer, params: dict) -> list[tuple[str, str, str, list[int]]]:
    """(output folder, prompt description, preset, prompt ids): BOS for every preset, and BOS + composer
    token with the ``composer_preset`` for each composer token the tokenizer knows."""
    bos = special_ids(tokenizer)["bos"]
    prompts = [(f"unconditioned/{preset}", "BOS", preset, [bos]) for preset in params["presets"]]
    for composer, token in getattr(tokenizer, "composer_tokens", {}).items():
        folder = f"composer/{token.removeprefix('Composer_')}/{params['composer_preset']}"
        prompts.append((folder, f"BOS {token}", params["composer_preset"], [bos, tokenizer.vocab[token]]))
    return prompts


def generate_pieces(model: GPT2LMHeadModel, tokenizer: miditok.MusicTokenizer, params: dict) -> tuple[dict[str, Score], dict]:
    """Task 1: ``num_samples`` pieces per preset from BOS (``unconditioned/<preset>/sample_NNN``)
    and, for a model trained with composer tokens, per composer (``composer/<name>/<preset>/...``).
    Returns the decoded scores and a manifest (per file: prompt, preset, seed, tokens, notes,
    seconds taken; plus the pieces dropped because they decoded to nothing)."""
    validate_presets(params)
    if params["composer_preset"] not in params["presets"]:
        raise ValueError(f"generation.composer_preset {params['composer_preset']!r} is not one of generation.presets {list(params['presets'])}")
    ids = special_ids(tokenizer)
    pieces, manifest = {}, {"files": {}, "dropped": []}
    for offset, (folder, prompt_name, preset_name, prompt) in enumerate(tqdm(_prompts(tokenizer, params), desc="generate", unit="prompt")):
        preset = params["presets"][preset_name]
        seed = params["seed"] + offset
        started = time.perf_counter()
        samples = sample_tokens(model, prompt, params["num_samples"], preset, params["max_new_tokens"], seed, ids["eos"], ids["pad"])
        seconds_per_piece = (time.perf_counter() - started) / len(samples)
        for index, tokens in enumerate(samples):
            name = f"{folder}/sample_{index:03d}"
            try:
                score = decode_ids(tokenizer, tokens)
            except Exception as error:  # miditok raises on malformed sequences
                score, reason = None, f"decode failed: {error}"
            else:
                reason = "no notes" if score.note_num() == 0 else None
            if reason:
                log.warning("Dropping %s: %s", name, reason)
                manifest["dropped"].append({"file": name, "reason": reason, "tokens": len(tokens)})
                continue
            pieces[name] = score
            manifest["files"][name] = {
                "prompt": prompt_name,
                "preset": preset_name,
                **preset,
                "seed": seed,
                "sample_index": index,
                "tokens": len(tokens),
                "notes": int(score.note_num()),
                "generation_seconds": round(seconds_per_piece, 3),
            }
    log.info("Generated %d pieces, dropped %d", len(pieces), len(manifest["dropped"]))
    return pieces, manifest
