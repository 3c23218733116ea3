"""transformer_model nodes: token JSON + tokenizer in; GPT-2 checkpoint, history, metrics out."""

from __future__ import annotations

import copy
import json
import logging
import os
import pickle
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import miditok
import pandas as pd
import torch
from tqdm.auto import tqdm
from transformers import (
    EarlyStoppingCallback,
    GPT2Config,
    GPT2LMHeadModel,
    Trainer,
    TrainingArguments,
    set_seed,
)
from transformers.trainer_utils import get_last_checkpoint

from symbolic_music.models.likelihood import model_nll, summarize_nll, unigram_nll
from symbolic_music.models.windows import PadCollator, WindowDataset, piece_windows
from symbolic_music.music.plots import loss_curves
from symbolic_music.music.tokens import (
    OTHER_COMPOSER,
    augmented_scores,
    composer_header,
    decode_ids,
    encode_score,
    special_ids,
    to_model_ids,
    train_bpe,
)

log = logging.getLogger(__name__)
GPU_ONLY_ARGUMENTS = ("fp16", "bf16", "activation_checkpointing", "dataloader_pin_memory")


def header_length(params: dict) -> int:
    """Control tokens after BOS in every window: 1 with composer tokens, else 0."""
    return int(params["composer_tokens"]["enabled"])


def validate_params(params: dict) -> None:
    """Raise ``ValueError`` naming the parameter when the settings cannot work, before any
    tokenizer training or model training starts."""
    max_length, stride, prefix = params["max_length"], params["stride"], params["prefix_len"]
    chunk = max_length - 1 - header_length(params)
    if chunk < 1:
        raise ValueError(f"transformer_model.max_length is too small ({max_length}) for BOS and control tokens")
    if not 1 <= stride <= chunk:
        raise ValueError(f"transformer_model.stride must be in [1, {chunk}] (max_length - 1 - control tokens), got {stride}")
    if not 0 <= prefix < max_length:
        raise ValueError(f"transformer_model.prefix_len must be in [0, max_length), got {prefix} (max_length={max_length})")
    if params["model"]["n_positions"] < max_length:
        raise ValueError("transformer_model.model.n_positions must be at least transformer_model.max_length")
    if params["num_processes"] < 1:
        raise ValueError(f"transformer_model.num_processes must be at least 1, got {params['num_processes']}")
    if params["composer_tokens"]["enabled"] and params["composer_tokens"]["top_k"] < 1:
        raise ValueError("transformer_model.composer_tokens.top_k must be at least 1")


def composer_token_name(composer: str) -> str:
    """``"Johann Sebastian Bach"`` → ``"Composer_Johann-Sebastian-Bach"`` (miditok's Type_Value form)."""
    return "Composer_" + (re.sub(r"[^A-Za-z0-9]+", "-", composer).strip("-") or "unknown")


def prepare_transformer_tokenizer(
    tokenizer: miditok.MusicTokenizer, pieces: pd.DataFrame, train_tokens: dict[str, list[int]], params: dict
) -> miditok.MusicTokenizer:
    """The data_engineering tokenizer → the model's tokenizer: a copy with composer control tokens
    (the ``top_k`` most frequent train composers plus ``other``; mapping kept in
    ``composer_tokens``) and, when enabled, BPE trained on the train split only."""
    validate_params(params)
    model_tokenizer = copy.deepcopy(tokenizer)
    model_tokenizer.composer_tokens = {}
    if params["composer_tokens"]["enabled"]:
        train_composers = pieces.loc[pieces["split"] == "train", "composer"].value_counts()
        for composer in [*train_composers.index[: params["composer_tokens"]["top_k"]], OTHER_COMPOSER]:
            model_tokenizer.composer_tokens[composer] = composer_token_name(composer)
            model_tokenizer.add_to_vocab(composer_token_name(composer), special_token=True)
    if params["bpe"]["enabled"]:
        scores = [decode_ids(tokenizer, ids) for ids in tqdm(train_tokens.values(), desc="decode for BPE", unit="piece")]
        train_bpe(model_tokenizer, scores, params["bpe"]["vocab_size"])
        log.info("Trained BPE: %d tokens", len(model_tokenizer))
    return model_tokenizer


AUGMENTED = "@"  # augmented copies of a train piece are keyed "<piece_id>@<change>"


def original_sequences(sequences: dict[str, dict]) -> dict[str, dict]:
    """The sequences of real pieces, without augmented copies."""
    return {key: sequence for key, sequence in sequences.items() if AUGMENTED not in key}


def encode_sequences(
    train_tokens: dict[str, list[int]],
    validation_tokens: dict[str, list[int]],
    test_tokens: dict[str, list[int]],
    tokenizer: miditok.MusicTokenizer,
    transformer_tokenizer: miditok.MusicTokenizer,
    pieces: pd.DataFrame,
    params: dict,
) -> tuple[dict, dict, dict, dict]:
    """Base token ids of each split → the model's sequences ``{id: {"header": [...], "ids": [...]}}``
    (BPE applied when trained; composer header when enabled), with augmented copies of train
    pieces (``<piece_id>@pitch+2``) when augmentation is on, and a report of tokens per note."""
    composer_of = dict(zip(pieces["piece_id"], pieces["composer"]))
    augmentation = params["augmentation"]
    pitch_range = tuple(tokenizer.config.pitch_range)
    uses_bpe = transformer_tokenizer.is_trained

    def encode_split(tokens: dict[str, list[int]], augment: bool, desc: str) -> dict:
        sequences = {}
        for piece_id, ids in tqdm(tokens.items(), desc=desc, unit="piece"):
            header = composer_header(transformer_tokenizer, composer_of.get(piece_id, OTHER_COMPOSER))
            sequences[piece_id] = {"header": header, "ids": to_model_ids(ids, tokenizer, transformer_tokenizer)}
            if augment:
                score = decode_ids(tokenizer, ids)
                copies = augmented_scores(score, augmentation["pitch_offsets"], augmentation["velocity_offsets"], pitch_range)
                for name, copy_score in copies.items():
                    sequences[f"{piece_id}{AUGMENTED}{name}"] = {"header": header, "ids": encode_score(transformer_tokenizer, copy_score)}
        return sequences

    train = encode_split(train_tokens, augmentation["enabled"], "encode train")
    validation = encode_split(validation_tokens, False, "encode validation")
    test = encode_split(test_tokens, False, "encode test")
    train_notes = int(pieces.loc[pieces["split"] == "train", "num_notes"].sum())
    originals = list(original_sequences(train).values())
    report = {
        "bpe": uses_bpe,
        "vocab_size": len(transformer_tokenizer),
        "composer_tokens": transformer_tokenizer.composer_tokens,
        "train_tokens_per_note_base": sum(map(len, train_tokens.values())) / max(train_notes, 1),
        "train_tokens_per_note_model": sum(len(seq["ids"]) for seq in originals) / max(train_notes, 1),
        "augmented_train_sequences": len(train) - len(originals),
    }
    log.info("Tokens per note: %.3f base, %.3f model", report["train_tokens_per_note_base"], report["train_tokens_per_note_model"])
    return train, validation, test, report


def build_windows(sequences: dict[str, dict], tokenizer: miditok.MusicTokenizer, max_length: int, stride: int | None = None) -> list[list[int]]:
    """Model sequences → windows over every sequence (see ``piece_windows``), in order.
    ``stride=None`` gives non-overlapping windows, so each token is scored once."""
    ids = special_ids(tokenizer)
    windows = []
    for sequence in sequences.values():
        step = stride or max_length - 1 - len(sequence["header"])
        windows += piece_windows(sequence["ids"], max_length, step, ids["bos"], ids["eos"], sequence["header"])
    return windows


def make_windows(
    train_sequences: dict[str, dict], validation_sequences: dict[str, dict], transformer_tokenizer: miditok.MusicTokenizer, params: dict
) -> tuple[list[list[int]], list[list[int]], dict]:
    """Model sequences → training windows (stride from parameters), validation windows (no
    overlap) and a count of the windows, with how many the augmented copies add."""
    validate_params(params)
    originals = original_sequences(train_sequences)
    train = build_windows(train_sequences, transformer_tokenizer, params["max_length"], params["stride"])
    validation = build_windows(validation_sequences, transformer_tokenizer, params["max_length"])
    original_count = len(build_windows(originals, transformer_tokenizer, params["max_length"], params["stride"]))
    report = {"train_windows": len(train), "windows_added_by_augmentation": len(train) - original_count, "validation_windows": len(validation)}
    log.info("Windows: %s", report)
    return train, validation, report


def build_model(tokenizer: miditok.MusicTokenizer, params: dict) -> GPT2LMHeadModel:
    """A fresh GPT-2 sized by ``params['model']``; vocabulary and special ids from the tokenizer."""
    ids = special_ids(tokenizer)
    config = GPT2Config(
        vocab_size=len(tokenizer),
        bos_token_id=ids["bos"],
        eos_token_id=ids["eos"],
        pad_token_id=ids["pad"],
        **params["model"],
    )
    return GPT2LMHeadModel(config)


def training_arguments(params: dict) -> TrainingArguments:
    """``TrainingArguments`` straight from ``params['training']``; fp16/bf16, activation
    (gradient) checkpointing and pinned memory are switched off when no GPU is present."""
    settings = dict(params["training"])
    if not torch.cuda.is_available():
        for name in GPU_ONLY_ARGUMENTS:
            if settings.pop(name, False):
                log.info("No GPU: ignoring training.%s", name)
        settings["dataloader_pin_memory"] = False
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:  # started by torchrun: one DDP process
        settings.setdefault("ddp_backend", "nccl" if torch.cuda.is_available() else "gloo")
    return TrainingArguments(
        output_dir=params["trainer_dir"],
        seed=params["seed"],
        eval_strategy="epoch",
        save_strategy="epoch",
        load_best_model_at_end=True,
        metric_for_best_model="eval_loss",
        greater_is_better=False,
        report_to=[],
        remove_unused_columns=False,
        **settings,
    )


def train_transformer(
    train_windows: list[list[int]],
    validation_windows: list[list[int]],
    transformer_tokenizer: miditok.MusicTokenizer,
    params: dict,
    extra_callbacks: list | None = None,
) -> tuple[GPT2LMHeadModel, dict]:
    """Windows → (best GPT-2 on validation loss, training history).

    Trainer checkpoints go to ``params['trainer_dir']``; with ``resume: true`` training resumes
    from the latest one there. History: per-step train loss and per-epoch validation loss.
    ``extra_callbacks`` (not wired in the pipeline) lets callers add ``TrainerCallback``s.
    """
    validate_params(params)
    if params["num_processes"] > 1:
        return _train_distributed(train_windows, validation_windows, transformer_tokenizer, params)
    set_seed(params["seed"])
    model = build_model(transformer_tokenizer, params)
    log.info("GPT-2 with %.2fM parameters", model.num_parameters() / 1e6)
    trainer = Trainer(
        model=model,
        args=training_arguments(params),
        train_dataset=WindowDataset(train_windows),
        eval_dataset=WindowDataset(validation_windows),
        data_collator=PadCollator(special_ids(transformer_tokenizer)["pad"], params["prefix_len"]),
        callbacks=[EarlyStoppingCallback(early_stopping_patience=params["early_stopping_patience"]), *(extra_callbacks or [])],
    )
    checkpoint = get_last_checkpoint(params["trainer_dir"]) if params["resume"] else None
    if params["resume"]:
        log.info("Resuming from %s", checkpoint or "scratch (no checkpoint found)")
    trainer.train(resume_from_checkpoint=checkpoint)
    logs = trainer.state.log_history
    history = {
        "train": [{"step": e["step"], "epoch": e["epoch"], "loss": e["loss"]} for e in logs if "loss" in e],
        "validation": [{"step": e["step"], "epoch": e["epoch"], "loss": e["eval_loss"]} for e in logs if "eval_loss" in e],
        "best_checkpoint": trainer.state.best_model_checkpoint,
        "num_parameters": int(model.num_parameters()),
    }
    return trainer.model.cpu(), history


def _train_distributed(train_windows, validation_windows, transformer_tokenizer, params) -> tuple[GPT2LMHeadModel, dict]:
    """Run ``train_transformer`` in ``num_processes`` DDP processes via torchrun
    (``models/ddp_worker.py``) and read back rank 0's model and history. ``launcher_args``
    replace ``--standalone`` for multi-node runs (e.g. ``--nnodes``, ``--rdzv_endpoint``)."""
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        inputs = {"train_windows": train_windows, "validation_windows": validation_windows, "tokenizer": transformer_tokenizer, "params": params}
        (workdir / "inputs.pkl").write_bytes(pickle.dumps(inputs))
        launcher = params["launcher_args"] or ["--standalone"]
        command = [sys.executable, "-m", "torch.distributed.run", *launcher, f"--nproc_per_node={params['num_processes']}",
                   "-m", "symbolic_music.models.ddp_worker", str(workdir)]
        log.info("Launching %d DDP processes: %s", params["num_processes"], " ".join(command))
        subprocess.run(command, check=True)
        model = GPT2LMHeadModel.from_pretrained(str(workdir / "model"), local_files_only=True)
        return model, json.loads((workdir / "history.json").read_text())


def evaluate_transformer(
    model: GPT2LMHeadModel,
    train_sequences: dict[str, dict],
    test_sequences: dict[str, dict],
    transformer_tokenizer: miditok.MusicTokenizer,
    notes: pd.DataFrame,
    sequence_report: dict,
    window_report: dict,
    params: dict,
) -> dict:
    """Model + test sequences → test NLL (nats/token, bits/token, bits/note) beside a unigram
    model of the same tokens fitted on train. Bits per note = total test NLL in bits ÷ test
    notes, the unit comparable across tokenizers, BPE and models. Control tokens are given,
    not scored."""
    length, context = params["max_length"], 1 + header_length(params)
    test = build_windows(test_sequences, transformer_tokenizer, length)
    train = build_windows(original_sequences(train_sequences), transformer_tokenizer, length)
    num_notes = int((notes["split"] == "test").sum())
    batch_size = params["training"]["per_device_eval_batch_size"]
    total, count = model_nll(model, test, special_ids(transformer_tokenizer)["pad"], batch_size, context)
    unigram_total, unigram_count = unigram_nll(train, test, len(transformer_tokenizer), context=context)
    metrics = {
        "transformer": summarize_nll(total, count, num_notes),
        "unigram": summarize_nll(unigram_total, unigram_count, num_notes),
        "sequences": sequence_report,
        "windows": window_report,
    }
    log.info("Test bits/note: transformer %.3f, unigram %.3f", metrics["transformer"]["bits_per_note"], metrics["unigram"]["bits_per_note"])
    return metrics


def plot_loss_curves(history: dict) -> plt.Figure:
    """Training history → train loss per step and validation loss per epoch (nats/token)."""
    return loss_curves(history, "Transformer loss", "cross-entropy (nats/token)")
