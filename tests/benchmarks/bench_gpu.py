"""Benchmark: the maestro environment's seed-sized GPT-2 on a GPU: training tokens/s and model FLOPs
utilisation (MFU), peak memory at the seed's batch size, and sampling tokens/s at batch 1 and 16
(batch 1 also as a share of one pass over the weights, as ``bench_generation.py`` measures on CPU).

    python tests/benchmarks/bench_gpu.py [--steps 200] [--peak-tflops X] [--device cuda|cpu]

Without a GPU it says so and exits 0 (``make bench`` runs on CPU machines too); ``--device cpu
--steps 2 --warmup-steps 1 --new-tokens 16`` runs the same code on CPU as a smoke test. The training windows are random tokens
of the maestro vocabulary's size at the environment's ``max_length`` (speed does not depend on
the values); the optimizer, schedule, batch size and precision are the environment's
(``transformer_model.precision``: bf16 autocast where the GPU has it). MFU counts 6 x parameters
+ 12 x layers x width x sequence FLOPs per trained token (PaLM's formula, attention included)
against the GPU's dense peak for that dtype: looked up by name below, or ``--peak-tflops``.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import time

import torch
from _project import load_project
from bench_generation import best_of, one_pass_seconds, sampler_seconds, synchronize
from transformers import Trainer, TrainerCallback

from symbolic_music.models.precision import DTYPES, resolve
from symbolic_music.models.transformer import build_model, training_arguments
from symbolic_music.models.windows import PadCollator, WindowDataset
from symbolic_music.music.vocabulary import Vocabulary

# Dense (no sparsity) tensor-core peaks in TFLOPS, from the vendors' data sheets.
PEAK_TFLOPS = {"H100": {"bf16": 989.0, "fp16": 989.0, "fp32": 67.0}, "H200": {"bf16": 989.0, "fp16": 989.0, "fp32": 67.0},
               "A100": {"bf16": 312.0, "fp16": 312.0, "fp32": 19.5}, "L4": {"bf16": 121.0, "fp16": 121.0, "fp32": 30.3}}


class StepTimer(TrainerCallback):
    """Wall time of the steps after the first ``warmup`` (kernel selection, allocator warm-up),
    the GPU synchronised at both ends."""

    def __init__(self, warmup: int) -> None:
        self.warmup, self.started, self.steps = warmup, None, 0

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.warmup:
            synchronize()
            self.started = time.perf_counter()
        elif state.global_step > self.warmup:
            self.steps += 1

    def seconds(self) -> float:
        synchronize()
        return time.perf_counter() - self.started


def peak_tflops(precision: str, given: float | None) -> float | None:
    if given:
        return given
    name = torch.cuda.get_device_name() if torch.cuda.is_available() else ""
    return next((table[precision] for key, table in PEAK_TFLOPS.items() if key in name), None)


def train(vocabulary: Vocabulary, params: dict, steps: int, warmup: int, device: str) -> dict:
    p = params["transformer_model"]
    model = build_model(vocabulary, p)
    batch, length = p["training"]["per_device_train_batch_size"], p["max_length"]
    generator = torch.Generator().manual_seed(0)
    windows = torch.randint(len(vocabulary), (batch * (steps + warmup + 1), length), generator=generator).tolist()
    args = dataclasses.replace(training_arguments({**p, "trainer_dir": "/tmp/bench_gpu"}), max_steps=steps + warmup,
                               eval_strategy="no", save_strategy="no", load_best_model_at_end=False, logging_steps=10**9,
                               use_cpu=device == "cpu", dataloader_num_workers=0)
    timer = StepTimer(warmup)
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    Trainer(model=model, args=args, train_dataset=WindowDataset(windows), data_collator=PadCollator(vocabulary.pad_id, 0), callbacks=[timer]).train()
    seconds = timer.seconds()
    tokens_per_second = timer.steps * batch * length / seconds
    config = model.config
    flops_per_token = 6 * model.num_parameters() + 12 * config.n_layer * config.n_embd * length
    return {"model": model, "tokens_per_second": tokens_per_second, "tflops": tokens_per_second * flops_per_token / 1e12,
            "peak_gib": torch.cuda.max_memory_allocated() / 2**30 if device == "cuda" else None, "batch": batch, "length": length,
            "args": args}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200, help="timed training steps (after warm-up)")
    parser.add_argument("--warmup-steps", type=int, default=10, help="training steps before the timing starts")
    parser.add_argument("--new-tokens", type=int, default=256)
    parser.add_argument("--peak-tflops", type=float, default=None, help="the GPU's dense peak for the training dtype")
    parser.add_argument("--device", choices=("cuda", "cpu"), default="cuda")
    args = parser.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        print("bench_gpu: no GPU here (torch.cuda.is_available() is False); nothing measured. On CPU see bench_generation.py.")
        return
    logging.getLogger("kedro").setLevel(logging.WARNING)
    _, params = load_project("maestro")
    base_catalog, _ = load_project("base")
    vocabulary = base_catalog["transformer_tokenizer"].load()  # the same vocabulary as bench_generation (speed is the model's)
    _, precision = resolve(params["transformer_model"]["precision"], "transformer_model.precision")
    device = args.device
    print(f"device: {torch.cuda.get_device_name() if device == 'cuda' else 'CPU'}; training precision {precision}"
          f" (transformer_model.precision: {params['transformer_model']['precision']}); attention {params['transformer_model']['model'].get('attn_implementation')}")

    trained = train(vocabulary, params, args.steps, args.warmup_steps, device)
    peak = peak_tflops(precision, args.peak_tflops)
    mfu = f"{trained['tflops'] / peak:.0%} MFU of {peak:.0f} TFLOPS {precision} peak" if peak else "MFU: peak unknown (give --peak-tflops)"
    memory = f"; peak memory {trained['peak_gib']:.1f} GiB" if trained["peak_gib"] is not None else ""
    print(f"training: batch {trained['batch']} x {trained['length']} tokens, {trained['model'].num_parameters() / 1e6:.1f}M parameters:"
          f" {trained['tokens_per_second']:,.0f} tokens/s = {trained['tflops']:.1f} TFLOPS, {mfu}{memory}")

    model = trained["model"].eval()
    settings, preset = params["generation"]["sampler"], params["generation"]["presets"]["balanced"]
    _, sample_precision = resolve(settings["precision"], "generation.sampler.precision")
    model.to(device=device, dtype=DTYPES[sample_precision])
    n = args.new_tokens
    best = best_of(3, {"floor": lambda: one_pass_seconds(model),
                       "batch 1": lambda: sampler_seconds(model, vocabulary, settings, preset, n),
                       "batch 16": lambda: sampler_seconds(model, vocabulary, settings, preset, n, batch=16)})
    floor_rate = 1 / best["floor"]
    print(f"sampling ({sample_precision}): batch 1 {n / best['batch 1']:.1f} tokens/s, reaches {n / best['batch 1'] / floor_rate:.0%}"
          f" of one pass over the weights ({1000 * best['floor']:.3f} ms); batch 16 {16 * n / best['batch 16']:.1f} tokens/s")


if __name__ == "__main__":
    main()
