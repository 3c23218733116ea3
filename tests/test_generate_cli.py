"""``python -m symbolic_music.generate``: clear errors for bad input. That it gives the pipeline's
notes is an oracle in ``tests/test_oracles.py``."""

from __future__ import annotations

from symbolic_music.generate import main
from tests.conftest import PROJECT_ROOT, project_copy


def test_unreadable_prompt_is_a_clear_error(tmp_path, capsys):
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"not midi")
    assert main(["--prompt", str(bad), "--out", str(tmp_path / "o.mid"), "--project", str(PROJECT_ROOT)]) == 2
    assert f"cannot read prompt MIDI '{bad}'" in capsys.readouterr().err
    assert not (tmp_path / "o.mid").exists()


def test_missing_checkpoint_is_a_clear_error(tmp_path, params, capsys):
    project = project_copy(tmp_path, params)
    assert main(["--out", str(tmp_path / "o.mid"), "--project", str(project)]) == 2
    assert "no trained 'transformer'" in capsys.readouterr().err


def test_a_prompt_without_notes_is_a_clear_error(tmp_path, capsys):
    from symusic import Score

    empty = tmp_path / "empty.mid"
    Score(480).dump_midi(str(empty))
    assert main(["--prompt", str(empty), "--out", str(tmp_path / "o.mid"), "--project", str(PROJECT_ROOT)]) == 2
    assert "has no notes" in capsys.readouterr().err
