"""transformer_model nodes: token JSON + tokenizer in; GPT-2 checkpoint, history, metrics out."""

from __future__ import annotations

import logging

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import miditok  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402
from transformers import (  # noqa: E402
    EarlyStoppingCallback,
    GPT2Config,
    GPT2LMHeadModel,
    Trainer,
    TrainingArguments,
    set_seed,
)
from transformers.trainer_utils import get_last_checkpoint  # noqa: E402

from symbolic_music.models.likelihood import model_nll, summarize_nll, unigram_nll  # noqa: E402
from symbolic_music.models.windows import PadCollator, WindowDataset, piece_windows  # noqa: E402

log = logging.getLogger(__name__)
GPU_ONLY_ARGUMENTS = ("fp16", "bf16", "activation_checkpointing", "dataloader_pin_memory")


def special_ids(tokenizer: miditok.MusicTokenizer) -> dict[str, int]:
    """PAD/BOS/EOS ids of a miditok tokenizer (raises ``KeyError`` naming a missing one)."""
    return {name: tokenizer.vocab[f"{name.upper()}_None"] for name in ("pad", "bos", "eos")}


def validate_params(params: dict) -> None:
    """Raise ``ValueError`` naming the parameter when windowing settings cannot work."""
    max_length, stride, prefix = params["max_length"], params["stride"], params["prefix_len"]
    if max_length < 2:
        raise ValueError(f"transformer_model.max_length must be at least 2, got {max_length}")
    if not 1 <= stride <= max_length - 1:
        raise ValueError(f"transformer_model.stride must be in [1, max_length - 1], got {stride}")
    if not 0 <= prefix < max_length:
        raise ValueError(f"transformer_model.prefix_len must be in [0, max_length), got {prefix}")
    if params["model"]["n_positions"] < max_length:
        raise ValueError("transformer_model.model.n_positions must be at least transformer_model.max_length")


def build_windows(tokens: dict[str, list[int]], tokenizer: miditok.MusicTokenizer, max_length: int, stride: int) -> list[list[int]]:
    """``{piece_id: ids}`` → windows over every piece (see ``piece_windows``), in piece order."""
    ids = special_ids(tokenizer)
    return [w for piece in tokens.values() for w in piece_windows(piece, max_length, stride, ids["bos"], ids["eos"])]


def make_windows(
    train_tokens: dict[str, list[int]], validation_tokens: dict[str, list[int]], tokenizer: miditok.MusicTokenizer, params: dict
) -> tuple[list[list[int]], list[list[int]]]:
    """Token JSON of train and validation → training windows (stride from parameters) and
    validation windows (no overlap, so each token is scored once)."""
    validate_params(params)
    train = build_windows(train_tokens, tokenizer, params["max_length"], params["stride"])
    validation = build_windows(validation_tokens, tokenizer, params["max_length"], params["max_length"] - 1)
    log.info("%d train windows, %d validation windows of up to %d tokens", len(train), len(validation), params["max_length"])
    return train, validation


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
    train_windows: list[list[int]], validation_windows: list[list[int]], tokenizer: miditok.MusicTokenizer, params: dict
) -> tuple[GPT2LMHeadModel, dict]:
    """Windows → (best GPT-2 on validation loss, training history).

    Trainer checkpoints go to ``params['trainer_dir']``; with ``resume: true`` training resumes
    from the latest one there. History: per-step train loss and per-epoch validation loss.
    """
    validate_params(params)
    set_seed(params["seed"])
    model = build_model(tokenizer, params)
    log.info("GPT-2 with %.2fM parameters", model.num_parameters() / 1e6)
    trainer = Trainer(
        model=model,
        args=training_arguments(params),
        train_dataset=WindowDataset(train_windows),
        eval_dataset=WindowDataset(validation_windows),
        data_collator=PadCollator(special_ids(tokenizer)["pad"], params["prefix_len"]),
        callbacks=[EarlyStoppingCallback(early_stopping_patience=params["early_stopping_patience"])],
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


def evaluate_transformer(
    model: GPT2LMHeadModel,
    train_tokens: dict[str, list[int]],
    test_tokens: dict[str, list[int]],
    tokenizer: miditok.MusicTokenizer,
    notes: pd.DataFrame,
    params: dict,
) -> dict:
    """Model + test tokens → test NLL (nats/token, bits/token, bits/note), beside a unigram model
    of the same tokens fitted on train. Bits per note = total test NLL in bits ÷ test notes."""
    length = params["max_length"]
    test = build_windows(test_tokens, tokenizer, length, length - 1)
    train = build_windows(train_tokens, tokenizer, length, length - 1)
    num_notes = int((notes["split"] == "test").sum())
    total, count = model_nll(model, test, special_ids(tokenizer)["pad"], params["training"]["per_device_eval_batch_size"])
    unigram_total, unigram_count = unigram_nll(train, test, len(tokenizer))
    metrics = {
        "transformer": summarize_nll(total, count, num_notes),
        "unigram": summarize_nll(unigram_total, unigram_count, num_notes),
        "train_tokens_per_note": sum(map(len, train_tokens.values())) / max(1, int((notes["split"] == "train").sum())),
    }
    log.info("Test bits/note: transformer %.3f, unigram %.3f", metrics["transformer"]["bits_per_note"], metrics["unigram"]["bits_per_note"])
    return metrics


def plot_loss_curves(history: dict) -> plt.Figure:
    """Training history → train loss per step and validation loss per epoch (nats/token)."""
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=110)
    train, validation = pd.DataFrame(history["train"]), pd.DataFrame(history["validation"])
    if len(train):
        ax.plot(train["step"], train["loss"], label="train (per logging step)")
    if len(validation):
        ax.plot(validation["step"], validation["loss"], "o-", label="validation (per epoch)")
    ax.set(xlabel="optimizer step", ylabel="cross-entropy (nats/token)", title="Transformer loss")
    ax.legend()
    fig.tight_layout()
    return fig
