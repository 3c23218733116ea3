"""Where fine-tuning starts: an ``init_from`` parameter → the catalog datasets of a trained checkpoint.

``transformer_model.init_from`` and ``lstm_model.init_from`` name a trained checkpoint:

- ``null``: train from scratch; the init datasets load ``None``;
- a path (relative to the project): a versioned checkpoint folder (``data/06_models/transformer``,
  meaning its latest version), one of its versions (``…/transformer/2025-01-01T10.00.00.000Z``) or
  the artefact inside a version (``…/2025-01-01T10.00.00.000Z/transformer``);
- ``{env: <environment>}``: the latest checkpoint in that environment's catalog, i.e. what
  ``kedro run --env=<environment>`` last wrote (``base`` is conf/base alone, ``local`` adds conf/local).

catalog.yml declares the init datasets (``InitCheckpointDataset``: which entry each is a
checkpoint of, which parameter chooses it, and ``same_run_as``: the transformer's vocabulary is
the ``transformer_tokenizer`` version of the transformer's timestamp, since Kedro saves every
output of a run under one version, so a model is never paired with the ids of another run).
``hooks.InitCheckpoints`` resolves them when the run's catalog is made (``resolve_init_datasets``);
the nodes receive what they load and never open a file.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kedro.io import AbstractDataset, DatasetError
from kedro.io.core import VersionNotFoundError

VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}\.\d{2}\.\d{2}\.\d{3}Z$")  # Kedro's version folder names


def validate_init_from(init_from: Any, parameter: str) -> None:
    """Raise ``ValueError`` naming ``parameter`` unless ``init_from`` is null, a path or ``{env: name}``."""
    if init_from is None or (isinstance(init_from, str) and init_from):
        return
    if isinstance(init_from, dict) and set(init_from) == {"env"} and isinstance(init_from["env"], str) and init_from["env"]:
        return
    raise ValueError(f"{parameter} must be null, a path to a trained checkpoint or {{env: <environment>}}, got {init_from!r}")


def split_version(path: Path) -> tuple[Path, str | None]:
    """A checkpoint path → (the versioned folder, the version or ``None`` for its latest).

    ``…/transformer`` → (it, None); ``…/transformer/<version>`` and
    ``…/transformer/<version>/transformer`` → (``…/transformer``, ``<version>``).
    """
    if VERSION.match(path.name):
        return path.parent, path.name
    if VERSION.match(path.parent.name) and path.name == path.parent.parent.name:
        return path.parent.parent, path.parent.name
    return path, None


def _absolute(config: dict, project_path: Path) -> dict:
    filepath = config.get("filepath")
    if filepath is None or "://" in str(filepath) or Path(filepath).is_absolute():
        return config
    return {**config, "filepath": str(project_path / filepath)}


def _entry(catalog_config: dict, entry: str, where: str) -> dict:
    if entry not in catalog_config:
        raise ValueError(f"{where} has no catalog entry '{entry}' to start from")
    return catalog_config[entry]


def checkpoint_datasets(
    init_from: Any,
    parameter: str,
    entries: list[str],
    catalog_config: dict,
    project_path: Path,
    env_catalog: Callable[[str], dict],
    save_version: str | None = None,
) -> dict[str, AbstractDataset | None]:
    """``{entry: dataset}`` loading the checkpoint ``init_from`` names, one per catalog entry in
    ``entries`` (e.g. ``["transformer", "transformer_tokenizer"]``), each of its entry's type;
    ``None`` for each when ``init_from`` is null.

    ``catalog_config`` is the running environment's catalog configuration (a path is read with
    its entries' types); ``env_catalog(name)`` returns another environment's. The first entry's
    version is resolved now (its latest unless the path names one) and the others are pinned
    to it: they come from the same run. ``ValueError`` names ``parameter`` when the folder, the
    environment or a version is missing. ``save_version`` is the run's (Kedro requires one per
    catalog; these datasets are never saved).
    """
    validate_init_from(init_from, parameter)
    if init_from is None:
        return dict.fromkeys(entries)
    if isinstance(init_from, dict):
        where = f"environment '{init_from['env']}' ({parameter}.env)"
        source = env_catalog(init_from["env"])
        configs = {entry: _absolute(_entry(source, entry, where), project_path) for entry in entries}
        version = None
    else:
        folder, version = split_version(Path(init_from) if Path(init_from).is_absolute() else project_path / init_from)
        if not folder.exists():
            raise ValueError(f"{parameter}: no checkpoint at '{init_from}' ({folder} does not exist)")
        where = f"'{init_from}' ({parameter})"
        first = entries[0]
        configs = {first: {**_entry(catalog_config, first, "this environment"), "filepath": str(folder)}}
        for entry in entries[1:]:  # beside the checkpoint folder, named as in this environment's catalog
            name = Path(_entry(catalog_config, entry, "this environment")["filepath"]).name
            configs[entry] = {**catalog_config[entry], "filepath": str(folder.parent / name)}
    datasets: dict[str, AbstractDataset] = {}
    for entry in entries:
        config = {**configs[entry], "versioned": True}
        pinned = datasets[entries[0]].resolve_load_version() if datasets else version
        dataset = AbstractDataset.from_config(f"init_{entry}", config, load_version=pinned, save_version=save_version)
        try:
            resolved = dataset.resolve_load_version()
        except VersionNotFoundError:
            raise ValueError(f"{parameter}: {where} holds no trained '{entry}' in {config['filepath']}; train it first") from None
        if not dataset.exists():
            pairing = f" from the same run as '{entries[0]}'" if datasets else ""
            raise ValueError(f"{parameter}: {where} has no '{entry}' version {resolved}{pairing} in {config['filepath']}")
        datasets[entry] = dataset
    return datasets


class InitCheckpointDataset(AbstractDataset[None, Any]):
    """Read-only: the trained checkpoint fine-tuning starts from, a version of the catalog entry
    ``entry`` chosen by the parameter ``parameter`` (e.g. ``transformer_model.init_from``).

    ``same_run_as`` names another entry whose chosen version this one shares (the vocabulary of
    a model). ``hooks.InitCheckpoints`` points it at that version when the run's catalog is made
    (``use``); until then, and when the parameter is null, it loads ``None``: from scratch.
    """

    def __init__(self, entry: str, parameter: str, same_run_as: str | None = None, metadata: dict[str, Any] | None = None) -> None:
        self.entry, self.parameter, self.same_run_as = entry, parameter, same_run_as
        self.metadata = metadata
        self._source: AbstractDataset | None = None

    def use(self, source: AbstractDataset | None) -> None:
        self._source = source

    def load(self) -> Any:
        return None if self._source is None else self._source.load()

    def save(self, data: Any) -> None:
        raise DatasetError(f"{type(self).__name__} is read-only: it loads the checkpoint {self.parameter} names")

    def _describe(self) -> dict[str, Any]:
        return {"entry": self.entry, "parameter": self.parameter, "source": str(self._source) if self._source else "none: from scratch"}


def resolve_init_datasets(
    datasets: dict[str, InitCheckpointDataset],
    parameters: dict,
    catalog_config: dict,
    project_path: Path,
    env_catalog: Callable[[str], dict],
    save_version: str | None = None,
) -> dict[str, AbstractDataset | None]:
    """``{init dataset name: the dataset it loads, or None}`` for the ``InitCheckpointDataset``s
    of a catalog, each from the value of its ``parameter`` (``"<group>.<key>"``) in ``parameters``
    (see ``checkpoint_datasets``); a dataset with ``same_run_as`` shares that entry's version."""
    sources = {}
    by_parameter: dict[str, list[str]] = {}
    for name, dataset in datasets.items():
        by_parameter.setdefault(dataset.parameter, []).append(name)
    for parameter, names in by_parameter.items():
        names.sort(key=lambda n: datasets[n].same_run_as is not None)  # the entry others are paired with first
        group, key = parameter.split(".", 1)
        entries = [datasets[n].entry for n in names]
        unpaired = [datasets[n].same_run_as for n in names if datasets[n].same_run_as not in (None, entries[0])]
        if unpaired:
            raise ValueError(f"init datasets of {parameter}: same_run_as must name '{entries[0]}', got {unpaired}")
        resolved = checkpoint_datasets(parameters.get(group, {}).get(key), parameter, entries, catalog_config, project_path,
                                       env_catalog, save_version)
        sources.update({name: resolved[datasets[name].entry] for name in names})
    return sources
