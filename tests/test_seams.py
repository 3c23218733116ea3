"""Clean seams: no pipeline imports another pipeline's modules, and nothing outside ``pipelines/``
imports from it but the registry (what two pipelines share lives in ``models/`` or ``music/``).
``music/`` and ``models/`` import neither Kedro nor the pipelines."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "symbolic_music"


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports, at any depth of the file (functions included)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path, path.relative_to(PACKAGE).parts


def test_no_pipeline_imports_another_pipeline():
    crossings = []
    for path, parts in _modules():
        if parts[0] != "pipelines" or len(parts) < 3:
            continue
        own = f"symbolic_music.pipelines.{parts[1]}"
        crossings += [f"{path.name} ({parts[1]}) imports {name}" for name in _imports(path)
                      if name.startswith("symbolic_music.pipelines.") and not name.startswith(own)]
    assert crossings == []


def test_nothing_outside_pipelines_imports_them_but_the_registry():
    outside = [f"{'/'.join(parts)} imports {name}" for path, parts in _modules() if parts[0] != "pipelines" and parts != ("pipeline_registry.py",)
               for name in _imports(path) if name.startswith("symbolic_music.pipelines")]
    assert outside == []


def test_music_and_models_stay_free_of_kedro():
    bound = [f"{'/'.join(parts)} imports {name}" for path, parts in _modules() if parts[0] in ("music", "models")
             for name in _imports(path) if name.split(".")[0] == "kedro" or name.startswith("symbolic_music.pipelines")]
    assert bound == []
