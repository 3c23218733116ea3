"""The Generate tab's callbacks: plain functions of a ``Studio`` and the widgets' values.

Each returns ``(message, piano-roll PNG path, audio path, MIDI path, last piece)``; the last
piece (its tokens and composer) lives in the session's ``gr.State`` so that Continue extends
it. A request that cannot be served returns a message, no files, and the last piece unchanged.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from symusic import Score

from symbolic_music.generate import Refusal, read_prompt
from symbolic_music.models.sampler import PRESET_KEYS, Length, Request, piece_score, sample, validate_preset
from symbolic_music.music.audio import find_soundfont, score_audio
from symbolic_music.music.plots import piano_roll_png
from symbolic_music.music.vocabulary import Vocabulary

NO_COMPOSER = "(none)"
NO_MODEL = ("**No trained model yet.** The catalog has no `transformer` to load ({error}). Run `make run`, or "
            "`kedro run --pipeline=data_engineering,transformer_model`, then start the app again.")


@dataclass
class Studio:
    """What the Generate tab works with: the model and its vocabulary (``None`` when there is no
    trained model; ``problem`` then says which command makes one), the ``generation`` and ``app``
    parameters, and the folder each request's files are written to."""

    model: Any | None
    vocabulary: Vocabulary | None
    generation: dict
    settings: dict
    out_dir: Path
    problem: str | None = None


def composer_choices(studio: Studio) -> list[str]:
    """The composer dropdown: no composer, then the vocabulary's composer tokens."""
    return [NO_COMPOSER, *(studio.vocabulary.composers if studio.vocabulary else [])]


def preset_values(studio: Studio, name: str) -> tuple[float, int, float, float]:
    """A preset's (temperature, top_k, top_p, min_p), to set the sliders."""
    preset = studio.generation["presets"][name]
    return preset["temperature"], preset["top_k"], preset["top_p"], preset.get("min_p", 0.0)


def read_upload(path: str | Path, settings: dict) -> tuple[Score | None, str | None]:
    """An uploaded MIDI prompt as one piano track, or why it is refused: larger than
    ``app.max_upload_bytes``, not MIDI, without notes, or longer than ``app.max_prompt_seconds``."""
    size = Path(path).stat().st_size
    if size > settings["max_upload_bytes"]:
        return None, f"The uploaded file has {size:,} bytes; the limit is {settings['max_upload_bytes']:,} (app.max_upload_bytes)."
    try:
        score = read_prompt(Path(path))
    except Refusal as problem:
        return None, f"The upload was refused: {problem}."
    seconds = score.to("second").end()
    if seconds > settings["max_prompt_seconds"]:
        return None, (f"The uploaded MIDI lasts {seconds:.0f} s; a prompt may last {settings['max_prompt_seconds']} s at most "
                      "(app.max_prompt_seconds). Upload a shorter excerpt.")
    return score, None


def generate_piece(studio: Studio, composer: str | None, temperature: float, top_k: int, top_p: float, min_p: float, seed: int,
                   seconds: float, upload: str | None, last: dict | None = None) -> tuple:
    """Sample ``seconds`` of music for ``composer`` (``NO_COMPOSER`` or ``None``: none), from
    nothing or continuing the uploaded MIDI file, with these sampler settings and seed."""
    if studio.problem:
        return _refuse(studio.problem, last)
    prompt: list[int] = []
    if upload:
        score, problem = read_upload(upload, studio.settings)
        if problem:
            return _refuse(problem, last)
        prompt = studio.vocabulary.encode(score)
    if composer not in (None, "", *composer_choices(studio)):
        return _refuse(f"Unknown composer {composer!r}; choose one of {composer_choices(studio)}.", last)
    composer = None if composer in (None, "", NO_COMPOSER) else composer
    return _sample(studio, Request(prompt, composer, _seed(studio, seed)), (temperature, top_k, top_p, min_p), seconds, last)


def continue_piece(studio: Studio, last: dict | None, temperature: float, top_k: int, top_p: float, min_p: float, seed: int,
                   seconds: float) -> tuple:
    """Extend the last piece of this session by ``seconds``; the output holds all of it."""
    if studio.problem:
        return _refuse(studio.problem, last)
    if not last:
        return _refuse("Nothing to continue yet: press Generate first.", last)
    return _sample(studio, Request(list(last["tokens"]), last["composer"], _seed(studio, seed)), (temperature, top_k, top_p, min_p), seconds, last)


def _seed(studio: Studio, seed: float | None) -> int:
    """The seed box's value, or ``generation.seed`` when it is empty."""
    return studio.generation["seed"] if seed is None else int(seed)


def _refuse(message: str, last: dict | None) -> tuple:
    return message, None, None, None, last


def _sample(studio: Studio, request: Request, values: tuple, seconds: float, last: dict | None) -> tuple:
    """Sample one piece and write its MIDI, piano roll and audio into a folder of its own."""
    preset = dict(zip(PRESET_KEYS, (float(values[0]), int(values[1]), float(values[2]), float(values[3] or 0.0))))
    try:
        validate_preset("(app)", preset)
        length = Length(seconds=float(seconds))
    except ValueError as error:
        return _refuse(f"Settings refused: {error}.", last)
    if length.seconds > studio.settings["max_seconds"]:
        return _refuse(f"At most {studio.settings['max_seconds']} s per request (app.max_seconds); asked for {length.seconds:g}.", last)
    piece = sample(studio.model, studio.vocabulary, [request], preset, length, studio.generation["sampler"])[0]
    score = piece_score(studio.vocabulary, piece, "full")
    folder = studio.out_dir / uuid.uuid4().hex[:12]
    folder.mkdir(parents=True)
    midi, roll = folder / f"generated_seed{request.seed}.mid", folder / "piano_roll.png"
    score.dump_midi(str(midi))
    roll.write_bytes(piano_roll_png(score))
    audio_settings = studio.generation["audio"]
    audio = folder / f"generated_seed{request.seed}.{audio_settings['format']}"
    audio.write_bytes(score_audio(score, find_soundfont(audio_settings["soundfont"]), audio_settings))
    prompt = f"{piece.prompt_tokens} prompt tokens, " if piece.prompt_tokens else ""
    message = (f"{score.note_num()} notes, {score.to('second').end():.1f} s in all ({prompt}{piece.seconds:.1f} s new music; "
               f"stopped at {piece.stop}). Composer: {request.composer or 'none'}, seed {request.seed}.")
    return message, str(roll), str(audio), str(midi), {"tokens": piece.tokens, "composer": request.composer}
