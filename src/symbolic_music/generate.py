"""Continue your own MIDI file (or start from nothing) with the latest trained transformer.

    python -m symbolic_music.generate --prompt my.mid --seconds 20 --preset balanced --out out.mid

Reads the latest ``transformer`` and ``transformer_tokenizer`` versions and the ``generation``
parameters from the project's catalog (``--env`` picks the environment, as for ``kedro run``),
and samples with ``models.sampler``, the same function the generation pipeline uses: the same
prompt, preset, seed and length give the same notes. The output holds the prompt followed by
the new music, written atomically.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from symusic import Score

from symbolic_music.models.sampler import Length, Request, piece_score, sample
from symbolic_music.music.notes import merged_piano_score


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def read_prompt(path: Path | None) -> tuple[Score | None, str | None]:
    """The prompt as one piano track, or the reason it cannot be used (the CLI and the app)."""
    if path is None:
        return None, None
    try:
        prompt = Score(str(path))
    except Exception as error:  # symusic raises RuntimeError/ValueError on unreadable files
        return None, f"cannot read prompt MIDI '{path}': {error}"
    if prompt.note_num() == 0:
        return None, f"prompt MIDI '{path}' has no notes"
    return merged_piano_score(prompt), None


def load_project(project: Path, env: str | None):
    """(catalog, parameters) of the Kedro project at ``project``."""
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "1")
    bootstrap_project(project)
    with KedroSession.create(project_path=project, env=env) as session:
        context = session.load_context()
        return context.catalog, context.params


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompt", type=Path, help="MIDI file to continue (omit to start from nothing)")
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--seconds", type=float, default=None, help="seconds of new music (default: generation.seconds)")
    length.add_argument("--bars", type=int, default=None, help="bars of new music, instead of --seconds")
    parser.add_argument("--preset", default="balanced", help="a preset from parameters_generation.yml")
    parser.add_argument("--composer", default=None, help="composer name, for models trained with composer tokens")
    parser.add_argument("--seed", type=int, default=None, help="default: generation.seed")
    parser.add_argument("--out", type=Path, required=True, help="output MIDI path")
    parser.add_argument("--env", default=None, help="Kedro environment whose catalog holds the model (default: as kedro run)")
    parser.add_argument("--project", type=Path, default=Path.cwd(), help="project root (default: current folder)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")

    prompt, problem = read_prompt(args.prompt)
    if problem:
        return _fail(problem)
    try:
        catalog, params = load_project(args.project, args.env)
    except Exception as error:
        return _fail(f"'{args.project}' is not a symbolic-music project root ({error}); run from it or pass --project")
    params = params["generation"]
    try:
        model = catalog["transformer"].load()
        vocabulary = catalog["transformer_tokenizer"].load()
    except Exception as error:
        return _fail(f"no trained transformer in the catalog ({error}). Run `kedro run --pipeline=transformer_model` first.")
    if args.preset not in params["presets"]:
        return _fail(f"unknown --preset {args.preset!r}; choose one of {sorted(params['presets'])}")
    if args.composer and vocabulary.composers and args.composer not in vocabulary.composers:
        print(f"note: no token for composer {args.composer!r}; using 'other'. Known: {sorted(vocabulary.composers)}", file=sys.stderr)
    try:
        wanted = Length(bars=args.bars) if args.bars is not None else Length(seconds=args.seconds or params["seconds"])
    except ValueError as error:
        return _fail(f"--seconds/--bars: {error}")

    request = Request(vocabulary.encode(prompt) if prompt is not None else [], args.composer, params["seed"] if args.seed is None else args.seed)
    piece = sample(model, vocabulary, [request], params["presets"][args.preset], wanted, params["sampler"], progress="generate")[0]
    score = piece_score(vocabulary, piece)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    partial = args.out.with_name(f".{args.out.name}.partial")
    score.dump_midi(str(partial))
    partial.replace(args.out)
    print(f"wrote {args.out}: {score.note_num()} notes, {score.to('second').end():.1f} s ({piece.seconds:.1f} s new, stopped at {piece.stop})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
