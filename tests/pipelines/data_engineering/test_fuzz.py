"""Fuzz the MIDI preprocessing node: random bytes and truncated real files never crash it."""

from __future__ import annotations

import pandas as pd
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from symusic import Score

from symbolic_music.music.vocabulary import Vocabulary
from symbolic_music.music.tokens import build_tokenizer
from symbolic_music.pipelines.data_engineering.nodes import preprocess_pieces
from tests.conftest import PROJECT_ROOT, make_score

REAL = make_score(0).dumps_midi()
SETTINGS = {"tracks": "merge", "num_workers": 1}
TOKENIZER = Vocabulary(build_tokenizer(yaml.safe_load((PROJECT_ROOT / "conf/base/parameters_data_engineering.yml").read_text())["data_engineering"]["tokenizer"]))
PIECES = pd.DataFrame({"piece_id": ["good", "bad"], "composer": ["A", "B"], "title": ["g", "b"],
                       "split": ["train", "test"], "year": [2004, 2004], "midi_filename": ["good.midi", "bad.midi"]})


def _check(data: bytes) -> None:
    loaders = {"good": lambda: Score.from_midi(REAL), "bad": lambda: Score.from_midi(data)}
    pieces, report, tokens, notes = preprocess_pieces(PIECES, loaders, TOKENIZER, SETTINGS)
    assert "good" in tokens  # the good piece is never lost
    assert report["pieces_loaded"] + report["pieces_skipped"] == 2
    if "bad" not in tokens:
        assert report["skipped"][0]["midi_filename"] == "bad.midi" and report["skipped"][0]["reason"]
    else:
        assert len(notes["bad"]) > 0 and len(tokens["bad"]) > 0


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2048))
def test_random_bytes_are_reported_not_fatal(data):
    _check(data)


@settings(max_examples=100, deadline=None)
@given(st.integers(0, len(REAL)))
def test_truncated_real_files_are_reported_not_fatal(cut):
    _check(REAL[:cut])


@settings(max_examples=100, deadline=None)
@given(st.integers(14, len(REAL) - 1), st.binary(min_size=1, max_size=16))
def test_corrupted_real_files_are_reported_not_fatal(position, noise):
    _check(REAL[:position] + noise + REAL[position + len(noise):])
