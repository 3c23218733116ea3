"""A multi-node launch on one machine: two single-process torchrun "nodes" (``--nnodes=2``,
``--node_rank=0`` and ``1``, c10d rendezvous on 127.0.0.1, gloo on CPU) train one tiny model."""

from __future__ import annotations

import copy
import socket
import threading

import torch

from symbolic_music.models.likelihood import model_nll
from symbolic_music.models.transformer import train_transformer
from symbolic_music.pipelines.transformer_model.nodes import encode_sequences, make_windows, prepare_transformer_tokenizer


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _node_launcher(node_rank: int, port: int) -> list[str]:
    """The torchrun flags of one node: the same on both but ``--node_rank``."""
    return ["--nnodes=2", f"--node_rank={node_rank}", "--rdzv_backend=c10d", f"--rdzv_endpoint=127.0.0.1:{port}",
            "--rdzv_id=multi-node-test", "--local_addr=127.0.0.1"]


def test_two_nodes_train_one_model_like_a_single_process_with_both_batches(engineered, params, tmp_path):
    p = copy.deepcopy(params["transformer_model"])
    p["training"].update(num_train_epochs=2, warmup_steps=0, per_device_train_batch_size=4, logging_steps=1)
    p["early_stopping_patience"] = 5
    vocabulary = prepare_transformer_tokenizer(engineered["tokenizer"], engineered["pieces"], engineered["train_tokens"], None, p)
    train, validation, _, _ = encode_sequences(engineered["train_tokens"], engineered["validation_tokens"], engineered["test_tokens"],
                                               engineered["tokenizer"], vocabulary, engineered["pieces"], p)
    train_windows, validation_windows, _ = make_windows(train, validation, vocabulary, p)

    # every node runs the same training call with its own --node_rank; trainer_dir stands for a shared filesystem
    port, results = _free_port(), {}

    def node(rank: int) -> None:
        node_params = {**p, "num_processes": 1, "launcher_args": _node_launcher(rank, port), "trainer_dir": str(tmp_path / "shared")}
        results[rank] = train_transformer(train_windows, validation_windows, vocabulary, node_params)

    threads = [threading.Thread(target=node, args=(rank,)) for rank in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert set(results) == {0, 1}, "a node did not finish"

    # both ranks trained: one run of world size 2, each rank taking half the windows per step
    steps_per_epoch = -(-(-(-len(train_windows) // 2)) // p["training"]["per_device_train_batch_size"])
    for _, history in results.values():
        assert history["world_size"] == 2
        assert history["train"][-1]["step"] == 2 * steps_per_epoch and len(history["validation"]) == 2
    # c10d numbers the nodes in the order they join (--node_rank counts only for a static rendezvous)
    assert {history["node_rank"] for _, history in results.values()} == {0, 1}
    for (name, a), (_, b) in zip(results[0][0].state_dict().items(), results[1][0].state_dict().items()):
        assert torch.equal(a, b), name  # DDP kept the two replicas identical

    # one process with the two nodes' batch together sees the same number of windows per step
    single_params = {**p, "trainer_dir": str(tmp_path / "single")}
    single_params["training"] = {**p["training"], "per_device_train_batch_size": 2 * p["training"]["per_device_train_batch_size"]}
    single, single_history = train_transformer(train_windows, validation_windows, vocabulary, single_params)
    assert single_history["train"][-1]["step"] == 2 * -(-len(train_windows) // (2 * p["training"]["per_device_train_batch_size"]))
    losses = {}
    for name, model in (("two nodes", results[0][0]), ("single", single)):
        total, count = model_nll(model, validation_windows, vocabulary.pad_id, 8, context=1)
        losses[name] = total / count
    assert abs(losses["two nodes"] - losses["single"]) < 0.02 * losses["single"], losses
