"""Shared by the app's tests: a listening test on hand-made music, and the app served on 127.0.0.1."""

from __future__ import annotations

import random
import socket
from contextlib import contextmanager
from pathlib import Path

from symbolic_music.app.listening_tab import ListeningTest, excerpt_pool
from symbolic_music.datasets import JsonLinesDataset
from tests.conftest import make_score

GENERATED = ["unconditioned/balanced/sample_000", "unconditioned/balanced/sample_001", "unconditioned/creative/sample_000",
             "lstm/sample_000", "continuation/p1/continuation", "continuation/p1/prefix"]


def make_listening_test(folder: Path, params: dict) -> ListeningTest:
    """Three generated systems and two real pieces (one a continuation reference), short
    excerpts, a seeded draw, synthetic records in ``folder/ratings.jsonl``."""
    settings = {**params["app"]["listening"], "excerpt_seconds": 4}
    generated = {name: make_score(index) for index, name in enumerate(GENERATED)} | {"continuation/p1/reference": make_score(7)}
    pool = excerpt_pool(generated, {"test_piece": make_score(8)}, settings)
    return ListeningTest(pool, JsonLinesDataset(str(folder / "ratings.jsonl")), settings, params["generation"]["audio"],
                         folder / "audio", random.Random(0), synthetic=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def served(demo):
    """``demo`` launched on 127.0.0.1 at a free port, in this process; yields its URL."""
    demo.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True, quiet=True)
    try:
        yield demo.local_url
    finally:
        demo.close()
