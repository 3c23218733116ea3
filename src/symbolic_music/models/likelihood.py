"""Held-out likelihood in comparable units: nats/token, bits/token and bits/note."""

from __future__ import annotations

import math

import numpy as np
import torch

from symbolic_music.models.windows import IGNORE_INDEX, PadCollator


def summarize_nll(total_nats: float, num_tokens: int, num_notes: int) -> dict[str, float]:
    """Total NLL (nats) over ``num_tokens`` predicted tokens of a split with ``num_notes`` notes →
    nats per token, bits per token and bits per note (the unit comparable across tokenizers)."""
    bits = total_nats / math.log(2)
    return {
        "nll_nats_per_token": total_nats / num_tokens,
        "bits_per_token": bits / num_tokens,
        "bits_per_note": bits / num_notes,
        "predicted_tokens": int(num_tokens),
        "notes": int(num_notes),
    }


@torch.no_grad()
def model_nll(model, windows: list[list[int]], pad_id: int, batch_size: int, context: int = 1) -> tuple[float, int]:
    """Summed next-token NLL (nats) of a causal LM over ``windows`` and the number of tokens it
    predicted: every position after the first ``context`` of each window (BOS, and any
    control tokens such as the composer, are given, not scored)."""
    model.eval()
    collate = PadCollator(pad_id, prefix_len=context)
    total, count = 0.0, 0
    device = next(model.parameters()).device
    for start in range(0, len(windows), batch_size):
        batch = collate([{"input_ids": w} for w in windows[start : start + batch_size]])
        batch = {k: v.to(device) for k, v in batch.items()}
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
        targets = batch["labels"][:, 1:]
        nll = torch.nn.functional.cross_entropy(
            logits[:, :-1].reshape(-1, logits.size(-1)).float(), targets.reshape(-1), ignore_index=IGNORE_INDEX, reduction="sum"
        )
        total += float(nll)
        count += int((targets != IGNORE_INDEX).sum())
    return total, count


def unigram_nll(
    train_windows: list[list[int]], test_windows: list[list[int]], vocab_size: int, smoothing: float = 1.0, context: int = 1
) -> tuple[float, int]:
    """Summed NLL (nats) of an add-``smoothing`` unigram model fitted on the train windows,
    scored on the same positions ``model_nll`` scores (every token after the first ``context``)."""
    counts = np.full(vocab_size, smoothing, dtype=np.float64)
    for window in train_windows:
        np.add.at(counts, window[context:], 1)
    with np.errstate(divide="ignore"):  # smoothing=0 leaves unseen tokens at -inf log-probability
        log_prob = np.log(counts / counts.sum())
    targets = np.concatenate([w[context:] for w in test_windows])
    return float(-log_prob[targets].sum()), int(len(targets))
