"""The GPT-2 music model: its settings' checks, construction and training with HF ``Trainer``,
from scratch or fine-tuned from a trained checkpoint (every weight, or LoRA adapters with PEFT).

Shared by the transformer_model pipeline and the DDP worker; no Kedro imports. Parameters are
the ``transformer_model`` group of ``parameters_transformer_model.yml``.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

import torch
from transformers import (
    EarlyStoppingCallback,
    GPT2Config,
    GPT2LMHeadModel,
    Trainer,
    TrainingArguments,
    set_seed,
)
from transformers.trainer_utils import get_last_checkpoint

from symbolic_music.models.precision import trainer_arguments, validate_precision
from symbolic_music.models.windows import PadCollator, WindowDataset
from symbolic_music.music.vocabulary import Vocabulary

log = logging.getLogger(__name__)
GPU_ONLY_ARGUMENTS = ("activation_checkpointing", "dataloader_pin_memory")
PRECISION_ARGUMENTS = ("fp16", "bf16", "half_precision_backend")  # set by transformer_model.precision
FINETUNE_METHODS = ("full", "lora")


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
    validate_precision(params["precision"], "transformer_model.precision")
    for name in PRECISION_ARGUMENTS:
        if name in params["training"]:
            raise ValueError(f"transformer_model.training.{name} is set by transformer_model.precision (auto, fp32, bf16, fp16); remove it")
    if params["composer_tokens"]["enabled"] and params["composer_tokens"]["top_k"] < 1:
        raise ValueError("transformer_model.composer_tokens.top_k must be at least 1")
    from symbolic_music.datasets.init_from import validate_init_from  # datasets/ imports no model code

    validate_init_from(params.get("init_from"), "transformer_model.init_from")
    finetune = params.get("finetune", {"method": "full"})
    if finetune["method"] not in FINETUNE_METHODS:
        raise ValueError(f"transformer_model.finetune.method must be one of {list(FINETUNE_METHODS)}, got {finetune['method']!r}")
    if finetune["method"] == "lora" and finetune["lora"]["r"] < 1:
        raise ValueError(f"transformer_model.finetune.lora.r must be at least 1, got {finetune['lora']['r']}")


def build_model(vocabulary: Vocabulary, params: dict) -> GPT2LMHeadModel:
    """A fresh GPT-2 sized by ``params['model']``; its vocabulary and special ids are the vocabulary's."""
    config = GPT2Config(
        vocab_size=len(vocabulary),
        bos_token_id=vocabulary.bos_id,
        eos_token_id=vocabulary.eos_id,
        pad_token_id=vocabulary.pad_id,
        **params["model"],
    )
    return GPT2LMHeadModel(config)


def starting_model(vocabulary: Vocabulary, params: dict, init_model: GPT2LMHeadModel | None = None) -> GPT2LMHeadModel:
    """The model training starts from: a fresh GPT-2 (``build_model``), or a copy of ``init_model``
    with its token embeddings resized to ``vocabulary`` (seeded by ``params['seed']``).

    Resizing keeps every existing row at its id (the tied output layer too); the rows of
    appended composer tokens start near the old embeddings (HF's ``mean_resizing``: drawn from a
    normal with their mean and covariance).
    ``ValueError`` when the checkpoint is larger than the vocabulary (it was trained with more
    ids: another vocabulary) or its context is shorter than ``max_length``.
    """
    if init_model is None:
        return build_model(vocabulary, params)
    old_size, positions = init_model.get_input_embeddings().num_embeddings, init_model.config.n_positions
    if old_size > len(vocabulary):
        raise ValueError(f"transformer_model.init_from: the checkpoint has {old_size} token ids but the vocabulary {len(vocabulary)}; "
                         "it was not trained with this vocabulary")
    if positions < params["max_length"]:
        raise ValueError(f"transformer_model.max_length ({params['max_length']}) exceeds the checkpoint's context "
                         f"(n_positions {positions}); lower it to fine-tune this checkpoint")
    set_seed(params["seed"])
    model = copy.deepcopy(init_model)
    if len(vocabulary) > old_size:
        model.resize_token_embeddings(len(vocabulary))
    model.config.update({"bos_token_id": vocabulary.bos_id, "eos_token_id": vocabulary.eos_id, "pad_token_id": vocabulary.pad_id})
    return model


def with_lora(model: GPT2LMHeadModel, new_token_ids: list[int], settings: dict):
    """``model`` wrapped for LoRA (PEFT): only rank-``r`` adapters on ``target_modules`` and the
    embedding rows of ``new_token_ids`` (the appended composer tokens, tied to the output layer)
    train; every other weight is frozen. Undo with ``merge_and_unload()``."""
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(
        r=settings["r"],
        lora_alpha=settings["alpha"],
        lora_dropout=settings["dropout"],
        target_modules=list(settings["target_modules"]),
        fan_in_fan_out=True,  # GPT-2's Conv1D layers store their weights transposed
        trainable_token_indices={"wte": list(new_token_ids)} if new_token_ids else None,
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, config)


def training_arguments(params: dict) -> TrainingArguments:
    """``TrainingArguments`` straight from ``params['training']``, with the mixed precision of
    ``params['precision']`` (``models.precision``); activation (gradient) checkpointing and
    pinned memory are switched off when no GPU is present."""
    settings = {**params["training"], **trainer_arguments(params["precision"])}
    if not torch.cuda.is_available():
        for name in GPU_ONLY_ARGUMENTS:
            if settings.pop(name, False):
                log.info("No GPU: ignoring training.%s", name)
        settings["dataloader_pin_memory"] = False
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:  # started by torchrun: one DDP process
        settings.setdefault("ddp_backend", "nccl" if torch.cuda.is_available() else "gloo")
        if not torch.cuda.is_available():  # without use_cpu, accelerate sees no DDP on CPU and each rank trains alone
            settings.setdefault("use_cpu", True)
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
    vocabulary: Vocabulary,
    params: dict,
    extra_callbacks: list | None = None,
    init_model: GPT2LMHeadModel | None = None,
) -> tuple[GPT2LMHeadModel, dict]:
    """Windows → (best GPT-2 on validation loss, training history).

    From scratch, or fine-tuned from ``init_model`` (``starting_model``): every weight with
    ``finetune.method: full``, or LoRA adapters (``with_lora``) merged into the weights before
    returning, so the result is a plain GPT-2 either way. Trainer checkpoints go to
    ``params['trainer_dir']``; with ``resume: true`` training resumes from the latest one there.
    History: per-step train loss and per-epoch validation loss; when fine-tuning, also the
    starting checkpoint's validation loss (``initial_validation_loss``, same measure, before any
    step) and the method. ``extra_callbacks`` (not wired in the pipeline) lets callers add
    ``TrainerCallback``s.
    """
    validate_params(params)
    if params["num_processes"] > 1 or params["launcher_args"]:  # launcher_args: one node of a multi-node run
        return _train_distributed(train_windows, validation_windows, vocabulary, params, init_model)
    set_seed(params["seed"])
    model = starting_model(vocabulary, params, init_model)
    method = params.get("finetune", {"method": "full"})["method"] if init_model is not None else "scratch"
    if method == "lora":
        new_ids = list(range(init_model.get_input_embeddings().num_embeddings, len(vocabulary)))
        model = with_lora(model, new_ids, params["finetune"]["lora"])
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    log.info("GPT-2 with %.2fM parameters (%s; %.2fM trainable)", model.num_parameters() / 1e6, method, trainable / 1e6)
    trainer = Trainer(
        model=model,
        args=training_arguments(params),
        train_dataset=WindowDataset(train_windows),
        eval_dataset=WindowDataset(validation_windows),
        data_collator=PadCollator(vocabulary.pad_id, params["prefix_len"]),
        callbacks=[EarlyStoppingCallback(early_stopping_patience=params["early_stopping_patience"]), *(extra_callbacks or [])],
    )
    checkpoint = get_last_checkpoint(params["trainer_dir"]) if params["resume"] else None
    if params["resume"]:
        log.info("Resuming from %s", checkpoint or "scratch (no checkpoint found)")
    initial = trainer.evaluate()["eval_loss"] if init_model is not None and checkpoint is None else None
    trainer.train(resume_from_checkpoint=checkpoint)
    logs = trainer.state.log_history
    history = {
        "train": [{"step": e["step"], "epoch": e["epoch"], "loss": e["loss"]} for e in logs if "loss" in e],
        "validation": [{"step": e["step"], "epoch": e["epoch"], "loss": e["eval_loss"]} for e in logs if "eval_loss" in e],
        "best_checkpoint": trainer.state.best_model_checkpoint,
        "num_parameters": int(model.num_parameters()),
        "method": method,
        "trainable_parameters": int(trainable),
    }
    if init_model is not None:
        history["started_from"] = str(init_model.name_or_path)
        history["initial_validation_loss"] = initial
        log.info("Validation loss: %.4f at the start, %.4f best", initial or float("nan"), min(e["loss"] for e in history["validation"]))
    trained = trainer.model.merge_and_unload() if method == "lora" else trainer.model
    return trained.cpu(), history


def _train_distributed(train_windows, validation_windows, vocabulary, params, init_model=None) -> tuple[GPT2LMHeadModel, dict]:
    """Run ``train_transformer`` in ``num_processes`` DDP processes via torchrun
    (``models/ddp_worker.py``) and read back this node's model and history (its local rank 0's;
    DDP keeps every replica's weights equal). ``launcher_args`` replace ``--standalone`` for
    multi-node runs: every node runs this with the same ``--nnodes`` and ``--rdzv_endpoint``
    and its own ``--node_rank``, and every node gets the trained model back."""
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        inputs = {"train_windows": train_windows, "validation_windows": validation_windows, "vocabulary": vocabulary, "params": params,
                  "init_model": init_model}
        (workdir / "inputs.pkl").write_bytes(pickle.dumps(inputs))
        launcher = params["launcher_args"] or ["--standalone"]
        command = [sys.executable, "-m", "torch.distributed.run", *launcher, f"--nproc_per_node={params['num_processes']}",
                   "-m", "symbolic_music.models.ddp_worker", str(workdir)]
        log.info("Launching %d DDP processes: %s", params["num_processes"], " ".join(command))
        subprocess.run(command, check=True)
        from symbolic_music.datasets.checkpoints import load_pretrained  # nodes of a multi-node test load in threads

        model = load_pretrained(GPT2LMHeadModel, str(workdir / "model"))
        return model, json.loads((workdir / "history.json").read_text())
