"""generation nodes: the manifest of everything generated, with the token guard's figures and
the copying check."""

from __future__ import annotations

import numpy as np
import pandas as pd
from symusic import Score

from symbolic_music.music.memorization import copy_report, held_out_pieces
from symbolic_music.music.notes import notes_table
from symbolic_music.music.systems import is_real, system_of, token_figures
from symbolic_music.music.vocabulary import Vocabulary


def real_token_figures(test_tokens: dict[str, list[int]], tokenizer: Vocabulary, transformer_tokenizer: Vocabulary) -> dict:
    """The real test split in the model's tokens: its grammar-error share (0 for real music)
    and notes per token, means over pieces; the yardstick of the generation guard."""
    figures = []
    for base_ids in test_tokens.values():
        ids = transformer_tokenizer.convert(base_ids, tokenizer)
        figures.append((transformer_tokenizer.grammar_error_share(ids), transformer_tokenizer.decode(ids).note_num() / max(len(ids), 1)))
    shares, density = zip(*figures) if figures else ((0.0,), (0.0,))
    return {"pieces": len(figures), "grammar_error_share": float(np.mean(shares)), "notes_per_token": float(np.mean(density))}


def find_copies(unconditioned: dict[str, Score], continued: dict[str, Score], lstm: dict[str, Score], notes: pd.DataFrame, params: dict) -> dict:
    """The copying check (``music.memorization``, settings ``generation.copy_check``) on every
    generated piece: its longest run of notes found verbatim (transposed or not) in the training
    split, where, its copied n-gram share, and whether the run exceeds ``max_copied_notes``;
    beside, the same for real test excerpts as long as a generated piece (the baseline). Real
    parts of Task 2 (prefix, reference) and prefix+continuation files are left out."""
    seconds, settings = params["seconds"], params["copy_check"]
    generated = {name: notes_table(score) for name, score in {**unconditioned, **continued, **lstm}.items()
                 if not is_real(system_of(name)) and not name.endswith("/full")}
    table, real = copy_report(generated, notes[notes["split"] == "train"], held_out_pieces(notes, "test", seconds),
                              settings["ngram"], settings["max_copied_notes"])
    files = {row.piece_id: {"longest_copied_notes": int(row.longest_run_notes), "copied": bool(row.copied),
                            "copied_from": {"piece_id": row.train_piece, "at_seconds": round(float(row.train_start_seconds), 3)}
                            if row.longest_run_notes else None,
                            "at_seconds": round(float(row.piece_start_seconds), 3) if row.longest_run_notes else None,
                            "copied_ngram_share": round(float(row.copied_ngram_share), 4)} for row in table.itertuples()}
    runs = real["longest_run_notes"]
    return {"max_copied_notes": settings["max_copied_notes"], "ngram": settings["ngram"], "real_test_excerpts": len(real),
            "real_test_longest_runs": {"median": float(runs.median()), "p99": float(np.percentile(runs, 99)) if len(runs) else None,
                                       "max": int(runs.max()) if len(runs) else None, "copied_share": float(real["copied"].mean()) if len(real) else None},
            "copied_files": sorted(name for name, entry in files.items() if entry["copied"]), "files": files}


def merge_generated(
    unconditioned: dict[str, Score], continued: dict[str, Score], lstm: dict[str, Score],
    unconditioned_manifest: dict, continued_manifest: dict, lstm_manifest: dict, real_test_figures: dict, copies: dict,
) -> tuple[dict[str, Score], dict]:
    """Transformer Task 1 and Task 2 and LSTM outputs → one MIDI folder and one manifest. The
    manifest's ``sets`` give each transformer set's mean grammar-error share and notes per
    token, beside ``real_test``'s; every generated file carries its copying check, and
    ``copying`` names the files that copy."""
    manifests = (unconditioned_manifest, continued_manifest, lstm_manifest)
    files = {name: entry for m in manifests for name, entry in m["files"].items()}
    for name, check in copies["files"].items():
        files[name]["copying"] = check
    manifest = {
        "real_test": real_test_figures,
        "sets": token_figures(files),
        "copying": {key: value for key, value in copies.items() if key != "files"},
        "files": files,
        "skipped_short_pieces": continued_manifest["skipped_short_pieces"],
    }
    return {**unconditioned, **continued, **lstm}, manifest
