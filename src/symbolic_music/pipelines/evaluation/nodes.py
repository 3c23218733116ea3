"""evaluation nodes: generated and baseline MIDI + the real note table in; a summary table,
metrics JSON and the excerpts' notes out. The measurements live in ``music/``.

Every set is cut into excerpts of one length (``music.excerpts``) and compared with excerpts of
the real test split (the reference). Real validation excerpts are the ceiling, random notes the
floor, and every figure has a bootstrap interval over pieces (``music.comparison``).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from symusic import Score
from tqdm.auto import tqdm

from symbolic_music.music.comparison import Excerpts, compare
from symbolic_music.music.continuation_fit import continuation_fit, summarize_fit
from symbolic_music.music.excerpts import cut_excerpts
from symbolic_music.music.notes import notes_table
from symbolic_music.music.statistics import reference_statistics
from symbolic_music.music.systems import TASK2, guard_failures, is_real, system_of

log = logging.getLogger(__name__)
REFERENCE, CEILING, FLOOR = "real/test", "real/validation", "random"
NOTE_COLUMNS = ["piece_id", "system", "pitch", "velocity", "start", "end", "step", "duration"]


def collect_pieces(generated_midi: dict[str, Score], baseline_midi: dict[str, Score], notes: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Every piece to compare as one note table (``piece_id``, ``system``, notes in seconds), and
    each piece's length in seconds: the generated and baseline sets, and the real validation
    and test splits. Task 2 prefixes and prefix+continuation files are left out: the prefix is
    shorter than an excerpt and real, and ``full`` mixes both."""
    real = notes[notes["split"].isin(["validation", "test"])]
    real = real.assign(system="real/" + real["split"])[NOTE_COLUMNS]
    lengths = real.groupby("piece_id", sort=False)["end"].max().to_dict()
    tables = [real]
    for name, score in tqdm({**generated_midi, **baseline_midi}.items(), desc="note tables", unit="piece"):
        if name.split("/", 1)[0] in TASK2 and name.rsplit("/", 1)[1] in ("prefix", "full"):
            continue
        tables.append(notes_table(score).assign(piece_id=name, system=system_of(name))[NOTE_COLUMNS])
        lengths[name] = float(score.to("second").end())
    return pd.concat(tables, ignore_index=True), lengths


def measure_excerpts(pieces: pd.DataFrame, lengths: dict, seconds: float, params: dict) -> tuple[pd.DataFrame, Excerpts]:
    """Cut every piece into excerpts of ``seconds`` and measure them (similarity to the real test
    split's note statistics). Returns the excerpts' notes and their measurements."""
    excerpt_notes, index = cut_excerpts(pieces, lengths, seconds)
    system_of_piece = pieces.drop_duplicates("piece_id").set_index("piece_id")["system"].to_dict()
    index["system"] = [system_of_piece.get(piece, system_of(piece)) for piece in index["piece_id"]]
    reference = reference_statistics(excerpt_notes[excerpt_notes["system"] == REFERENCE])
    return excerpt_notes, Excerpts.measure(excerpt_notes, index, reference, params)


def compare_systems(excerpts: Excerpts, params: dict, seed: int) -> pd.DataFrame:
    """One row per set but the reference: counts, and every figure of ``music.comparison.compare``."""
    rng = np.random.default_rng(seed)
    bootstrap = params["bootstrap"]
    rows = []
    for system, group in excerpts.index.groupby("system", sort=True):
        if system == REFERENCE:
            continue
        counts = {"system": system, "pieces": group["piece_id"].nunique(), "excerpts": len(group), "short_excerpts": int(group["short"].sum())}
        rows.append({**counts, **compare(excerpts, system, REFERENCE, bootstrap["resamples"], bootstrap["level"], rng)})
    return pd.DataFrame(rows)


def rank_systems(summary: pd.DataFrame, params: dict) -> pd.DataFrame:
    """Rank the sets with enough excerpts and pieces by mean OA; the others get no rank and a
    note with their counts. ``vs_ceiling``/``vs_floor`` say whether a set's interval overlaps
    the ceiling's (real validation) and lies above the floor's (random notes)."""
    enough = (summary["excerpts"] >= params["min_excerpts"]) & (summary["pieces"] >= params["min_pieces"])
    summary = summary.assign(note=np.where(enough, "", "too few to rank: " + summary["pieces"].astype(str) + " pieces, "
                                           + summary["excerpts"].astype(str) + " excerpts"))
    ranked = summary[enough].sort_values("mean_oa", ascending=False)
    summary["rank"] = pd.Series(np.arange(1, len(ranked) + 1), index=ranked.index)
    s = summary.set_index("system")

    def overlaps(system: str, other: str) -> bool:
        return bool(s.loc[system, "mean_oa_low"] <= s.loc[other, "mean_oa_high"] and s.loc[other, "mean_oa_low"] <= s.loc[system, "mean_oa_high"])

    if CEILING in s.index:
        summary["vs_ceiling"] = [("ceiling" if x == CEILING else "within noise" if overlaps(x, CEILING)
                                  else "below" if s.loc[x, "mean_oa"] < s.loc[CEILING, "mean_oa"] else "above") for x in summary["system"]]
    if FLOOR in s.index:
        summary["vs_floor"] = [("floor" if x == FLOOR else "above" if s.loc[x, "mean_oa_low"] > s.loc[FLOOR, "mean_oa_high"]
                                else "within noise" if overlaps(x, FLOOR) else "below") for x in summary["system"]]
    first = ["rank", "system", "pieces", "excerpts", "short_excerpts", "mean_oa", "mean_oa_low", "mean_oa_high"]
    return summary.sort_values(["rank", "system"], na_position="last")[first + [c for c in summary if c not in first]].reset_index(drop=True)


def task2_fits(pieces: pd.DataFrame, generated_midi: dict[str, Score], params: dict) -> pd.DataFrame:
    """Task 2 against its own ceiling: per continued piece, the fit of the generated
    continuation and of the real one to the same prefix (``music.continuation_fit``), means and
    intervals over pieces."""
    by_piece = dict(tuple(pieces.groupby("piece_id", sort=False)))
    rows = []
    for name, score in generated_midi.items():
        task, *_, part = name.split("/")
        if task not in TASK2 or part != "prefix":
            continue
        folder = name.rsplit("/", 1)[0]
        prefix = notes_table(score)
        for after in ("continuation", "reference"):
            if f"{folder}/{after}" in by_piece:
                rows.append({"task": task, "piece": folder, "part": after, **continuation_fit(prefix, by_piece[f"{folder}/{after}"])})
    if not rows:
        return pd.DataFrame()
    bootstrap = params["bootstrap"]
    return summarize_fit(pd.DataFrame(rows), bootstrap["resamples"], bootstrap["level"], np.random.default_rng(bootstrap["seed"]))


def likelihood_table(transformer_metrics: dict, ngram_metrics: dict, lstm_metrics: dict) -> list[dict]:
    """Test bits per note of every model that reports one, in one list (lower is better)."""
    return [
        {"model": "transformer", "bits_per_note": transformer_metrics["transformer"]["bits_per_note"], "over": "all tokens"},
        {"model": "token unigram (transformer's tokens)", "bits_per_note": transformer_metrics["unigram"]["bits_per_note"], "over": "all tokens"},
        {"model": f"{ngram_metrics['ngram']['order']}-gram", "bits_per_note": ngram_metrics["ngram"]["bits_per_note"], "over": "all tokens"},
        {"model": "token unigram (n-gram's tokens)", "bits_per_note": ngram_metrics["unigram"]["bits_per_note"], "over": "all tokens"},
        {"model": "lstm", "bits_per_note": lstm_metrics["lstm"]["pitch_bits_per_note"], "over": "pitch only"},
        {"model": "pitch unigram", "bits_per_note": lstm_metrics["pitch_unigram"]["pitch_bits_per_note"], "over": "pitch only"},
    ]


def token_guard(generation_manifest: dict, params: dict) -> pd.DataFrame:
    """The manifest's token figures per transformer set beside the real test split's, and the
    guard's verdict: a set fails with a grammar-error share above
    ``evaluation.max_grammar_error_share`` or notes per token below half of real music's. Each
    failure is logged as a warning."""
    sets, real = generation_manifest["sets"], generation_manifest["real_test"]
    failures = guard_failures(sets, real, params["max_grammar_error_share"])
    for system, reason in failures.items():
        log.warning("Generated set %s is not music yet: %s", system, reason)
    rows = [{"system": system, "grammar_error_share": f["grammar_error_share"], "notes_per_token": f["notes_per_token"],
             "real_grammar_error_share": real["grammar_error_share"], "real_notes_per_token": real["notes_per_token"],
             "guard": f"FAIL: {failures[system]}" if system in failures else "ok"} for system, f in sets.items() if not is_real(system)]
    return pd.DataFrame(rows, columns=["system", "grammar_error_share", "notes_per_token", "real_grammar_error_share",
                                       "real_notes_per_token", "guard"])


def evaluate(
    generated_midi: dict[str, Score], baseline_midi: dict[str, Score], notes: pd.DataFrame, generation_manifest: dict,
    transformer_metrics: dict, ngram_metrics: dict, lstm_metrics: dict, params: dict,
) -> tuple[pd.DataFrame, dict, pd.DataFrame]:
    """All sets + the real notes + model metrics → the summary (one row per set at the main
    excerpt length, with the robustness length's mean OA beside it, and the token guard), a
    metrics JSON (likelihoods, Task 2 fits, guard, counts) and the excerpts' notes."""
    pieces, lengths = collect_pieces(generated_midi, baseline_midi, notes)
    seed = params["bootstrap"]["seed"]
    excerpt_notes, excerpts = measure_excerpts(pieces, lengths, params["excerpt_seconds"], params)
    summary = compare_systems(excerpts, params, seed)
    _, robust = measure_excerpts(pieces, lengths, params["robustness_excerpt_seconds"], params)
    at = f"at_{params['robustness_excerpt_seconds']:g}s"
    robust_summary = compare_systems(robust, params, seed).rename(columns={
        "excerpts": f"excerpts_{at}", "mean_oa": f"mean_oa_{at}", "mean_oa_low": f"mean_oa_{at}_low", "mean_oa_high": f"mean_oa_{at}_high"})
    summary = summary.merge(robust_summary[["system", f"excerpts_{at}", f"mean_oa_{at}", f"mean_oa_{at}_low", f"mean_oa_{at}_high"]],
                            on="system", how="left")
    summary = rank_systems(summary, params).merge(token_guard(generation_manifest, params), on="system", how="left")
    reference = excerpts.index[excerpts.index["system"] == REFERENCE]
    fits = task2_fits(pieces, generated_midi, params)
    metrics = {
        "excerpt_seconds": params["excerpt_seconds"],
        "robustness_excerpt_seconds": params["robustness_excerpt_seconds"],
        "reference": {"system": REFERENCE, "pieces": int(reference["piece_id"].nunique()), "excerpts": len(reference)},
        "likelihood": likelihood_table(transformer_metrics, ngram_metrics, lstm_metrics),
        "continuation_fit": fits.to_dict(orient="records"),
        "ranking": [s for s in summary.dropna(subset=["rank"])["system"]],
        "guard": {row.system: row.guard for row in summary.dropna(subset=["guard"]).itertuples()},
    }
    return summary, metrics, excerpt_notes
