"""Benchmark: sampling speed of this pipeline (HF ``generate``, KV cache, batched) against the
original naive loop (the whole sequence re-run for every token), on the seed-sized GPT-2.

    python tests/benchmarks/bench_generation.py [--env maestro] [--new-tokens 64]

The model has random weights of the ``--env`` environment's size (maestro: 8 layers × 768 × 12
heads); speed does not depend on the weights. Prints tokens/s at batch 1 and 16, the ratios,
and batch-1 speed as a share of the memory-bandwidth bound measured in the same run (bandwidth
from a large tensor copy ÷ bytes of fp32 weights read per token).
"""

from __future__ import annotations

import argparse
import logging
import time

import torch
from _project import load_or_explain, load_project

from symbolic_music.models.transformer import build_model

PRESET = {"temperature": 1.0, "top_k": 50, "top_p": 1.0}


@torch.no_grad()
def naive_loop(model, batch: int, new_tokens: int, bos: int, top_k: int) -> None:
    """The original sampling: no cache, the full sequence through the model for every token."""
    ids = torch.full((batch, 1), bos, dtype=torch.long)
    for _ in range(new_tokens):
        logits = model(ids, use_cache=False).logits[:, -1]
        values, indices = logits.topk(top_k)
        choice = torch.multinomial(values.softmax(-1), 1)
        ids = torch.cat([ids, indices.gather(-1, choice)], dim=1)


@torch.no_grad()
def generate_loop(model, batch: int, new_tokens: int, bos: int, pad: int) -> None:
    """HF ``generate`` with the KV cache, sampling exactly ``new_tokens`` tokens (no EOS)."""
    ids = torch.full((batch, 1), bos, dtype=torch.long)
    model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=True, max_new_tokens=new_tokens, min_new_tokens=new_tokens,
                   pad_token_id=pad, use_cache=True, **PRESET)


def tokens_per_second(run, batch: int, new_tokens: int) -> float:
    run()  # warm-up
    started = time.perf_counter()
    run()
    return batch * new_tokens / (time.perf_counter() - started)


def memory_bandwidth(megabytes: int = 512, repeats: int = 5) -> float:
    """Bytes/s of a large tensor copy (read + write)."""
    source = torch.ones(megabytes * 2**20 // 4)
    target = torch.empty_like(source)
    target.copy_(source)
    started = time.perf_counter()
    for _ in range(repeats):
        target.copy_(source)
    return 2 * source.numel() * 4 * repeats / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="maestro", help="environment whose model size is used")
    parser.add_argument("--new-tokens", type=int, default=64)
    args = parser.parse_args()
    logging.getLogger("kedro").setLevel(logging.WARNING)
    catalog, params = load_project(args.env)
    tokenizer = load_or_explain(catalog, "tokenizer")
    torch.manual_seed(0)
    model = build_model(tokenizer, params["transformer_model"]).eval()
    weight_bytes = sum(p.numel() * p.element_size() for p in model.parameters())
    print(f"model: {model.num_parameters() / 1e6:.1f}M parameters ({weight_bytes / 1e6:.0f} MB fp32), {torch.get_num_threads()} threads, {args.new_tokens} new tokens")

    results = {}
    for batch in (1, 16):
        results[("naive", batch)] = tokens_per_second(lambda: naive_loop(model, batch, args.new_tokens, tokenizer.bos_id, PRESET["top_k"]), batch, args.new_tokens)
        results[("cached", batch)] = tokens_per_second(
            lambda: generate_loop(model, batch, args.new_tokens, tokenizer.bos_id, tokenizer.pad_id), batch, args.new_tokens
        )
        print(f"batch {batch:2d}: naive loop {results[('naive', batch)]:8.1f} tokens/s | generate + KV cache {results[('cached', batch)]:8.1f} tokens/s"
              f" | {results[('cached', batch)] / results[('naive', batch)]:5.1f}x")
    bandwidth = memory_bandwidth()
    bound = bandwidth / weight_bytes
    print(f"batch 16 vs batch 1 (KV cache): {results[('cached', 16)] / results[('cached', 1)]:.1f}x total tokens/s")
    print(f"memory bandwidth {bandwidth / 1e9:.1f} GB/s -> batch-1 bound {bound:.1f} tokens/s; "
          f"generate reaches {results[('cached', 1)] / bound:.0%} of it")


if __name__ == "__main__":
    main()
