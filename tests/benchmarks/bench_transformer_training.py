"""Benchmark: training tokens/s of the seed's recipe (each piece's first ``max_length`` tokens,
padded) against this pipeline's recipe (windows over every token), same model, same data, one run.

    python tests/benchmarks/bench_transformer_training.py [--env base] [--steps 30]

Needs the token JSON of a data_engineering run. Prints tokens/s (non-padding tokens through the
model per second), their ratio, and the share of the train split's tokens each recipe sees per epoch.
"""

from __future__ import annotations

import argparse
import copy
import logging
import tempfile
import time

from _project import load_or_explain, load_project
from transformers import Trainer

from symbolic_music.models.windows import PadCollator, WindowDataset
from symbolic_music.models.transformer import build_model, training_arguments
from symbolic_music.pipelines.transformer_model.nodes import build_windows


def measure(windows: list[list[int]], tokenizer, params: dict, steps: int) -> tuple[float, int]:
    """Train a fresh model for ``steps`` steps on ``windows``; returns (seconds, tokens seen).
    Tokens seen are estimated as steps × batch × the mean window length (padding excluded)."""
    p = copy.deepcopy(params)
    p["training"].update(max_steps=steps, logging_steps=steps, save_total_limit=1)
    with tempfile.TemporaryDirectory() as tmp:
        p["trainer_dir"] = tmp
        args = training_arguments(p)
        args.eval_strategy = args.save_strategy = "no"
        args.load_best_model_at_end = False
        args.disable_tqdm = True
        batch = args.per_device_train_batch_size
        trainer = Trainer(
            model=build_model(tokenizer, p),
            args=args,
            train_dataset=WindowDataset(windows),
            data_collator=PadCollator(tokenizer.pad_id),
        )
        started = time.perf_counter()
        trainer.train()
        seconds = time.perf_counter() - started
    mean_length = sum(map(len, windows)) / len(windows)
    return seconds, int(steps * batch * mean_length)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="base")
    parser.add_argument("--steps", type=int, default=30)
    args = parser.parse_args()
    logging.getLogger("kedro").setLevel(logging.WARNING)
    catalog, params = load_project(args.env)
    p = copy.deepcopy(params["transformer_model"])
    p["composer_tokens"]["enabled"] = False
    train_tokens = load_or_explain(catalog, "train_tokens")
    tokenizer = load_or_explain(catalog, "tokenizer")
    length = p["max_length"]
    seed_windows = [[tokenizer.bos_id, *piece[: length - 1]] for piece in train_tokens.values()]
    sequences = {k: {"header": [], "ids": v} for k, v in train_tokens.items()}
    our_windows = build_windows(sequences, tokenizer, length, p["stride"])
    total = sum(map(len, train_tokens.values()))
    seen_seed = sum(min(len(piece), length - 1) for piece in train_tokens.values())

    print(f"train split: {len(train_tokens)} pieces, {total:,} tokens; max_length {length}, stride {p['stride']}")
    seed_seconds, seed_tokens = measure(seed_windows, tokenizer, p, args.steps)
    our_seconds, our_tokens = measure(our_windows, tokenizer, p, args.steps)
    seed_rate, our_rate = seed_tokens / seed_seconds, our_tokens / our_seconds
    print(f"seed recipe (first {length} tokens, padded): {seed_rate:10,.0f} tokens/s; sees {seen_seed / total:6.1%} of train tokens per epoch ({len(seed_windows)} windows)")
    print(f"this pipeline (windows over every token):   {our_rate:10,.0f} tokens/s; sees 100.0% of train tokens per epoch ({len(our_windows)} windows)")
    print(f"ratio (pipeline / seed tokens/s): {our_rate / seed_rate:.2f}x over {args.steps} steps each")


if __name__ == "__main__":
    main()
