"""generation: parameter checks, the whole pipeline, pieces of a requested length that stay music
past the model's context, continuations and composer sets."""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import asdict

import numpy as np
import pytest
import torch
from kedro.io import DataCatalog, MemoryDataset

from symbolic_music.models.lstm import LSTMConfig, NoteLSTM
from symbolic_music.models.sampler import Length, Request, sample, validate_generation_params
from symbolic_music.pipelines import generation
from symbolic_music.music.audio import validate_audio_settings
from symbolic_music.pipelines.generation.audio import render_audio
from symbolic_music.pipelines.generation.nodes import continue_pieces, generate_pieces
from tests.conftest import run_pipeline


@pytest.fixture(scope="module")
def lstm_checkpoint(params):
    torch.manual_seed(0)
    config = LSTMConfig(**params["lstm_model"]["model"])
    return {"config": asdict(config), "state_dict": NoteLSTM(config).state_dict()}


@pytest.fixture(scope="module")
def g(params):
    """Generation settings for the small model: short pieces."""
    return {**copy.deepcopy(params["generation"]), "num_samples": 2, "seconds": 6.0,
            "continuation": {"num_pieces": 2, "prefix_bars": 2}}


@pytest.mark.parametrize(
    "change, name",
    [
        ({"presets": {"broken": {"temperature": -1.0, "top_k": 5, "top_p": 0.9}}}, "generation.presets.broken.temperature"),
        ({"presets": {"broken": {"temperature": 1.0, "top_k": -2, "top_p": 0.9}}}, "generation.presets.broken.top_k"),
        ({"presets": {"broken": {"temperature": 1.0, "top_k": 5, "top_p": 1.5}}}, "generation.presets.broken.top_p"),
        ({"presets": {"broken": {"temperature": 1.0, "top_k": 5, "top_p": 0.9, "topk": 3}}}, "broken has unknown keys"),
        ({"seconds": 0}, "generation.seconds"),
        ({"continuation": {"num_pieces": 2, "prefix_bars": 0}}, "generation.continuation.prefix_bars"),
        ({"composer_preset": "wild"}, "generation.composer_preset"),
        ({"sampler": {"context_kept": 1.0}}, "generation.sampler.context_kept"),
    ],
)
def test_bad_parameters_are_named(change, name, params):
    bad = copy.deepcopy(params["generation"])
    for key, value in change.items():
        bad[key] = {**bad[key], **value} if isinstance(value, dict) else value
    with pytest.raises(ValueError, match=name):
        validate_generation_params(bad)


def test_generation_pipeline_writes_pieces_with_notes_and_manifest(small_model, lstm_checkpoint, engineered, params, g):
    catalog = DataCatalog({"params:generation": MemoryDataset(g), "params:lstm_model": MemoryDataset(params["lstm_model"])})
    out = run_pipeline(generation.create_pipeline(), catalog, {
        "transformer": small_model["transformer"], "transformer_tokenizer": small_model["transformer_tokenizer"],
        "tokenizer": engineered["tokenizer"], "test_tokens": engineered["test_tokens"], "pieces": engineered["pieces"],
        "notes": engineered["notes"], "lstm": lstm_checkpoint,
    })
    manifest, midi = out["generation_manifest"], out["generated_midi"]
    sets = len(g["presets"]) + len(small_model["transformer_tokenizer"].composers)
    assert sum(name.startswith(("unconditioned/", "composer/")) for name in midi) == sets * g["num_samples"]
    assert sum(name.startswith("continuation/") for name in midi) == 4 * 2  # prefix, continuation, full, reference
    assert sum(name.startswith("lstm") for name in midi) == g["num_samples"] + 4 * 2
    assert set(manifest["files"]) == set(midi)
    for name, score in midi.items():
        assert score.note_num() > 0 and manifest["files"][name]["notes"] == score.note_num()
        if not name.startswith("lstm"):
            assert 0 <= manifest["files"][name]["grammar_error_share"] < 0.3, name
    for name, entry in manifest["files"].items():
        if name.endswith(("/prefix", "/reference")) and not name.startswith("lstm"):
            assert entry["grammar_error_share"] == 0.0, name  # real music
    assert set(out["generated_audio"]) == set(out["generated_midi"])  # audio is on by default
    assert all(ogg[:4] == b"OggS" for ogg in out["generated_audio"].values())


def test_a_60_second_request_gives_60_seconds_to_a_bar_more_and_stays_music(small_model, g):
    """Through the node: 60 s pieces from a model with a 128-token context, so several
    contexts long. After the first context, grammar errors and notes per second stay in the
    range that the first contexts show."""
    model, vocabulary = small_model["transformer"], small_model["transformer_tokenizer"]
    preset = g["presets"]["balanced"]
    pieces, manifest = generate_pieces(model, vocabulary, {**g, "seconds": 60.0, "num_samples": 4, "presets": {"balanced": preset}})
    context = model.config.n_positions
    for name, score in pieces.items():
        seconds = score.to("second")
        bar = 4 * 60.0 / seconds.tempos[-1].qpm
        assert 60.0 <= seconds.end() <= 60.0 + bar + 1e-6, (name, seconds.end(), manifest["files"][name]["stop"])
        assert manifest["files"][name]["tokens"] > 3 * context

    requests = [Request([], None, manifest["files"][name]["seed"]) for name in pieces if name.startswith("unconditioned/")]
    first, later = {"errors": [], "density": []}, {"errors": [], "density": []}
    for piece in sample(model, vocabulary, requests, preset, Length(seconds=60.0), g["sampler"]):
        for start in range(0, len(piece.tokens) - context + 1, context):
            window = piece.tokens[start : start + context]
            decoded = vocabulary.decode(window).to("second")
            figures = first if start == 0 else later
            figures["errors"].append(vocabulary.grammar_error_share(window))
            figures["density"].append(decoded.note_num() / max(decoded.end() - decoded.start(), 1e-9))
    for key in ("errors", "density"):
        low, high = min(first[key]), max(first[key])
        assert low <= float(np.mean(later[key])) <= high, (key, first[key], later[key])


def _notes(score):
    return sorted((n.time, n.pitch, n.duration, n.velocity) for n in score.tracks[0].notes)


def test_continuations_start_with_exactly_the_prompt_and_the_reference_is_the_real_music(small_model, engineered, g):
    vocabulary = small_model["transformer_tokenizer"]
    out, manifest = continue_pieces(small_model["transformer"], engineered["test_tokens"], engineered["tokenizer"], vocabulary,
                                    engineered["pieces"], g)
    assert len({name.rsplit("/", 1)[0] for name in out}) == 2
    for piece_id, ids in engineered["test_tokens"].items():
        folder = f"continuation/{piece_id.replace('/', '__')}"
        prefix, full, reference = out[f"{folder}/prefix"], out[f"{folder}/full"], out[f"{folder}/reference"]
        real = engineered["tokenizer"].decode(ids)
        bar = 2 * 4 * real.ticks_per_quarter  # two 4/4 bars
        assert _notes(prefix) == [n for n in _notes(real) if n[0] < bar]
        assert not Counter(_notes(prefix)) - Counter(_notes(full))
        shifted = [(t - bar, p, d, v) for t, p, d, v in _notes(real) if t >= bar]
        assert _notes(reference) == [n for n in shifted if n[0] + n[2] <= reference.end()][: reference.note_num()]
        for part in ("continuation", "reference"):
            assert g["seconds"] <= manifest["files"][f"{folder}/{part}"]["seconds"] or part == "reference"


def test_composer_steered_pieces_for_each_composer_token(small_model, g):
    vocabulary = small_model["transformer_tokenizer"]
    pieces, manifest = generate_pieces(small_model["transformer"], vocabulary, {**g, "num_samples": 1})
    for composer in vocabulary.composers:
        entries = [e for e in manifest["files"].values() if e["composer"] == composer]
        assert len(entries) == 1 and entries[0]["prompt"] == f"BOS + composer {composer}"


def test_pieces_shorter_than_the_prefix_are_skipped_and_listed(small_model, engineered, g):
    settings = {**g, "continuation": {"num_pieces": 2, "prefix_bars": 10_000}}
    out, manifest = continue_pieces(small_model["transformer"], engineered["test_tokens"], engineered["tokenizer"],
                                    small_model["transformer_tokenizer"], engineered["pieces"], settings)
    assert out == {} and sorted(manifest["skipped_short_pieces"]) == sorted(engineered["test_tokens"])


def test_audio_off_renders_nothing(params):
    settings = {**params["generation"], "audio": {**params["generation"]["audio"], "enabled": False}}
    assert render_audio({"a/b": None}, settings) == {}


def test_audio_with_a_missing_soundfont_names_the_parameter(params, tmp_path):
    settings = {**params["generation"], "audio": {**params["generation"]["audio"], "soundfont": str(tmp_path / "no.sf2")}}
    with pytest.raises(FileNotFoundError, match="generation.audio.soundfont"):
        render_audio({}, settings)
    with pytest.raises(FileNotFoundError, match="generation.audio.soundfont"):
        validate_audio_settings(settings["audio"])


@pytest.mark.parametrize("key, value", [("format", "mp4"), ("loudness_dbfs", 0.0), ("sample_rate", 0), ("tail_seconds", -1.0), ("num_workers", 0)])
def test_bad_audio_settings_are_named(params, key, value):
    settings = {**params["generation"], "audio": {**params["generation"]["audio"], key: value}}
    with pytest.raises(ValueError, match=f"generation.audio.{key}"):
        validate_audio_settings(settings["audio"])


def test_audio_renders_an_ogg_per_file(params):
    from symbolic_music.music.audio import audio_duration, loudness_dbfs
    from tests.conftest import make_score

    settings = params["generation"]["audio"]
    score = make_score(0, num_notes=8)
    audio = render_audio({"unconditioned/balanced/sample_000": score}, params["generation"])
    ogg = audio["unconditioned/balanced/sample_000"]
    assert ogg[:4] == b"OggS"
    assert audio_duration(ogg) == pytest.approx(score.to("second").end() + settings["tail_seconds"], abs=0.01)
    assert abs(loudness_dbfs(ogg) - settings["loudness_dbfs"]) <= 1.0


def test_audio_in_worker_processes_is_the_same_audio_in_the_same_order(params):
    from symbolic_music.music.audio import decode_audio
    from tests.conftest import make_score

    scores = {f"unconditioned/balanced/sample_{i:03d}": make_score(i, num_notes=4 + 3 * i) for i in range(3)}
    serial = render_audio(scores, {**params["generation"], "audio": {**params["generation"]["audio"], "num_workers": 1}})
    parallel = render_audio(scores, {**params["generation"], "audio": {**params["generation"]["audio"], "num_workers": 2}})
    assert list(parallel) == list(scores)
    for name in scores:
        (a, rate_a), (b, rate_b) = decode_audio(serial[name]), decode_audio(parallel[name])
        assert rate_a == rate_b and a.shape == b.shape and abs(a - b).max() < 1e-4
