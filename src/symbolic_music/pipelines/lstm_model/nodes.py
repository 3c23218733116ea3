"""lstm_model nodes: note table in; checkpoint, history, metrics and loss plot out."""

from __future__ import annotations

import copy
import logging
import math
from dataclasses import asdict

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from symusic import Score
from tqdm.auto import tqdm

from symbolic_music.models.likelihood import summarize_nll
from symbolic_music.models.lstm import (
    NUM_PITCHES,
    LSTMConfig,
    NoteLSTM,
    load_lstm,
    lstm_loss,
    note_windows,
)
from symbolic_music.models.sampler import Length, cut_to_length, piece_score
from symbolic_music.music.baselines import random_piece, rule_based_piece
from symbolic_music.music.ngram import KneserNey, validate_ngram_settings
from symbolic_music.music.plots import loss_curves
from symbolic_music.music.vocabulary import Vocabulary

log = logging.getLogger(__name__)


def make_note_windows(notes: pd.DataFrame, params: dict) -> tuple[dict, dict, dict]:
    """Note table → windows of train (stride ``seq_length // 4``), validation (same) and test
    (stride 1, so every note after the first window of a piece is predicted once)."""
    seq_length = params["seq_length"]
    if seq_length < 1:
        raise ValueError(f"lstm_model.seq_length must be positive, got {seq_length}")
    stride = max(1, seq_length // 4)
    split = {name: notes[notes["split"] == name] for name in ("train", "validation", "test")}
    windows = (
        note_windows(split["train"], seq_length, stride, params["timing"]),
        note_windows(split["validation"], seq_length, stride, params["timing"]),
        note_windows(split["test"], seq_length, 1, params["timing"]),
    )
    log.info("LSTM windows: %s", {name: len(w["pitch"]) for name, w in zip(split, windows)})
    return windows


def _batches(windows: dict, batch_size: int, generator: torch.Generator | None = None):
    order = torch.randperm(len(windows["pitch"]), generator=generator) if generator else torch.arange(len(windows["pitch"]))
    for start in range(0, len(order), batch_size):
        index = order[start : start + batch_size]
        yield {k: v[index] for k, v in windows.items()}


def _run_batch(model: NoteLSTM, batch: dict, weights: dict):
    logits, timing = model(batch["pitch"], batch["timing"])
    return lstm_loss(logits, timing, batch["target_pitch"], batch["target_timing"], batch["pitch"][:, -1], weights)


@torch.no_grad()
def _mean_loss(model: NoteLSTM, windows: dict, params: dict) -> float:
    model.eval()
    total, count = 0.0, 0
    for batch in _batches(windows, params["batch_size"]):
        loss, _ = _run_batch(model, batch, params["loss_weights"])
        total += float(loss) * len(batch["pitch"])
        count += len(batch["pitch"])
    return total / max(count, 1)


def train_lstm(train_windows: dict, validation_windows: dict, init_lstm: dict | None, params: dict) -> tuple[dict, dict]:
    """Windows → (best checkpoint on validation loss ``{"config", "state_dict"}``, history).

    Adam, a fixed seed, early stopping after ``patience`` epochs without improvement. From
    scratch (``init_lstm`` None, sized by ``params["model"]``) or from the checkpoint
    ``init_lstm`` (``lstm_model.init_from``), whose size it keeps; its validation loss before
    any step is then ``initial_validation_loss`` in the history.
    """
    torch.manual_seed(params["seed"])
    generator = torch.Generator().manual_seed(params["seed"])
    model = NoteLSTM(LSTMConfig(**params["model"])) if init_lstm is None else load_lstm(init_lstm)
    config = model.config
    optimizer = torch.optim.Adam(model.parameters(), lr=params["learning_rate"])
    history = {"train": [], "validation": []}
    if init_lstm is not None:
        history["initial_validation_loss"] = _mean_loss(model, validation_windows, params)
        log.info("LSTM fine-tuning from a checkpoint: validation loss %.4f at the start", history["initial_validation_loss"])
    best_loss, best_state, stale = math.inf, copy.deepcopy(model.state_dict()), 0
    step = 0
    for epoch in range(1, params["epochs"] + 1):
        model.train()
        num_batches = math.ceil(len(train_windows["pitch"]) / params["batch_size"])
        for batch in tqdm(_batches(train_windows, params["batch_size"], generator), total=num_batches, desc=f"LSTM epoch {epoch}"):
            loss, parts = _run_batch(model, batch, params["loss_weights"])
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), params["max_grad_norm"])
            optimizer.step()
            step += 1
            if step % params["logging_steps"] == 0:
                history["train"].append({"step": step, "epoch": epoch, "loss": loss.item(), **parts})
        validation_loss = _mean_loss(model, validation_windows, params)
        history["validation"].append({"step": step, "epoch": epoch, "loss": validation_loss})
        log.info("LSTM epoch %d: validation loss %.4f", epoch, validation_loss)
        if validation_loss < best_loss:
            best_loss, best_state, stale = validation_loss, copy.deepcopy(model.state_dict()), 0
        else:
            stale += 1
            if stale >= params["patience"]:
                log.info("Early stopping after epoch %d", epoch)
                break
    history["best_validation_loss"] = best_loss
    return {"config": asdict(config), "state_dict": best_state}, history


@torch.no_grad()
def evaluate_lstm(checkpoint: dict, train_windows: dict, test_windows: dict, params: dict) -> dict:
    """Checkpoint + windows → test pitch bits per note, beside a pitch-unigram model fitted on
    the train targets (add-one), and the timing MSE in normalised units."""
    model = load_lstm(checkpoint)
    pitch_nats, timing_se, count = 0.0, 0.0, 0
    for batch in _batches(test_windows, params["batch_size"]):
        logits, timing = model(batch["pitch"], batch["timing"])
        pitch_nats += float(torch.nn.functional.cross_entropy(logits, batch["target_pitch"], reduction="sum"))
        timing_se += float(((timing - batch["target_timing"]) ** 2).sum())
        count += len(batch["pitch"])
    counts = np.bincount(train_windows["target_pitch"].numpy(), minlength=NUM_PITCHES) + 1.0
    log_prob = np.log(counts / counts.sum())
    unigram_nats = float(-log_prob[test_windows["target_pitch"].numpy()].sum())
    metrics = {
        "lstm": {"pitch_bits_per_note": pitch_nats / math.log(2) / count, "timing_mse": timing_se / (2 * count)},
        "pitch_unigram": {"pitch_bits_per_note": unigram_nats / math.log(2) / count},
        "test_notes_predicted": count,
    }
    log.info("Test pitch bits/note: LSTM %.3f, unigram %.3f", metrics["lstm"]["pitch_bits_per_note"], metrics["pitch_unigram"]["pitch_bits_per_note"])
    return metrics


def plot_lstm_history(history: dict) -> plt.Figure:
    """History → train loss per logging step and validation loss per epoch."""
    return loss_curves(history, "LSTM loss", "loss (CE + weighted MSE + coherence)")


def fit_ngram_baseline(
    train_tokens: dict[str, list[int]],
    validation_tokens: dict[str, list[int]],
    test_tokens: dict[str, list[int]],
    tokenizer: Vocabulary,
    notes: pd.DataFrame,
    params: dict,
) -> tuple[dict, dict[str, Score]]:
    """Token JSON → a Kneser–Ney n-gram over the data_engineering tokens (BOS … EOS per piece),
    counted on train with its discounts tuned on validation; its validation and test bits per note
    beside the same model at order 1 (a discounted unigram, tuned the same way: the floor the
    n-gram must beat), the chosen discounts, and ``num_samples`` sampled pieces of ``seconds``
    (``ngram/sample_NNN``), cut by the sampler's length rule."""
    settings = params["baselines"]["ngram"]
    validate_ngram_settings(settings)

    def wrap(tokens: dict[str, list[int]]) -> list[list[int]]:
        return [[tokenizer.bos_id, *piece, tokenizer.eos_id] for piece in tokens.values()]

    train, validation, test = wrap(train_tokens), wrap(validation_tokens), wrap(test_tokens)
    num_notes = {split: int((notes["split"] == split).sum()) for split in ("validation", "test")}
    metrics, models = {}, {}
    for name, order in (("ngram", settings["order"]), ("unigram", 1)):
        model = KneserNey(order, len(tokenizer), settings["min_discount"]).fit(train)
        models[name] = model.tune(validation, settings["tolerance"], settings["sweeps"])
        metrics[name] = {
            "order": order,
            "discounts": model.discounts.tolist(),  # per order, lowest first: (D1, D2, D3+)
            "validation_bits_per_note": summarize_nll(*model.nll(validation), num_notes["validation"])["bits_per_note"],
            **summarize_nll(*model.nll(test), num_notes["test"]),
        }
    log.info("Test bits/note: %d-gram %.3f, unigram %.3f", settings["order"], metrics["ngram"]["bits_per_note"], metrics["unigram"]["bits_per_note"])
    rng = np.random.default_rng(params["seed"])
    length, pieces = Length(seconds=params["baselines"]["seconds"]), {}
    for index in range(params["baselines"]["num_samples"]):
        # past an EOS the n-gram starts a new piece, as it saw in training; the cut keeps the length asked for
        sampled = models["ngram"].sample([tokenizer.bos_id], int(length.seconds * settings["max_tokens_per_second"]), -1, rng)
        piece = cut_to_length(tokenizer, tokenizer.music_ids(sampled), 0, length, params["baselines"]["bar_tolerance_seconds"])
        pieces[f"ngram/sample_{index:03d}"] = piece_score(tokenizer, piece)
    return metrics, pieces


def simple_baselines(notes: pd.DataFrame, params: dict) -> dict[str, Score]:
    """Note table → ``random/sample_NNN`` (uniform pitch, train-split timing marginals) and
    ``rule_based/sample_NNN`` (a scale walk; tonic and mode cycle through the parameter lists)."""
    settings = params["baselines"]
    rng = np.random.default_rng(params["seed"])
    train = notes[notes["split"] == "train"]
    pieces = {}
    rules = settings["rule_based"]
    for index in range(settings["num_samples"]):
        pieces[f"random/sample_{index:03d}"] = random_piece(settings["seconds"], tuple(settings["random"]["pitch_range"]), train, rng)
        tonic = rules["tonics"][index % len(rules["tonics"])]
        mode = rules["modes"][index % len(rules["modes"])]
        pieces[f"rule_based/sample_{index:03d}"] = rule_based_piece(settings["seconds"], tonic, mode, rules, rng)
    return pieces


def merge_baselines(ngram_midi: dict[str, Score], simple_midi: dict[str, Score]) -> dict[str, Score]:
    """The baselines' pieces in one MIDI folder."""
    return {**ngram_midi, **simple_midi}
