"""Oracles through the path users take: ``kedro run`` on a tiny corpus with the catalog on disk,
then the MIDI the run wrote, read back from disk.

The corpus is built so that a model trained to memorize it has only one right answer:
- two composers, three train pieces each, every piece a different melody;
- the validation and test splits hold copies of train pieces under other names, so the best
  checkpoint on validation is the most memorized one, and Task 2 continues pieces it has seen.

A greedy model must then reproduce the pieces note for note. Garbage cannot pass: a token id
shifted by one decodes to other pitches or other times.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from symusic import Score

from tests.conftest import make_score, project_copy

COMPOSERS = {"Ada Composer": [0, 1, 2], "Ben Composer": [3, 4, 5]}  # composer -> seeds of its train pieces
COPIES = {"validation": [0, 3], "test": [1, 4]}  # split -> seeds of the train pieces it repeats
NOTES_PER_PIECE = 60  # about 12 bars: longer than the music requested, so no piece runs out
MIN_NOTES_COMPARED = 16  # an oracle that compares fewer notes than this proves little
SECONDS = 10  # music requested per piece: fewer seconds than any piece has after its prefix
GREEDY = {"temperature": 1.0, "top_k": 1, "top_p": 1.0}
OPENING_BEATS = 8  # two bars: enough to tell the pieces apart
LSTM_CONTEXT = 7  # notes; below 8 the LSTM's train stride (seq_length // 4) is 1, so every note is a target


def _write_corpus(root: Path) -> pd.DataFrame:
    """MAESTRO-layout corpus: ``<split>/piece_<seed>.midi`` files and ``metadata.csv``."""
    composer_of = {seed: name for name, seeds in COMPOSERS.items() for seed in seeds}
    placement = [("train", seed) for seed in composer_of] + [(split, seed) for split, seeds in COPIES.items() for seed in seeds]
    rows = []
    for split, seed in placement:
        midi_filename = f"{split}/piece_{seed}.midi"
        (root / split).mkdir(parents=True, exist_ok=True)
        make_score(seed, num_notes=NOTES_PER_PIECE).dump_midi(str(root / midi_filename))
        rows.append({"canonical_composer": composer_of[seed], "canonical_title": f"piece {seed}", "split": split,
                     "year": 2004, "midi_filename": midi_filename, "audio_filename": "", "duration": 0.0})
    metadata = pd.DataFrame(rows)
    metadata.to_csv(root / "metadata.csv", index=False)
    return metadata


def _oracle_params(params: dict, trainer_dir: Path) -> dict:
    """Parameters for a model that memorizes: no dropout, many epochs, no early stop."""
    p = copy.deepcopy(params)
    t = p["transformer_model"]
    t.update(max_length=512, stride=510, trainer_dir=str(trainer_dir), early_stopping_patience=1000)
    t["composer_tokens"].update(enabled=True, top_k=5)
    t["bpe"]["enabled"] = False
    t["augmentation"]["enabled"] = False
    t["model"].update(n_positions=512, n_layer=2, n_embd=64, n_head=2, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
    t["training"].update(num_train_epochs=60, per_device_train_batch_size=1, learning_rate=3e-3, warmup_steps=10,
                         weight_decay=0.0, logging_steps=50, save_total_limit=1)
    lstm = p["lstm_model"]
    lstm.update(seq_length=LSTM_CONTEXT, epochs=150, patience=1000, learning_rate=1e-2, batch_size=16, logging_steps=100)
    lstm["model"].update(embedding_dim=32, hidden_size=128, num_layers=1, dropout=0.0)
    lstm["loss_weights"]["coherence"] = 0.0
    g = p["generation"]
    g["presets"]["greedy"] = GREEDY
    g.update(composer_preset="greedy", continuation_preset="greedy", num_samples=1, seconds=SECONDS)
    g["continuation"].update(num_pieces=2, prefix_bars=3)
    # the LSTM sampled greedily (a vanishing temperature makes its softmax one-hot), constraints off
    g["lstm"]["temperature"] = 1e-6
    g["lstm"]["constraints"] = {"pitch_range": None, "max_interval": None, "repetition_penalty": 1.0, "repetition_window": 8}
    return p


def _kedro_env() -> dict:
    return {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "PYTHONUNBUFFERED": "1"}


@pytest.fixture(scope="module")
def oracle_run(tmp_path_factory, params):
    """A project copy, its tiny corpus, and one ``kedro run`` of every pipeline."""
    tmp = tmp_path_factory.mktemp("oracle")
    project = project_copy(tmp, _oracle_params(params, tmp / "trainer"))
    raw = project / "data" / "01_raw" / "oracle"
    metadata = _write_corpus(raw)
    catalog = {
        "raw_metadata": {"type": "pandas.CSVDataset", "filepath": str(raw / "metadata.csv"), "load_args": {"keep_default_na": False}},
        "raw_midi": {"type": "partitions.PartitionedDataset", "path": str(raw), "dataset": "symbolic_music.datasets.MidiDataset",
                     "filename_suffix": ".midi"},
    }
    (project / "conf" / "local" / "catalog.yml").write_text(yaml.safe_dump(catalog))
    result = subprocess.run([sys.executable, "-m", "kedro", "run"], cwd=project, env=_kedro_env(), capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    return project, raw, metadata


def _latest(folder: Path) -> Path:
    """The newest version folder's content of a versioned dataset ``folder``."""
    version = sorted(p for p in folder.iterdir() if not p.name.startswith("."))[-1]
    return version / folder.name


def _generated(project: Path) -> Path:
    return _latest(project / "data" / "07_model_output" / "generated_midi")


def _notes(score: Score) -> list[tuple[float, int, float]]:
    """(onset, pitch, duration) of every note in onset then pitch order; times in beats, which
    the tokenizer keeps exactly for these on-grid pieces (it quantizes the tempo, so seconds move)."""
    beat = score.ticks_per_quarter
    return sorted((round(n.time / beat, 4), n.pitch, round(n.duration / beat, 4)) for t in score.tracks for n in t.notes)


def _window(notes: list, end: float) -> list:
    return [n for n in notes if n[0] < end]


def _assert_reproduces(generated: Score, source: Score, label: str) -> None:
    """Every generated note that starts before the last generated onset, and before the source
    piece's end, is the source's note at that time; and there are such notes."""
    ours, theirs = _notes(generated), _notes(source)
    assert ours, f"{label}: no notes"
    end = min(ours[-1][0], theirs[-1][0])
    assert len(_window(theirs, end)) >= MIN_NOTES_COMPARED, f"{label}: only {len(_window(theirs, end))} notes to compare"
    assert _window(ours, end) == _window(theirs, end), f"{label}: differs from the memorized piece"


def test_greedy_continuation_reproduces_the_memorized_piece(oracle_run):
    project, raw, metadata = oracle_run
    tests = metadata[metadata["split"] == "test"]
    for row in tests.itertuples():
        folder = _generated(project) / "continuation" / str(Path(row.midi_filename).with_suffix("")).replace("/", "__")
        full = Score(str(folder / "full.mid"))
        prefix = Score(str(folder / "prefix.mid"))
        assert len(_notes(full)) > len(_notes(prefix)) + 4, f"{row.midi_filename}: nothing continued"
        _assert_reproduces(full, Score(str(raw / row.midi_filename)), f"continuation of {row.midi_filename}")


def test_a_composer_prompt_yields_that_composers_piece(oracle_run):
    project, raw, metadata = oracle_run
    train = metadata[metadata["split"] == "train"]
    composer_folders = {p.name: p for p in (_generated(project) / "composer").iterdir()}
    for composer in COMPOSERS:
        folder = composer_folders[composer.replace(" ", "-")]
        sample = Score(str(next(folder.rglob("sample_000.mid"))))
        own = [Score(str(raw / f)) for f in train.loc[train["canonical_composer"] == composer, "midi_filename"]]
        others = [Score(str(raw / f)) for f in train.loc[train["canonical_composer"] != composer, "midi_filename"]]
        first_bars = _window(_notes(sample), OPENING_BEATS)
        assert first_bars in [_window(_notes(s), OPENING_BEATS) for s in own], f"{composer}: the sample opens like none of its pieces"
        assert first_bars not in [_window(_notes(s), OPENING_BEATS) for s in others]
        matches = [s for s in own if _window(_notes(s), OPENING_BEATS) == first_bars]
        _assert_reproduces(sample, matches[0], f"{composer} sample")


def test_greedy_lstm_reproduces_a_memorized_pitch_sequence(oracle_run):
    project, raw, metadata = oracle_run
    tests = metadata[metadata["split"] == "test"]
    for row in tests.itertuples():
        folder = _generated(project) / "lstm_continuation" / str(Path(row.midi_filename).with_suffix("")).replace("/", "__")
        continuation = [p for _, p, _ in _notes(Score(str(folder / "continuation.mid")))]
        expected = [p for _, p, _ in _notes(Score(str(raw / row.midi_filename)))][LSTM_CONTEXT:]
        compared = min(len(continuation), len(expected))
        assert compared >= MIN_NOTES_COMPARED
        assert continuation[:compared] == expected[:compared], f"LSTM continuation of {row.midi_filename}"


def test_the_cli_gives_the_pipelines_notes(oracle_run, tmp_path):
    project, raw, metadata = oracle_run
    manifest = json.loads(_latest(project / "data" / "07_model_output" / "generation_manifest.json").read_text())
    row = metadata[metadata["split"] == "test"].iloc[0]
    folder = _generated(project) / "continuation" / str(Path(row["midi_filename"]).with_suffix("")).replace("/", "__")
    entry = manifest["files"][f"continuation/{folder.name}/continuation"]
    out = tmp_path / "cli.mid"
    command = [sys.executable, "-m", "symbolic_music.generate", "--prompt", str(folder / "prefix.mid"), "--composer", row["canonical_composer"],
               "--preset", "greedy", "--seed", str(entry["seed"]), "--seconds", str(SECONDS), "--out", str(out), "--project", str(project)]
    result = subprocess.run(command, cwd=project, env=_kedro_env(), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    pipeline, cli = _notes(Score(str(folder / "full.mid"))), _notes(Score(str(out)))
    end = min(pipeline[-1][0], cli[-1][0])
    assert len(_window(pipeline, end)) > len(_notes(Score(str(folder / "prefix.mid")))) + 4
    assert _window(cli, end) == _window(pipeline, end)


def _manifest(project: Path) -> dict:
    return json.loads(_latest(project / "data" / "07_model_output" / "generation_manifest.json").read_text())


def test_reproduce_gives_the_pipelines_notes(oracle_run, tmp_path):
    project, _, _ = oracle_run
    generated = _generated(project)
    for path in [next((generated / "composer").rglob("sample_000.mid")), next((generated / "continuation").rglob("full.mid"))]:
        out = tmp_path / f"again_{path.parent.name}.mid"
        command = [sys.executable, "-m", "symbolic_music.generate", "--reproduce", str(path), "--out", str(out), "--project", str(project)]
        result = subprocess.run(command, cwd=project, env=_kedro_env(), capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr[-3000:]
        assert _notes(Score(str(out))) == _notes(Score(str(path))), path


def test_a_memorizing_model_is_flagged_as_copying(oracle_run):
    project, _, _ = oracle_run
    manifest = _manifest(project)
    # the transformer's pieces of a real composer and its continuations (the LSTM's timing is a regression, never verbatim)
    memorized = [name for name in manifest["files"] if name.startswith(("composer/Ada", "composer/Ben"))
                 or (name.startswith("continuation/") and name.endswith("/continuation"))]
    assert len(memorized) == 4
    assert memorized and all(manifest["files"][name]["copying"]["copied"] for name in memorized), manifest["copying"]
    assert all(manifest["files"][name]["copying"]["copied_from"]["piece_id"].startswith("train/") for name in memorized)
