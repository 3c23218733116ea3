"""Where and in which precision the transformer trains and samples (no Kedro imports).

``precision`` is ``auto``, ``fp32``, ``bf16`` or ``fp16`` (``transformer_model.precision`` for
training, ``generation.sampler.precision`` for sampling). ``auto`` picks bf16 on a GPU that
supports it, fp16 on an older GPU, and fp32 on CPU, which a run says in one log line.
Training keeps fp32 weights and autocasts (HF ``Trainer``'s ``bf16``/``fp16``); sampling casts
the weights themselves, since no gradient needs fp32 masters.
"""

from __future__ import annotations

import logging

import torch

log = logging.getLogger(__name__)
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
_said: set[str] = set()  # the parameters whose CPU fallback was logged: once per process


def validate_precision(precision: str, parameter: str) -> None:
    if precision not in PRECISIONS:
        raise ValueError(f"{parameter} must be one of {list(PRECISIONS)}, got {precision!r}")


def resolve(precision: str, parameter: str) -> tuple[str, str]:
    """(device, precision) for a ``precision`` setting: ``auto`` is bf16 or fp16 on the GPU, fp32
    on CPU (one log line says so); fp16 without a GPU is an error naming ``parameter``."""
    validate_precision(precision, parameter)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    if precision == "auto":
        if device == "cpu":
            if parameter not in _said:
                _said.add(parameter)
                log.info("No GPU: %s runs in fp32 on CPU (%s: auto)", parameter.split(".")[0], parameter)
            return device, "fp32"
        precision = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    if precision == "fp16" and device == "cpu":
        raise ValueError(f"{parameter}: fp16 needs a GPU; use auto, fp32 or bf16 on CPU")
    return device, precision


def trainer_arguments(precision: str, parameter: str = "transformer_model.precision") -> dict:
    """``TrainingArguments`` fields for mixed precision: ``{"bf16": True}``, ``{"fp16": True}`` or
    ``{}``; bf16 on CPU also needs ``use_cpu`` (transformers refuses it otherwise)."""
    device, precision = resolve(precision, parameter)
    if precision == "fp32":
        return {}
    return {precision: True, **({"use_cpu": True} if device == "cpu" else {})}


def for_sampling(model: torch.nn.Module, precision: str, parameter: str = "generation.sampler.precision") -> torch.nn.Module:
    """``model`` (moved in place, as ``Module.to`` does) on the device and in the dtype to sample in."""
    device, precision = resolve(precision, parameter)
    return model.to(device=device, dtype=DTYPES[precision])
