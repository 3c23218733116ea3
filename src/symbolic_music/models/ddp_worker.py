"""One process of a data-parallel (DDP) transformer training run, started by ``torchrun``.

``models.transformer.train_transformer`` writes its inputs to a folder and launches
``python -m torch.distributed.run ... -m symbolic_music.models.ddp_worker <folder>`` when
``transformer_model.num_processes`` > 1. Every process runs the same HF ``Trainer`` (which reads
torchrun's environment and shards the batches; gloo on CPU, nccl on GPU); rank 0 writes the
trained model (``model/``) and the history (``history.json``) back into the folder.
"""

from __future__ import annotations

import json
import os
import pickle
import sys
from pathlib import Path


def main(folder: str) -> None:
    from symbolic_music.models.transformer import train_transformer

    workdir = Path(folder)
    inputs = pickle.loads((workdir / "inputs.pkl").read_bytes())
    params = {**inputs["params"], "num_processes": 1}  # this process is one of the workers
    model, history = train_transformer(inputs["train_windows"], inputs["validation_windows"], inputs["vocabulary"], params,
                                       init_model=inputs.get("init_model"))
    if int(os.environ.get("RANK", "0")) == 0:
        model.save_pretrained(str(workdir / "model"))
        (workdir / "history.json").write_text(json.dumps(history))


if __name__ == "__main__":
    main(sys.argv[1])
