"""Continue your own MIDI file (or start from nothing) with the latest trained transformer.

    python -m symbolic_music.generate --prompt my.mid --seconds 20 --preset balanced --out out.mid

Reads the latest ``transformer`` and ``transformer_tokenizer`` versions and the generation
presets from the project's catalog (``--env`` picks the environment). Generation slides over the
model's context window until ``--seconds`` of new music exist. The output holds the prompt
followed by the continuation, written atomically.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from symusic import Score

from symbolic_music.music.notes import merged_piano_score
from symbolic_music.music.tokens import (
    composer_header,
    decode_ids,
    encode_score,
    special_ids,
)
from symbolic_music.pipelines.generation.nodes import sample_tokens

log = logging.getLogger(__name__)


def continue_score(model, tokenizer, prompt: Score | None, seconds: float, preset: dict, seed: int, composer: str = "", max_rounds: int = 50) -> Score:
    """``prompt`` (or nothing) + at least ``seconds`` of generated music, as one score.

    Each round generates up to half the context window, conditioned on the latest tokens, and
    stops early at EOS or after ``max_rounds`` rounds.
    """
    ids = special_ids(tokenizer)
    header = [ids["bos"], *composer_header(tokenizer, composer)]
    prompt_ids = encode_score(tokenizer, merged_piano_score(prompt)) if prompt is not None else []
    prompt_end = decode_ids(tokenizer, prompt_ids).to("second").end() if prompt_ids else 0.0
    context = model.config.n_positions
    new_per_round = context // 2
    tokens = list(prompt_ids)
    for round_index in range(max_rounds):
        window = header + tokens[-(context - new_per_round - len(header)) :] if tokens else header
        new = sample_tokens(model, [window], preset, new_per_round, seed + round_index, ids["eos"], ids["pad"])[0]
        tokens += new
        length = decode_ids(tokenizer, tokens).to("second").end() - prompt_end
        log.info("round %d: %d tokens, %.1f s generated", round_index + 1, len(tokens) - len(prompt_ids), length)
        if length >= seconds or len(new) < new_per_round:  # enough music, or the model ended the piece
            break
    return decode_ids(tokenizer, tokens)


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompt", type=Path, help="MIDI file to continue (omit to start from nothing)")
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds of new music (default 20)")
    parser.add_argument("--preset", default="balanced", help="a preset from parameters_generation.yml")
    parser.add_argument("--composer", default="", help="composer name for models trained with composer tokens")
    parser.add_argument("--seed", type=int, default=None, help="default: generation.seed")
    parser.add_argument("--out", type=Path, required=True, help="output MIDI path")
    parser.add_argument("--env", default="base", help="Kedro environment whose catalog holds the model")
    parser.add_argument("--project", type=Path, default=Path.cwd(), help="project root (default: current folder)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    prompt = None
    if args.prompt is not None:
        try:
            prompt = Score(str(args.prompt))
        except Exception as error:  # symusic raises RuntimeError/ValueError on unreadable files
            return _fail(f"cannot read prompt MIDI '{args.prompt}': {error}")
        if prompt.note_num() == 0:
            return _fail(f"prompt MIDI '{args.prompt}' has no notes")

    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "1")
    try:
        bootstrap_project(args.project)
    except Exception as error:
        return _fail(f"'{args.project}' is not a symbolic-music project root ({error}); run from it or pass --project")
    with KedroSession.create(project_path=args.project, env=args.env) as session:
        context = session.load_context()
        catalog, params = context.catalog, context.params["generation"]
    try:
        model = catalog["transformer"].load()
        tokenizer = catalog["transformer_tokenizer"].load()
    except Exception as error:
        return _fail(f"no trained transformer in the '{args.env}' catalog ({error}). Run `kedro run --pipeline=transformer_model` first.")
    if args.preset not in params["presets"]:
        return _fail(f"unknown --preset {args.preset!r}; choose one of {sorted(params['presets'])}")
    if args.seconds <= 0:
        return _fail("--seconds must be positive")

    seed = params["seed"] if args.seed is None else args.seed
    score = continue_score(model, tokenizer, prompt, args.seconds, params["presets"][args.preset], seed, args.composer)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    partial = args.out.with_name(f".{args.out.name}.partial")
    score.dump_midi(str(partial))
    partial.replace(args.out)
    print(f"wrote {args.out}: {score.note_num()} notes, {score.to('second').end():.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
