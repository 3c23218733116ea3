"""Model checkpoints: a Hugging Face ``save_pretrained`` folder, and a torch state dict + config."""

from __future__ import annotations

import importlib
import threading
from pathlib import Path
from typing import Any

import torch

from symbolic_music.datasets._artifact import ArtifactDataset

# transformers' from_pretrained switches process-wide state while it loads (meta device, weight
# init and tying flags): two loads in two threads at once leave both models with untied, meta
# lm_head weights, and every model built later in the process untied too. One load at a time.
_LOADING = threading.Lock()


def load_pretrained(model_class, path: str):
    """``model_class.from_pretrained(path)`` from local files, one load per process at a time."""
    with _LOADING:
        return model_class.from_pretrained(path, local_files_only=True)


class HFCheckpointDataset(ArtifactDataset):
    """A transformers model folder (``config.json`` + safetensors weights).

    ``model_class`` is the import path of the class used to load it, by default
    ``transformers.GPT2LMHeadModel``. Loading never touches the network.
    """

    def __init__(self, filepath: str, model_class: str = "transformers.GPT2LMHeadModel", **kwargs: Any):
        super().__init__(filepath, **kwargs)
        module_name, class_name = model_class.rsplit(".", 1)
        self._model_class = getattr(importlib.import_module(module_name), class_name)

    def _read(self, path: Path):
        return load_pretrained(self._model_class, str(path))

    def _write(self, data, path: Path) -> None:
        data.save_pretrained(str(path))

    def _describe(self) -> dict[str, Any]:
        return {**super()._describe(), "model_class": self._model_class.__name__}


class TorchCheckpointDataset(ArtifactDataset):
    """A ``{"config": dict, "state_dict": dict[str, Tensor]}`` checkpoint saved by ``torch.save``.

    Loaded with ``weights_only=True``: the config must hold plain Python values only.
    """

    def _read(self, path: Path) -> dict[str, Any]:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
        if set(checkpoint) != {"config", "state_dict"}:
            raise ValueError(f"{path}: expected keys 'config' and 'state_dict', got {sorted(checkpoint)}")
        return checkpoint

    def _write(self, data: dict[str, Any], path: Path) -> None:
        if set(data) != {"config", "state_dict"}:
            raise ValueError(f"checkpoint must have keys 'config' and 'state_dict', got {sorted(data)}")
        torch.save(data, path)
