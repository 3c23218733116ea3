"""Generated sets ("systems"): which set a generated file belongs to, and the token figures that
tell music from garbage (no Kedro imports)."""

from __future__ import annotations

import numpy as np

TASK2 = ("continuation", "lstm_continuation")
REAL_PARTS = ("prefix", "reference")  # Task 2 files holding real music, kept beside the generated ones


def system_of(name: str) -> str:
    """The set a file belongs to: its path without the file name
    (``unconditioned/balanced/sample_000`` → ``unconditioned/balanced``); Task 2 files group by
    part across pieces (``continuation/<piece>/reference`` → ``continuation/reference``)."""
    task = name.split("/", 1)[0]
    if task in TASK2:
        return f"{task}/{name.rsplit('/', 1)[1]}"
    return name.rsplit("/", 1)[0] if "/" in name else "generated"


def is_real(system: str) -> bool:
    """Whether a set holds real music (the real splits, Task 2 prefixes and references)."""
    return system.startswith("real/") or system.endswith(tuple(f"/{part}" for part in REAL_PARTS))


def token_figures(files: dict[str, dict]) -> dict[str, dict]:
    """Per set of files with token figures (the transformer's): how many files, and the mean
    grammar-error share and notes per token."""
    by_set: dict[str, list[dict]] = {}
    for name, entry in files.items():
        if "grammar_error_share" in entry:
            by_set.setdefault(system_of(name), []).append(entry)
    return {
        system: {
            "files": len(entries),
            "grammar_error_share": float(np.mean([e["grammar_error_share"] for e in entries])),
            "notes_per_token": float(np.mean([e["notes_per_token"] for e in entries])),
        }
        for system, entries in sorted(by_set.items())
    }


def guard_failures(sets: dict[str, dict], real: dict, max_grammar_error_share: float) -> dict[str, str]:
    """Generated sets that are not music yet, with the reason: a mean grammar-error share above
    ``max_grammar_error_share``, or notes per token below half of real music's."""
    failures = {}
    for system, figures in sets.items():
        if is_real(system):
            continue
        reasons = []
        if figures["grammar_error_share"] > max_grammar_error_share:
            reasons.append(f"grammar-error share {figures['grammar_error_share']:.3f} > {max_grammar_error_share} "
                           f"(real test music: {real['grammar_error_share']:.3f})")
        if figures["notes_per_token"] < real["notes_per_token"] / 2:
            reasons.append(f"{figures['notes_per_token']:.3f} notes per token < half of real music's {real['notes_per_token']:.3f}")
        if reasons:
            failures[system] = "; ".join(reasons)
    return failures
