"""generation: preset validation, seeded sampling, greedy equivalence, decoding and the pipeline."""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import asdict

import pytest
import torch
from kedro.io import DataCatalog, MemoryDataset
from transformers import GPT2Config, GPT2LMHeadModel

from symbolic_music.models.lstm import LSTMConfig, NoteLSTM
from symbolic_music.music.tokens import decode_ids, special_ids
from symbolic_music.pipelines import generation
from symbolic_music.pipelines.generation.nodes import (
    continue_test_pieces,
    generate_pieces,
    render_audio,
    sample_tokens,
    validate_params,
)
from symbolic_music.pipelines.transformer_model.nodes import build_model
from tests.conftest import run_pipeline


@pytest.fixture(scope="module")
def lstm_checkpoint(params):
    torch.manual_seed(0)
    config = LSTMConfig(**params["lstm_model"]["model"])
    return {"config": asdict(config), "state_dict": NoteLSTM(config).state_dict()}


@pytest.fixture(scope="module")
def model(engineered, params):
    torch.manual_seed(0)
    return build_model(engineered["tokenizer"], params["transformer_model"]).eval()


@pytest.mark.parametrize(
    "preset, name",
    [
        ({"temperature": -1.0, "top_k": 5, "top_p": 0.9}, "temperature"),
        ({"temperature": 1.0, "top_k": -2, "top_p": 0.9}, "top_k"),
        ({"temperature": 1.0, "top_k": 5, "top_p": 1.5}, "top_p"),
        ({"temperature": 1.0, "top_k": 5, "top_p": 0.9, "topk": 3}, "topk"),
    ],
)
def test_bad_presets_are_named(preset, name, params):
    bad = copy.deepcopy(params["generation"])
    bad["presets"]["broken"] = preset
    with pytest.raises(ValueError, match=f"generation.presets.broken.*{name}|{name}.*generation.presets.broken|broken has unknown keys.*{name}"):
        validate_params(bad)


def test_same_seed_gives_identical_tokens(model, engineered):
    ids = special_ids(engineered["tokenizer"])
    preset = {"temperature": 1.0, "top_k": 0, "top_p": 1.0}
    first = sample_tokens(model, [[ids["bos"]]] * 3, preset, 30, 7, ids["eos"], ids["pad"])
    second = sample_tokens(model, [[ids["bos"]]] * 3, preset, 30, 7, ids["eos"], ids["pad"])
    other = sample_tokens(model, [[ids["bos"]]] * 3, preset, 30, 8, ids["eos"], ids["pad"])
    assert first == second and first != other


def test_top_k_one_is_greedy():
    torch.manual_seed(0)
    tiny = GPT2LMHeadModel(GPT2Config(vocab_size=30, n_positions=32, n_layer=1, n_embd=16, n_head=2)).eval()
    sampled = sample_tokens(tiny, [[1], [1]], {"temperature": 1.3, "top_k": 1, "top_p": 1.0}, 12, 3, eos_id=29, pad_id=0)
    greedy = tiny.generate(torch.tensor([[1]]), do_sample=False, max_new_tokens=12, eos_token_id=29, pad_token_id=0)[0, 1:].tolist()
    greedy = greedy[: greedy.index(29)] if 29 in greedy else greedy
    assert sampled == [[t for t in greedy if t != 0]] * 2


def test_generation_pipeline_writes_pieces_with_notes_and_manifest(model, lstm_checkpoint, engineered, params):
    catalog = DataCatalog({"params:generation": MemoryDataset(params["generation"]), "params:lstm_model": MemoryDataset(params["lstm_model"])})
    out = run_pipeline(generation.create_pipeline(), catalog, {
        "transformer": model, "transformer_tokenizer": engineered["tokenizer"], "tokenizer": engineered["tokenizer"],
        "test_tokens": engineered["test_tokens"], "pieces": engineered["pieces"], "notes": engineered["notes"], "lstm": lstm_checkpoint,
    })
    manifest = out["generation_manifest"]
    expected = len(params["generation"]["presets"]) * params["generation"]["num_samples"] + 4 * 2  # 2 test pieces
    expected += params["generation"]["num_samples"] + 4 * 2  # the LSTM: Task 1, and Task 2 on both test pieces
    assert len(out["generated_midi"]) + len(manifest["dropped"]) == expected
    for name, score in out["generated_midi"].items():
        assert score.note_num() > 0
        assert manifest["files"][name]["notes"] == score.note_num()
        if not name.startswith("lstm"):
            assert 0 <= manifest["files"][name]["syntax_error_share"] <= 1
        if name.startswith("unconditioned/"):
            assert name.split("/")[1] in params["generation"]["presets"]
    assert set(out["generated_audio"]) == set(out["generated_midi"])  # audio is on by default
    assert all(ogg[:4] == b"OggS" for ogg in out["generated_audio"].values())


def test_generate_pieces_rejects_bad_preset_before_sampling(params, engineered):
    bad = copy.deepcopy(params["generation"])
    bad["presets"]["balanced"]["temperature"] = 0
    with pytest.raises(ValueError, match="balanced.temperature"):
        generate_pieces(None, engineered["tokenizer"], bad)


def test_composer_steered_pieces_for_each_composer_token(engineered, params):
    from symbolic_music.pipelines.transformer_model.nodes import (
        prepare_transformer_tokenizer,
    )

    p = copy.deepcopy(params["transformer_model"])
    p["bpe"]["enabled"] = False
    p["composer_tokens"].update(enabled=True, top_k=2)
    tokenizer = prepare_transformer_tokenizer(engineered["tokenizer"], engineered["pieces"], engineered["train_tokens"], p)
    torch.manual_seed(0)
    composer_model = build_model(tokenizer, p).eval()
    g = {**params["generation"], "num_samples": 1, "max_new_tokens": 30}
    pieces, manifest = generate_pieces(composer_model, tokenizer, g)
    names = list(pieces) + [d["file"] for d in manifest["dropped"]]
    for token in tokenizer.composer_tokens.values():
        folder = f"composer/{token.removeprefix('Composer_')}/{g['composer_preset']}/"
        assert sum(name.startswith(folder) for name in names) == 1
    assert all(entry["prompt"].startswith("BOS") for entry in manifest["files"].values())


def test_unknown_composer_preset_is_named(params, engineered):
    with pytest.raises(ValueError, match="generation.composer_preset"):
        generate_pieces(None, engineered["tokenizer"], {**params["generation"], "composer_preset": "wild"})


def _notes(score):
    return sorted((n.time, n.pitch, n.duration, n.velocity) for n in score.tracks[0].notes)


def test_continuations_start_with_exactly_the_prompt(model, engineered, params):
    g = {**params["generation"], "prefix_len": 30, "continuation": {"num_pieces": 2, "max_new_tokens": 25}}
    tokenizer = engineered["tokenizer"]
    out, manifest = continue_test_pieces(model, engineered["test_tokens"], tokenizer, tokenizer, engineered["pieces"], g)
    for piece_id, ids in engineered["test_tokens"].items():
        folder = f"continuation/{piece_id.replace('/', '__')}"
        prefix = out[f"{folder}/prefix"]
        assert _notes(prefix) == _notes(decode_ids(tokenizer, ids[:30]))
        # full = decode(prefix tokens + new tokens): every prefix note is in it, unchanged
        assert not Counter(_notes(prefix)) - Counter(_notes(out[f"{folder}/full"]))
        reference = manifest["files"].get(f"{folder}/reference")
        continuation = manifest["files"].get(f"{folder}/continuation")
        if reference and continuation:
            assert reference["tokens"] == continuation["tokens"]


def test_left_padding_does_not_change_a_row(model, engineered):
    """A short prompt batched with a longer one gives the greedy tokens it gives alone."""
    ids = special_ids(engineered["tokenizer"])
    prompt = [ids["bos"], *engineered["test_tokens"][next(iter(engineered["test_tokens"]))][:5]]
    longer = [ids["bos"], *engineered["train_tokens"][next(iter(engineered["train_tokens"]))][:12]]
    greedy = {"temperature": 1.0, "top_k": 1, "top_p": 1.0}
    alone = sample_tokens(model, [prompt], greedy, 10, 0, ids["eos"], ids["pad"])
    batched = sample_tokens(model, [longer, prompt], greedy, 10, 0, ids["eos"], ids["pad"])
    assert batched[1] == alone[0]


def test_prefix_len_longer_than_the_context_is_named(model, engineered, params):
    g = {**params["generation"], "prefix_len": 64}
    with pytest.raises(ValueError, match="generation.prefix_len"):
        continue_test_pieces(model, engineered["test_tokens"], engineered["tokenizer"], engineered["tokenizer"], engineered["pieces"], g)


def test_audio_off_renders_nothing(params):
    settings = {**params["generation"], "audio": {**params["generation"]["audio"], "enabled": False}}
    assert render_audio({"a/b": None}, settings) == {}


def test_audio_with_a_missing_soundfont_names_the_parameter(params, tmp_path):
    settings = {**params["generation"], "audio": {**params["generation"]["audio"], "soundfont": str(tmp_path / "no.sf2")}}
    with pytest.raises(FileNotFoundError, match="generation.audio.soundfont"):
        render_audio({}, settings)
    with pytest.raises(FileNotFoundError, match="generation.audio.soundfont"):
        validate_params(settings)


@pytest.mark.parametrize("key, value", [("format", "mp4"), ("loudness_dbfs", 0.0), ("sample_rate", 0), ("tail_seconds", -1.0)])
def test_bad_audio_settings_are_named(params, key, value):
    settings = {**params["generation"], "audio": {**params["generation"]["audio"], key: value}}
    with pytest.raises(ValueError, match=f"generation.audio.{key}"):
        validate_params(settings)


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
