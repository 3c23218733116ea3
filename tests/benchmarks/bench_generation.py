"""Benchmark: the sampler (``models/sampler.py``) at batch 1 against the least work a token needs,
one pass over the weights, and long pieces against a single context-sized call.

    python tests/benchmarks/bench_generation.py [--env maestro] [--new-tokens 256] [--rounds 3]

The model is GPT-2 at the ``--env`` environment's size (maestro: the seed's 8 layers x 768 x 12
heads) with random weights; speed does not depend on the weights. The vocabulary is the
environment's trained ``transformer_tokenizer`` (run ``kedro run --pipeline=data_engineering``, or
the whole run, first). Every figure is the best of ``--rounds`` rounds, measurements interleaved,
with the same thread count:

- **the floor**: one ``torch.nn.functional.linear`` at batch 1 over each of the model's own weight
  matrices in turn (the four of every block and the output layer), in the sampling dtype, in the
  faster of the two layouts (GPT-2's ``Conv1D`` keeps ``in x out``; a contiguous ``out x in``
  copy): the weights every new token must read;
- **the sampler** at batch 1 (``--new-tokens`` new tokens, no prompt, the ``balanced`` preset),
  as tokens/s and as a share of the floor: ``reaches N% of one pass over the weights``;
- **HF generate** in fp32 with the KV cache (sampling top-k 50), the sampler's absolute yardstick;
- **the same in bf16** (weights and floor), an option: it must beat fp32 ``generate`` in absolute
  tokens/s, not only its own floor;
- **long pieces**: a 60-second piece (as many tokens as 60 s of the environment's real test
  music takes, median over its test pieces) sampled with the sliding window, against a single
  context-sized call, for several ``generation.sampler.context_kept`` values.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import time

import torch
import torch.nn.functional as F
from _project import load_or_explain, load_project

from symbolic_music.models.sampler import Length, Request, sample
from symbolic_music.models.transformer import build_model

LONG_PIECE_SECONDS = 60
CONTEXT_KEPT = (0.25, 0.5, 0.75)
BASELINE_TOP_K = 50


def weight_matrices(model) -> list[torch.Tensor]:
    """The matrices one new token multiplies by: every block's attention and MLP projections, and
    the output layer (tied to the token embedding). Position embeddings are a lookup, not a product."""
    blocks = [m.weight for block in model.transformer.h for m in (block.attn.c_attn, block.attn.c_proj, block.mlp.c_fc, block.mlp.c_proj)]
    return [w.detach() for w in blocks] + [model.lm_head.weight.detach()]


@torch.no_grad()
def one_pass_seconds(model) -> float:
    """Best time of one ``F.linear`` at batch 1 over every weight matrix, in the faster layout."""
    layouts = []
    for matrix in weight_matrices(model):
        if matrix is model.lm_head.weight:  # already out x in
            layouts.append((matrix,))
        else:  # Conv1D: in x out; F.linear reads its transpose as a view, or a contiguous copy
            layouts.append((matrix.t(), matrix.t().contiguous()))
    best = float("inf")
    for layout in (0, 1):
        weights = [options[min(layout, len(options) - 1)] for options in layouts]
        inputs = [torch.ones(1, w.shape[1], dtype=w.dtype, device=w.device) for w in weights]
        for _ in range(20):
            synchronize()
            started = time.perf_counter()
            for x, w in zip(inputs, weights):
                F.linear(x, w)
            synchronize()
            best = min(best, time.perf_counter() - started)
    return best


def synchronize() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def sampler_seconds(model, vocabulary, settings: dict, preset: dict, new_tokens: int, batch: int = 1) -> float:
    """Seconds for the sampler to write exactly ``new_tokens`` tokens in each of ``batch`` pieces
    (a length they never reach, so only the token cap stops them)."""
    far = 1e6
    settings = {**settings, "batch_size": batch, "max_tokens_per_second": new_tokens / far}
    synchronize()
    started = time.perf_counter()
    pieces = sample(model, vocabulary, [Request(seed=seed) for seed in range(batch)], preset, Length(seconds=far), settings)
    synchronize()
    seconds = time.perf_counter() - started
    assert all(len(piece.tokens) == new_tokens for piece in pieces), [(len(piece.tokens), piece.stop) for piece in pieces]
    return seconds


@torch.no_grad()
def generate_seconds(model, vocabulary, new_tokens: int) -> float:
    """Seconds for plain HF ``generate`` (KV cache, top-k sampling) to write ``new_tokens`` tokens."""
    ids = torch.full((1, 1), vocabulary.bos_id, dtype=torch.long)
    started = time.perf_counter()
    model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=True, top_k=BASELINE_TOP_K, max_new_tokens=new_tokens,
                   min_new_tokens=new_tokens, pad_token_id=vocabulary.pad_id, use_cache=True)
    return time.perf_counter() - started


def best_of(rounds: int, measures: dict) -> dict:
    """{name: best seconds} over ``rounds`` rounds, the measurements interleaved within a round."""
    best = {name: float("inf") for name in measures}
    for _ in range(rounds):
        for name, measure in measures.items():
            best[name] = min(best[name], measure())
    return best


def tokens_for_seconds(vocabulary, pieces, seconds: float) -> int:
    """Median number of tokens (of ``vocabulary``, the pieces' own) the first ``seconds`` of the
    real pieces take; shorter pieces are skipped."""
    counts = []
    for tokens in pieces:
        timeline = vocabulary.timeline()
        for count, token in enumerate(vocabulary.base_tokens(tokens)):
            timeline.feed_all([token])
            if timeline.now >= seconds:
                counts.append(count + 1)
                break
    if not counts:
        raise SystemExit(f"no test piece lasts {seconds} s; cannot size the long piece")
    return int(statistics.median(counts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="maestro", help="environment whose model size is used")
    parser.add_argument("--new-tokens", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    logging.getLogger("kedro").setLevel(logging.WARNING)
    _, params = load_project(args.env)
    base_catalog, _ = load_project("base")  # the embedded corpus's vocabulary and test pieces, as in the figures
    vocabulary = load_or_explain(base_catalog, "transformer_tokenizer")
    settings = {**params["generation"]["sampler"], "precision": "fp32"}
    preset = params["generation"]["presets"]["balanced"]
    torch.manual_seed(0)
    model = build_model(vocabulary, params["transformer_model"]).eval()
    megabytes = sum(w.numel() * w.element_size() for w in weight_matrices(model)) / 1e6
    print(f"model: {args.env} size, {model.num_parameters() / 1e6:.1f}M parameters, {megabytes:.0f} MB of fp32 weight matrices per token;"
          f" {torch.get_num_threads()} threads; {args.new_tokens} new tokens at batch 1, best of {args.rounds}")

    n = args.new_tokens
    bf16 = build_model(vocabulary, params["transformer_model"]).eval()
    bf16.load_state_dict(model.state_dict())
    bf16 = bf16.to(torch.bfloat16)
    best = best_of(args.rounds, {
        "floor": lambda: one_pass_seconds(model),
        "sampler": lambda: sampler_seconds(model, vocabulary, {**settings, "precision": "fp32"}, preset, n),
        "generate": lambda: generate_seconds(model, vocabulary, n),
        "floor bf16": lambda: one_pass_seconds(bf16),
        "sampler bf16": lambda: sampler_seconds(bf16, vocabulary, {**settings, "precision": "bf16"}, preset, n),
    })
    generate_rate = n / best["generate"]
    for dtype in ("", " bf16"):
        floor_rate, rate = 1 / best["floor" + dtype], n / best["sampler" + dtype]
        print(f"{'fp32' if not dtype else 'bf16'}: one pass over the weights {1000 * best['floor' + dtype]:.2f} ms = {floor_rate:.1f} tokens/s;"
              f" sampler {rate:.1f} tokens/s: reaches {rate / floor_rate:.0%} of one pass over the weights;"
              f" {rate / generate_rate:.2f}x fp32 generate ({generate_rate:.1f} tokens/s)")

    test, tokenizer = load_or_explain(base_catalog, "test_tokens"), load_or_explain(base_catalog, "tokenizer")
    long_tokens = tokens_for_seconds(tokenizer, [test[key] for key in sorted(test)], LONG_PIECE_SECONDS)
    context = model.config.n_positions
    single = context - len(vocabulary.header(None)) - 1
    single_rate = single / min(sampler_seconds(model, vocabulary, {**settings, "context_kept": 0.0}, preset, single) for _ in range(2))
    print(f"long piece: {LONG_PIECE_SECONDS} s of real test music = {long_tokens} tokens (median); a single context-sized call"
          f" ({single} new tokens) {single_rate:.1f} tokens/s")
    for kept in CONTEXT_KEPT:
        rate = long_tokens / sampler_seconds(model, vocabulary, {**settings, "context_kept": kept}, preset, long_tokens)
        default = "  (default)" if kept == settings["context_kept"] else ""
        print(f"long piece, context_kept {kept:.2f}: {rate:.1f} tokens/s = {rate / single_rate:.2f}x the single call{default}")


if __name__ == "__main__":
    main()
