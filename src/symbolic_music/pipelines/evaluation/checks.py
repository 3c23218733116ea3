"""evaluation nodes: is it new (the copying check), does it obey (composer accuracy), and does it
drift over length. The measurements live in ``music/`` and ``models/``."""

from __future__ import annotations

import numpy as np
import pandas as pd
from symusic import Score

from symbolic_music.music.memorization import copy_report, held_out_pieces
from symbolic_music.music.notes import notes_table
from symbolic_music.music.systems import is_real, system_of


def memorization_summary(generated_midi: dict[str, Score], baseline_midi: dict[str, Score], notes: pd.DataFrame, generation_params: dict) -> pd.DataFrame:
    """Per set (generated, baselines, and real test excerpts as long as a generated piece, the
    baseline): pieces, median and largest longest verbatim run in notes, how many copy (run above
    ``copy_check.max_copied_notes``) and the mean share of copied n-grams."""
    settings = generation_params["copy_check"]
    pieces = {name: notes_table(score) for name, score in {**generated_midi, **baseline_midi}.items()
              if not is_real(system_of(name)) and not name.endswith("/full")}
    table, real = copy_report(pieces, notes[notes["split"] == "train"], held_out_pieces(notes, "test", generation_params["seconds"]),
                              settings["ngram"], settings["max_copied_notes"])
    table["system"] = table["piece_id"].map(system_of)
    real["system"] = "real/test (baseline)"
    rows = []
    for system, group in pd.concat([real, table]).groupby("system", sort=False):
        worst = group.loc[group["longest_run_notes"].idxmax()] if len(group) else None
        rows.append({"system": system, "pieces": len(group), "median_longest_run": float(group["longest_run_notes"].median()),
                     "max_longest_run": int(group["longest_run_notes"].max()), "copying_pieces": int(group["copied"].sum()),
                     "mean_copied_ngram_share": float(group["copied_ngram_share"].mean()),
                     "worst": f"{worst['piece_id']} copies {worst['train_piece']} at {worst['train_start_seconds']:.1f} s"
                     if worst is not None and worst["copied"] else ""})
    return pd.DataFrame(rows).assign(max_copied_notes=settings["max_copied_notes"]).replace({np.nan: None})
