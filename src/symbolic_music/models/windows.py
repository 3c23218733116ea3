"""Training windows over whole pieces, and the padding collator (plain torch, no Kedro)."""

from __future__ import annotations

import torch

IGNORE_INDEX = -100  # label value that cross-entropy skips


def piece_windows(ids: list[int], max_length: int, stride: int, bos_id: int, eos_id: int, header: list[int] | None = None) -> list[list[int]]:
    """Cut one piece into windows of at most ``max_length`` tokens covering every token.

    Each window is ``[BOS, *header, chunk]``; ``header`` holds control tokens (e.g. the composer
    token, which then sits at position 1). The piece is followed by EOS, so its last window
    ends with EOS. Consecutive chunks start ``stride`` tokens apart; ``stride`` must not exceed
    the chunk length (``max_length - 1 - len(header)``) or tokens would be skipped.
    """
    header = header or []
    chunk = max_length - 1 - len(header)
    if chunk < 1:
        raise ValueError(f"max_length={max_length} leaves no room for tokens after BOS and {len(header)} header tokens")
    if not 1 <= stride <= chunk:
        raise ValueError(f"stride must be between 1 and {chunk} (max_length - 1 - header tokens), got {stride}")
    body = [*ids, eos_id]
    starts = range(0, max(len(body) - chunk, 0) + stride, stride)
    windows = []
    for start in starts:
        windows.append([bos_id, *header, *body[start : start + chunk]])
        if start + chunk >= len(body):
            break
    return windows


class PadCollator:
    """Pads a batch of token lists on the right with ``pad_id``; labels are the ids, with
    ``-100`` on padding and on the first ``prefix_len`` positions (the continuation objective:
    the model is not trained to predict the prompt)."""

    def __init__(self, pad_id: int, prefix_len: int = 0) -> None:
        self.pad_id = pad_id
        self.prefix_len = prefix_len

    def __call__(self, batch: list[dict[str, list[int]]]) -> dict[str, torch.Tensor]:
        longest = max(len(item["input_ids"]) for item in batch)
        input_ids = torch.full((len(batch), longest), self.pad_id, dtype=torch.long)
        attention_mask = torch.zeros((len(batch), longest), dtype=torch.long)
        for row, item in enumerate(batch):
            ids = item["input_ids"]
            input_ids[row, : len(ids)] = torch.tensor(ids, dtype=torch.long)
            attention_mask[row, : len(ids)] = 1
        labels = input_ids.masked_fill(attention_mask == 0, IGNORE_INDEX)
        labels[:, : self.prefix_len] = IGNORE_INDEX
        return {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels}


class WindowDataset(torch.utils.data.Dataset):
    """A list of token windows as ``{"input_ids": [...]}`` items for ``Trainer``."""

    def __init__(self, windows: list[list[int]]) -> None:
        self.windows = windows

    def __len__(self) -> int:
        return len(self.windows)

    def __getitem__(self, index: int) -> dict[str, list[int]]:
        return {"input_ids": self.windows[index]}
