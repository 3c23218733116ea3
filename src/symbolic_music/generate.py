"""Continue your own MIDI file (or start from nothing) with the latest trained transformer.

    python -m symbolic_music.generate --prompt my.mid --seconds 20 --preset balanced --out out.mid
    python -m symbolic_music.generate --reproduce data/07_model_output/generated_midi/.../sample_000.mid --out again.mid

Reads the ``transformer`` and ``transformer_tokenizer`` and the ``generation`` parameters from
the project's catalog (``--env`` picks the environment, as for ``kedro run``), and samples with
``models.sampler``, the same function the generation pipeline uses: the same prompt, preset,
seed and length give the same notes. ``--reproduce`` reads a generated file's provenance (a
MIDI marker, ``models.provenance``), finds the checkpoint and vocabulary versions with the
recorded content hashes, rebuilds the prompt and samples again. The output holds the prompt
followed by the new music, with its own provenance, written atomically.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from kedro.io.core import Version
from symusic import Score

from symbolic_music import __version__
from symbolic_music.models.provenance import checkpoint_hash, file_hash, read_stamp, stamp, vocabulary_hash
from symbolic_music.models.sampler import Length, Request, piece_score, sample
from symbolic_music.music.notes import merged_piano_score
from symbolic_music.music.prompts import prompt_bars


class Refusal(Exception):
    """A reason to stop with a one-line error and status 2."""


def read_prompt(path: Path | None) -> Score | None:
    """The prompt as one piano track (the CLI and the app); ``Refusal`` when it cannot be used."""
    if path is None:
        return None
    try:
        prompt = Score(str(path))
    except Exception as error:  # symusic raises RuntimeError/ValueError on unreadable files
        raise Refusal(f"cannot read prompt MIDI '{path}': {error}") from None
    if prompt.note_num() == 0:
        raise Refusal(f"prompt MIDI '{path}' has no notes")
    return merged_piano_score(prompt)


def load_project(project: Path, env: str | None):
    """(catalog, parameters) of the Kedro project at ``project``."""
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "1")
    bootstrap_project(project)
    with KedroSession.create(project_path=project, env=env) as session:
        context = session.load_context()
        return context.catalog, context.params


def load_version(catalog, name: str, content_hash: str | None, hash_of):
    """The newest version of catalog entry ``name`` (whose content hash is ``content_hash``,
    when one is given); ``Refusal`` naming what is missing."""
    dataset = catalog[name]
    folder = Path(str(dataset._filepath))
    versions = sorted((p.name for p in folder.iterdir() if not p.name.startswith(".")), reverse=True) if folder.is_dir() else []
    for version in versions:
        loaded = type(dataset)(filepath=str(folder), version=Version(version, None)).load()
        if content_hash is None or hash_of(loaded) == content_hash:
            return loaded
    wanted = f" with content hash {content_hash[:12]}…" if content_hash else ""
    raise Refusal(f"no trained '{name}'{wanted} in the catalog ({folder}). Run `kedro run --pipeline=transformer_model` first.")


def reproduce_request(record: dict, catalog, vocabulary) -> Request:
    """The request a provenance record describes: its prompt rebuilt exactly."""
    prompt = record.get("prompt")
    if prompt is None:
        ids = []
    elif "file" in prompt:
        path = Path(prompt["file"])
        if not path.is_file() or file_hash(path.read_bytes()) != prompt["sha256"]:
            raise Refusal(f"the prompt file '{path}' is missing or changed since the piece was made (sha256 differs)")
        ids = vocabulary.encode(read_prompt(path))
    else:
        tokenizer = load_version(catalog, "tokenizer", prompt["tokenizer"], vocabulary_hash)
        test_tokens = load_version(catalog, "test_tokens", None, None)
        if prompt["piece_id"] not in test_tokens:
            raise Refusal(f"test piece {prompt['piece_id']!r} is not in the latest test_tokens")
        strings = tokenizer.base_tokens(test_tokens[prompt["piece_id"]])
        ids = vocabulary.from_base_tokens(prompt_bars(vocabulary, strings, prompt["bar"], prompt["bars"]))
    return Request(ids, record["composer"], record["seed"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompt", type=Path, help="MIDI file to continue (omit to start from nothing)")
    parser.add_argument("--reproduce", type=Path, help="a MIDI file this project generated: make it again from its provenance")
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
    try:
        score, summary = run(args)
    except Refusal as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    partial = args.out.with_name(f".{args.out.name}.partial")
    score.dump_midi(str(partial))
    partial.replace(args.out)
    print(f"wrote {args.out}: {score.note_num()} notes, {score.to('second').end():.1f} s ({summary})")
    return 0


def run(args) -> tuple[Score, str]:
    """Sample what ``args`` ask for; ``Refusal`` for anything that cannot work."""
    record = None
    if args.reproduce is not None:
        try:
            record = read_stamp(Score(str(args.reproduce)))
        except Exception as error:  # symusic raises RuntimeError/ValueError on unreadable files
            raise Refusal(f"cannot read '{args.reproduce}': {error}") from None
        if record is None or record.get("generator") != "transformer":
            raise Refusal(f"'{args.reproduce}' carries no transformer provenance: only pieces this project's transformer made can be reproduced")
    prompt = read_prompt(args.prompt)
    try:
        catalog, params = load_project(args.project, args.env)
    except Exception as error:
        raise Refusal(f"'{args.project}' is not a symbolic-music project root ({error}); run from it or pass --project") from None
    params = params["generation"]
    try:
        model = load_version(catalog, "transformer", record and record["checkpoint"], checkpoint_hash)
        vocabulary = load_version(catalog, "transformer_tokenizer", record and record["vocabulary"], vocabulary_hash)
    except Refusal:
        raise
    except Exception as error:
        raise Refusal(f"no trained transformer in the catalog ({error}). Run `kedro run --pipeline=transformer_model` first.") from None
    if record is not None:
        request, preset, sampler = reproduce_request(record, catalog, vocabulary), record["settings"], record["sampler"]
        wanted = Length(**record["length"])
    else:
        if args.preset not in params["presets"]:
            raise Refusal(f"unknown --preset {args.preset!r}; choose one of {sorted(params['presets'])}")
        if args.composer and vocabulary.composers and args.composer not in vocabulary.composers:
            print(f"note: no token for composer {args.composer!r}; using 'other'. Known: {sorted(vocabulary.composers)}", file=sys.stderr)
        try:
            wanted = Length(bars=args.bars) if args.bars is not None else Length(seconds=args.seconds or params["seconds"])
        except ValueError as error:
            raise Refusal(f"--seconds/--bars: {error}") from None
        request = Request(vocabulary.encode(prompt) if prompt is not None else [], args.composer, params["seed"] if args.seed is None else args.seed)
        preset, sampler = params["presets"][args.preset], params["sampler"]
        record = {"generator": "transformer", "checkpoint": checkpoint_hash(model), "vocabulary": vocabulary_hash(vocabulary),
                  "seed": request.seed, "preset": args.preset, "settings": preset, "sampler": sampler,
                  "length": {"seconds": wanted.seconds} if wanted.seconds else {"bars": wanted.bars}, "composer": args.composer,
                  "prompt": {"file": str(args.prompt.resolve()), "sha256": file_hash(args.prompt.read_bytes())} if args.prompt else None,
                  "version": __version__}
    piece = sample(model, vocabulary, [request], preset, wanted, sampler, progress="generate")[0]
    score = stamp(piece_score(vocabulary, piece), {**record, "part": "full"})
    return score, f"{piece.seconds:.1f} s new, stopped at {piece.stop}; provenance {json.dumps(record['prompt']) if record['prompt'] else 'no prompt'}"


if __name__ == "__main__":
    sys.exit(main())
