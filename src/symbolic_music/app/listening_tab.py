"""The Listening test tab: blind pairs of excerpts, and the judgements appended to the ratings file.

A pair is a real excerpt against a generated one (share ``app.listening.real_pair_share``) or
two excerpts of different generated systems, in random order. The listener hears "A" and "B"
only: systems and pieces stay in the server-side session state, audio files are named by
random keys, and the systems are written to the ratings file alone, with the judgement.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from symusic import Score

from symbolic_music.music.audio import find_soundfont, score_audio
from symbolic_music.music.notes import first_seconds
from symbolic_music.music.systems import is_real, system_of

REAL_SYSTEM = "real/test"
RATINGS = (1, 2, 3, 4, 5)
NO_MUSIC = ("**Nothing to listen to yet.** The listening test needs the latest `generated_midi` and real test pieces "
            "(`test_tokens`). Run `make run` (or `kedro run`), then start the app again.")


@dataclass
class Excerpt:
    """The first seconds of one file: ``key`` is random and names its audio file, so nothing
    that reaches the browser tells its ``system``."""

    key: str
    system: str
    piece: str
    score: Score


@dataclass
class ListeningTest:
    """What the tab works with: the excerpts, the ratings dataset (anything with
    ``save(list[dict])``, e.g. ``JsonLinesDataset``), ``app.listening`` and ``generation.audio``
    settings, the folder audio is rendered into, and the random generator of pair draws.
    ``synthetic`` marks every record written (tests)."""

    pool: list[Excerpt]
    ratings: Any
    settings: dict
    audio: dict
    audio_dir: Path
    rng: random.Random = field(default_factory=random.Random)
    synthetic: bool = False
    problem: str | None = None

    def __post_init__(self) -> None:
        self.by_key = {excerpt.key: excerpt for excerpt in self.pool}
        if not self.problem and not _can_pair(self.pool):
            self.problem = NO_MUSIC


def excerpt_pool(generated: dict[str, Score], real: dict[str, Score], settings: dict) -> list[Excerpt]:
    """Excerpts of ``settings["excerpt_seconds"]`` from generated files (system by
    ``systems.system_of``, less ``exclude_systems``) and from real pieces (system ``real/test``).
    Files without notes in that span are left out."""
    excluded = set(settings["exclude_systems"])
    named = [(system_of(name), name, score) for name, score in sorted(generated.items()) if system_of(name) not in excluded]
    named += [(REAL_SYSTEM, name, score) for name, score in sorted(real.items())]
    pool = []
    for system, name, score in named:
        part = first_seconds(score, settings["excerpt_seconds"])
        if part.note_num():
            pool.append(Excerpt(uuid.uuid4().hex, system, name, part))
    return pool


def _can_pair(pool: list[Excerpt]) -> bool:
    generated = {e.system for e in pool if not is_real(e.system)}
    return bool(generated) and (len(generated) > 1 or any(is_real(e.system) for e in pool))


def draw_pair(test: ListeningTest) -> tuple[Excerpt, Excerpt, str]:
    """(A, B, kind): real against generated, or two generated systems; each generated system
    is equally likely, whatever its number of files."""
    rng = test.rng
    real = [e for e in test.pool if is_real(e.system)]
    systems = sorted({e.system for e in test.pool if not is_real(e.system)})

    def from_system(system: str) -> Excerpt:
        return rng.choice([e for e in test.pool if e.system == system])

    if real and (len(systems) < 2 or rng.random() < test.settings["real_pair_share"]):
        pair, kind = [rng.choice(real), from_system(rng.choice(systems))], "real_vs_generated"
    else:
        pair, kind = [from_system(system) for system in rng.sample(systems, 2)], "generated_vs_generated"
    rng.shuffle(pair)
    return pair[0], pair[1], kind


def excerpt_audio(test: ListeningTest, excerpt: Excerpt) -> str:
    """The excerpt's audio file, rendered on first use (written atomically: sessions share it)."""
    path = test.audio_dir / f"{excerpt.key}.{test.audio['format']}"
    if not path.exists():
        test.audio_dir.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{uuid.uuid4().hex}.partial")
        partial.write_bytes(score_audio(excerpt.score, find_soundfont(test.audio["soundfont"]), test.audio))
        partial.replace(path)
    return str(path)


def next_pair(test: ListeningTest, state: dict | None, message: str = "") -> tuple:
    """A new pair: ``(status, audio A, audio B, preference, rating A, rating B, state)`` with the
    choices cleared; the state keeps the listener's id, the pair number and the excerpts' keys."""
    if test.problem:
        return test.problem, None, None, None, None, None, state
    state = dict(state or {"listener": uuid.uuid4().hex[:12], "pairs": 0, "submitted": 0})
    first, second, kind = draw_pair(test)
    state.update(pairs=state["pairs"] + 1, a=first.key, b=second.key, kind=kind)
    status = f"{message} Pair {state['pairs']}: listen to A and B, then choose.".strip()
    return status, excerpt_audio(test, first), excerpt_audio(test, second), None, None, None, state


def submit_rating(test: ListeningTest, preferred: str | None, rating_a: int | None, rating_b: int | None, state: dict | None) -> tuple:
    """Append the judgement of the current pair to the ratings file, then draw the next pair.
    ``preferred`` is ``"A"``, ``"B"`` or ``None``; ratings are 1–5 or ``None``; at least one of
    the three is needed."""
    if test.problem:
        return next_pair(test, state)
    if not state or "a" not in state:
        return "Press **New pair** first.", None, None, None, None, None, state
    ratings = {side: _rating(value) for side, value in (("a", rating_a), ("b", rating_b))}
    choice = {"A": "a", "B": "b"}.get(str(preferred).strip().upper()) if preferred else None
    if choice is None and not any(ratings.values()):
        message = "Pick the more musical excerpt (A or B), or rate each from 1 to 5, then submit."
        return message, excerpt_audio(test, test.by_key[state["a"]]), excerpt_audio(test, test.by_key[state["b"]]), preferred, rating_a, rating_b, state
    excerpts = {side: test.by_key[state[side]] for side in ("a", "b")}
    test.ratings.save([{
        "time": datetime.now(timezone.utc).isoformat(timespec="seconds"), "listener": state["listener"], "pair": state["pairs"],
        "kind": state["kind"], **{side: {"system": e.system, "piece": e.piece} for side, e in excerpts.items()},
        "preferred": choice, "rating_a": ratings["a"], "rating_b": ratings["b"],
        "excerpt_seconds": test.settings["excerpt_seconds"], "synthetic": test.synthetic,
    }])
    state = {key: value for key, value in state.items() if key not in ("a", "b", "kind")} | {"submitted": state["submitted"] + 1}
    return next_pair(test, state, f"Saved: {state['submitted']} judgement(s) from you so far, thank you.")


def _rating(value) -> int | None:
    """A 1–5 rating, or ``None`` for no rating or anything else."""
    try:
        rating = int(value)
    except (TypeError, ValueError):
        return None
    return rating if rating in RATINGS else None
