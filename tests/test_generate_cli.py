"""``python -m symbolic_music.generate``: continuing a prompt, and clear errors for bad input."""

from __future__ import annotations

from collections import Counter

import torch

from symbolic_music.generate import continue_score, main
from symbolic_music.pipelines.transformer_model.nodes import build_model
from tests.conftest import PROJECT_ROOT, make_score, project_copy


def _notes(score):
    return sorted((n.time, n.pitch, n.duration) for n in score.tracks[0].notes)


def test_continue_score_keeps_the_prompt_and_adds_music(engineered, params):
    tokenizer = engineered["tokenizer"]
    torch.manual_seed(0)
    model = build_model(tokenizer, params["transformer_model"])
    prompt = make_score(5, num_notes=6)
    preset = params["generation"]["presets"]["creative"]
    out = continue_score(model, tokenizer, prompt, seconds=2.0, preset=preset, seed=1, max_rounds=3)
    prompt_notes = _notes(tokenizer.decode([tokenizer.encode(prompt)[0].ids]))
    # every prompt note is in the output (an untrained model may add notes inside the last bar)
    assert not Counter(prompt_notes) - Counter(_notes(out))
    assert out.note_num() > len(prompt_notes)
    again = continue_score(model, tokenizer, prompt, seconds=2.0, preset=preset, seed=1, max_rounds=3)
    assert _notes(again) == _notes(out)


def test_unreadable_prompt_is_a_clear_error(tmp_path, capsys):
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"not midi")
    assert main(["--prompt", str(bad), "--out", str(tmp_path / "o.mid"), "--project", str(PROJECT_ROOT)]) == 2
    assert f"cannot read prompt MIDI '{bad}'" in capsys.readouterr().err
    assert not (tmp_path / "o.mid").exists()


def test_missing_checkpoint_is_a_clear_error(tmp_path, params, capsys):
    project = project_copy(tmp_path, params)
    assert main(["--out", str(tmp_path / "o.mid"), "--project", str(project)]) == 2
    assert "no trained transformer" in capsys.readouterr().err
