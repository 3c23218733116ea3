"""Benchmark: the app's Generate request for 20 s of music, beside the bare ``sample()`` call for
the same request, in one run.

    python tests/benchmarks/bench_app.py [--env base] [--seconds 20] [--repeats 3] [--random-weights]

Uses the latest trained ``transformer`` of ``--env`` when the catalog has one, else (or with
``--random-weights``) a model of that environment's size with random weights
(``build_model``; speed does not depend on the weights, but the length of what a random model
writes does). The app's request adds the piano roll, the audio and the MIDI file to sampling;
the budget is 30 s on 2 CPU cores. Runs both ``--repeats`` times, interleaved, and prints the best of each and their ratio.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

import torch
from _project import load_project

from symbolic_music.app.generate_tab import NO_COMPOSER, Studio, generate_piece, preset_values
from symbolic_music.models.sampler import Length, Request, sample
from symbolic_music.models.transformer import build_model
from symbolic_music.music.tokens import build_tokenizer
from symbolic_music.music.vocabulary import Vocabulary

BUDGET_SECONDS = 30.0


def model_and_vocabulary(catalog, params: dict, random_weights: bool):
    """(model, vocabulary, description): the trained model, or random weights of the env's size."""
    if not random_weights:
        try:
            return catalog["transformer"].load(), catalog["transformer_tokenizer"].load(), "trained (latest in the catalog)"
        except Exception as error:  # nothing trained yet
            print(f"no trained transformer ({str(error).splitlines()[0]}); using random weights")
    try:
        vocabulary = catalog["transformer_tokenizer"].load()
    except Exception:  # nothing trained yet: the tokenizer from the parameters
        vocabulary = Vocabulary(build_tokenizer(params["data_engineering"]["tokenizer"]))
    torch.manual_seed(0)
    return build_model(vocabulary, params["transformer_model"]), vocabulary, "random weights"


def timed(run) -> tuple[tuple[float, float], object]:
    """((wall seconds, CPU seconds of this process, all threads), what ``run`` returned)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = run()
    return (time.perf_counter() - wall, time.process_time() - cpu), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="base")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--random-weights", action="store_true")
    args = parser.parse_args()
    logging.getLogger("kedro").setLevel(logging.WARNING)
    catalog, params = load_project(args.env)
    model, vocabulary, kind = model_and_vocabulary(catalog, params, args.random_weights)
    generation, settings = params["generation"], params["app"]
    settings = {**settings, "max_seconds": max(settings["max_seconds"], args.seconds)}
    values = preset_values(Studio(None, None, generation, settings, Path()), settings["default_preset"])
    preset = dict(zip(("temperature", "top_k", "top_p", "min_p"), values))
    seed = generation["seed"]
    print(f"model: {kind}, {model.num_parameters() / 1e6:.2f}M parameters, context {model.config.n_positions}; "
          f"{torch.get_num_threads()} threads; {args.seconds:g} s of music, preset {settings['default_preset']}, seed {seed}")

    request = [Request([], None, seed)]
    with tempfile.TemporaryDirectory() as folder:
        studio = Studio(model, vocabulary, generation, settings, Path(folder))
        bare_times, app_times = [], []
        for _ in range(args.repeats):  # interleaved, so load from other work on the machine hits both alike
            seconds, pieces = timed(lambda: sample(model, vocabulary, request, preset, Length(seconds=args.seconds), generation["sampler"]))
            bare_times.append(seconds)
            seconds, outputs = timed(lambda: generate_piece(studio, NO_COMPOSER, *values, seed, args.seconds, None))
            app_times.append(seconds)
    (bare, bare_cpu), (app, app_cpu) = min(bare_times), min(app_times)
    piece = pieces[0]
    print("all runs, wall s: sample() " + ", ".join(f"{t:.2f}" for t, _ in bare_times) + "; app " + ", ".join(f"{t:.2f}" for t, _ in app_times))
    print(f"sample():               {bare:6.2f} s wall, {bare_cpu:6.2f} s CPU  ({len(piece.tokens)} tokens, {piece.seconds:.1f} s of music, stopped at {piece.stop})")
    print(f"app generate request:   {app:6.2f} s wall, {app_cpu:6.2f} s CPU  ({outputs[0]})")
    print(f"ratio app / sample():   {app / bare:6.2f}x wall, {app_cpu / bare_cpu:.2f}x CPU (CPU time is steadier while other work shares the cores)")
    print(f"budget {BUDGET_SECONDS:.0f} s: {'within' if app < BUDGET_SECONDS else 'OVER'} ({app / BUDGET_SECONDS:.0%} of it)")


if __name__ == "__main__":
    main()
