"""evaluation nodes: generated and baseline MIDI + the real note table in; a summary table,
metrics JSON, plots and a Markdown report out. The metrics themselves live in ``music/``."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from symusic import Score
from tqdm.auto import tqdm

from symbolic_music.music import metrics as m
from symbolic_music.music.distribution import (
    inter_set_distances,
    intra_set_distances,
    overlap_and_kl,
    piece_features,
)
from symbolic_music.music.notes import notes_table
from symbolic_music.music.statistics import reference_statistics
from symbolic_music.music.systems import guard_failures, system_of

log = logging.getLogger(__name__)
REFERENCE = "real/test"
MUSPY_METRICS = ["pitch_class_entropy", "scale_consistency", "polyphony", "empty_beat_rate", "groove_consistency"]


def generated_notes(generated_midi: dict[str, Score]) -> pd.DataFrame:
    """``{name: Score}`` → one note table with ``system`` and ``piece_id`` columns."""
    tables = [
        notes_table(score).assign(piece_id=name, system=system_of(name))
        for name, score in tqdm(generated_midi.items(), desc="note tables", unit="piece")
    ]
    return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=["piece_id", "system", "pitch"])


def collect_pieces(generated_midi: dict[str, Score], baseline_midi: dict[str, Score], notes: pd.DataFrame) -> pd.DataFrame:
    """Every piece to compare, as one note table with ``system`` and ``piece_id``: the generated
    and baseline sets, and the real validation and test splits (``real/validation``, ``real/test``)."""
    real = notes[notes["split"].isin(["validation", "test"])]
    real = real.assign(system="real/" + real["split"])[["piece_id", "system", "pitch", "velocity", "start", "end", "step", "duration"]]
    return pd.concat([real, generated_notes({**generated_midi, **baseline_midi})], ignore_index=True)


def _muspy(piece: pd.DataFrame, params: dict) -> dict[str, float]:
    start, end, pitch = piece["start"].to_numpy(), piece["end"].to_numpy(), piece["pitch"].to_numpy()
    beat = params["beat_seconds"]
    return {
        "pitch_class_entropy": m.pitch_class_entropy(pitch),
        "scale_consistency": m.scale_consistency(pitch),
        "polyphony": m.polyphony(start, end, params["polyphony_resolution_seconds"]),
        "empty_beat_rate": m.empty_beat_rate(start, end, beat),
        "groove_consistency": m.groove_consistency(start, beat * params["beats_per_bar"], params["groove_positions"]),
    }


def note_histograms(notes: pd.DataFrame, params: dict) -> dict[str, np.ndarray]:
    pitch = notes["pitch"].to_numpy(np.int64)
    same_piece = notes["piece_id"].to_numpy()[1:] == notes["piece_id"].to_numpy()[:-1]
    intervals = np.clip(np.diff(pitch)[same_piece], -24, 24) + 24
    time_bins = np.array(params["time_bins_seconds"])
    return {
        "pitch": np.bincount(pitch, minlength=128),
        "pitch_class": np.bincount(pitch % 12, minlength=12),
        "interval": np.bincount(intervals, minlength=49),
        "step": np.bincount(np.digitize(notes["step"], time_bins), minlength=len(time_bins) + 1),
        "duration": np.bincount(np.digitize(notes["duration"], time_bins), minlength=len(time_bins) + 1),
    }


ORIGINAL_METRICS = ["notes_per_second", "pitch_range", "pitch_entropy", "melodic_coherence", "step_motion_ratio",
                    "large_leap_ratio", "most_common_pitch_ratio", "overall_quality_score", "overall_similarity"]


def original_piece_metrics(pieces: pd.DataFrame, params: dict) -> pd.DataFrame:
    """One row per piece: ``piece_id``, ``system`` and the original per-piece metrics
    (``music.metrics.piece_metrics``), with similarity measured against the real test split."""
    reference = reference_statistics(pieces[pieces["system"] == REFERENCE])
    rows = [
        {"piece_id": pid, "system": table["system"].iloc[0], **m.piece_metrics(table, reference, params["limits"])}
        for pid, table in pieces.groupby("piece_id", sort=False)
    ]
    return pd.DataFrame(rows)


def evaluate_systems(pieces: pd.DataFrame, params: dict) -> tuple[pd.DataFrame, dict]:
    """Note table of all systems → one row per system (mgeval OA and KL per feature against the
    real test split, their means, MusPy-style means, histogram JS divergences), ranked by mean
    OA; plus the per-feature distance samples' sizes. The ``real/test`` row compares the test
    split's intra-set distances with themselves: OA 1 and KL 0 are the ceiling."""
    groups = dict(tuple(pieces.groupby("piece_id", sort=False)))
    features = {pid: piece_features(table) for pid, table in tqdm(groups.items(), desc="features", unit="piece")}
    muspy = {pid: _muspy(table, params) for pid, table in groups.items()}
    system_of_piece = pieces.drop_duplicates("piece_id").set_index("piece_id")["system"]
    members = {system: list(ids.index) for system, ids in system_of_piece.groupby(system_of_piece)}
    reference_ids = members[REFERENCE]
    feature_names = list(next(iter(features.values())))
    reference_histograms = note_histograms(pieces[pieces["system"] == REFERENCE], params)
    rows = []
    for system, ids in members.items():
        row = {"system": system, "pieces": len(ids), "notes": int((pieces["system"] == system).sum())}
        for feature in feature_names:
            reference = np.stack([features[p][feature] for p in reference_ids])
            intra = intra_set_distances(reference)
            inter = intra if system == REFERENCE else inter_set_distances(np.stack([features[p][feature] for p in ids]), reference)
            row[f"oa_{feature}"], row[f"kl_{feature}"] = overlap_and_kl(intra, inter)
        for metric in MUSPY_METRICS:
            row[metric] = float(np.nanmean([muspy[p][metric] for p in ids]))
        histograms = note_histograms(pieces[pieces["system"] == system], params)
        for name, histogram in histograms.items():
            row[f"js_{name}"] = m.js_divergence(histogram, reference_histograms[name])
        rows.append(row)
    summary = pd.DataFrame(rows)
    originals = original_piece_metrics(pieces, params).groupby("system")[ORIGINAL_METRICS].mean()
    summary = summary.join(originals, on="system")
    oa_columns = [c for c in summary if c.startswith("oa_")]
    summary.insert(3, "mean_oa", summary[oa_columns].mean(axis=1))
    summary.insert(4, "mean_kl", summary[[c for c in summary if c.startswith("kl_")]].mean(axis=1))
    reference_row = summary.set_index("system").loc[REFERENCE]
    for metric in MUSPY_METRICS:
        summary[f"{metric}_abs_diff"] = (summary[metric] - reference_row[metric]).abs()
    summary = summary.sort_values("mean_oa", ascending=False, ignore_index=True)
    summary.insert(0, "rank", np.arange(1, len(summary) + 1))
    return summary, {"features": feature_names, "reference_pieces": len(reference_ids)}


def continuation_metrics(pieces: pd.DataFrame) -> list[dict]:
    """Per continued piece (transformer and LSTM): correlation of the continuation's pitch-class
    histogram with the real continuation's, and the ratio of their note densities (notes/s)."""
    rows = []
    for task in ("continuation", "lstm_continuation"):
        generated = pieces[pieces["system"] == f"{task}/continuation"]
        for piece_id, table in generated.groupby("piece_id"):
            folder = piece_id.rsplit("/", 1)[0]
            reference = pieces[pieces["piece_id"] == f"{folder}/reference"]
            if reference.empty or table.empty:
                continue
            ours, theirs = (np.bincount(t["pitch"] % 12, minlength=12) for t in (table, reference))
            correlation = float(np.corrcoef(ours, theirs)[0, 1]) if ours.std() and theirs.std() else float("nan")
            density = [len(t) / max(float(t["end"].max() - t["start"].min()), 1e-9) for t in (table, reference)]
            rows.append({"task": task, "piece": folder, "pitch_class_correlation": correlation, "note_density_ratio": density[0] / density[1]})
    return rows


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
             "guard": f"FAIL: {failures[system]}" if system in failures else "ok"} for system, f in sets.items()]
    return pd.DataFrame(rows, columns=["system", "grammar_error_share", "notes_per_token", "real_grammar_error_share",
                                       "real_notes_per_token", "guard"])


def evaluate(
    generated_midi: dict[str, Score], baseline_midi: dict[str, Score], notes: pd.DataFrame, generation_manifest: dict,
    transformer_metrics: dict, ngram_metrics: dict, lstm_metrics: dict, params: dict,
) -> tuple[pd.DataFrame, dict, pd.DataFrame]:
    """All generated and baseline pieces + the real notes + model metrics → the summary table
    (one row per system, with the token guard's columns), a metrics JSON (likelihoods,
    continuation metrics, guard) and the note table of every compared piece."""
    pieces = collect_pieces(generated_midi, baseline_midi, notes)
    summary, info = evaluate_systems(pieces, params)
    guard = token_guard(generation_manifest, params)
    summary = summary.merge(guard, on="system", how="left")
    metrics = {
        **info,
        "likelihood": likelihood_table(transformer_metrics, ngram_metrics, lstm_metrics),
        "continuation": continuation_metrics(pieces),
        "ranking": list(summary["system"]),
        "guard": {row.system: row.guard for row in guard.itertuples()},
    }
    return summary, metrics, pieces
