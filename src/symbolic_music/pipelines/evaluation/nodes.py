"""evaluation nodes: generated and baseline MIDI + the real note table in; a summary table,
metrics JSON, plots and a Markdown report out. The metrics themselves live in ``music/``."""

from __future__ import annotations

import matplotlib.pyplot as plt
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
from symbolic_music.music.statistics import PITCH_CLASS_NAMES, reference_statistics

REFERENCE = "real/test"
MUSPY_METRICS = ["pitch_class_entropy", "scale_consistency", "polyphony", "empty_beat_rate", "groove_consistency"]


def system_of(name: str) -> str:
    """The generated set a file belongs to: its path without the file name
    (``unconditioned/balanced/sample_000`` → ``unconditioned/balanced``); Task 2 files group by
    part across pieces (``continuation/<piece>/reference`` → ``continuation/reference``)."""
    task = name.split("/", 1)[0]
    if task in ("continuation", "lstm_continuation"):
        return f"{task}/{name.rsplit('/', 1)[1]}"
    return name.rsplit("/", 1)[0] if "/" in name else "generated"


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


def _histograms(notes: pd.DataFrame, params: dict) -> dict[str, np.ndarray]:
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
    reference_histograms = _histograms(pieces[pieces["system"] == REFERENCE], params)
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
        histograms = _histograms(pieces[pieces["system"] == system], params)
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


def evaluate(
    generated_midi: dict[str, Score], baseline_midi: dict[str, Score], notes: pd.DataFrame,
    transformer_metrics: dict, ngram_metrics: dict, lstm_metrics: dict, params: dict,
) -> tuple[pd.DataFrame, dict, pd.DataFrame]:
    """All generated and baseline pieces + the real notes + model metrics → the summary table
    (one row per system), a metrics JSON (likelihoods, continuation metrics) and the note table
    of every compared piece."""
    pieces = collect_pieces(generated_midi, baseline_midi, notes)
    summary, info = evaluate_systems(pieces, params)
    metrics = {
        **info,
        "likelihood": likelihood_table(transformer_metrics, ngram_metrics, lstm_metrics),
        "continuation": continuation_metrics(pieces),
        "ranking": list(summary["system"]),
    }
    return summary, metrics, pieces


def plot_overlap_areas(evaluation_summary: pd.DataFrame) -> plt.Figure:
    """Summary → grouped bars of OA per feature, one bar per system (higher is better)."""
    oa = evaluation_summary.set_index("system")[[c for c in evaluation_summary if c.startswith("oa_")]]
    oa.columns = [c.removeprefix("oa_").replace("_", " ") for c in oa.columns]
    fig, ax = plt.subplots(figsize=(14, 6), dpi=100)
    oa.T.plot.bar(ax=ax, width=0.85, legend=False)
    ax.set(ylabel="overlap area with the real test split", title="mgeval overlap area per feature (1 = real test split)")
    ax.legend(fontsize="x-small", ncol=2, bbox_to_anchor=(1.01, 1), loc="upper left")
    fig.tight_layout()
    return fig


def plot_histograms(evaluation_pieces: pd.DataFrame, params: dict) -> plt.Figure:
    """Note table → pitch-class and interval histograms of every system over the real test split's."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(14, 5), dpi=100)
    for system, table in evaluation_pieces.groupby("system"):
        histograms = _histograms(table, params)
        style = {"linewidth": 3, "color": "black"} if system == REFERENCE else {"linewidth": 1, "alpha": 0.6}
        left.plot(PITCH_CLASS_NAMES, histograms["pitch_class"] / histograms["pitch_class"].sum(), label=system, **style)
        right.plot(np.arange(-24, 25), histograms["interval"] / max(histograms["interval"].sum(), 1), label=system, **style)
    left.set(title="pitch classes", ylabel="share of notes")
    right.set(title="melodic intervals (semitones)", xlim=(-12, 12))
    right.legend(fontsize="xx-small", ncol=2, bbox_to_anchor=(1.01, 1), loc="upper left")
    fig.tight_layout()
    return fig


def plot_system_panels(evaluation_pieces: pd.DataFrame, params: dict) -> dict[str, plt.Figure]:
    """Note table → the original 12-panel figure per system (``<system>.png``), each panel the
    system's distribution (bars) over the real test split's (black line): pitch, pitch class,
    interval, step, duration and velocity (all from the MIDI), then per-piece notes/s, pitch
    range, pitch entropy, melodic coherence, quality score and similarity."""
    per_piece = original_piece_metrics(evaluation_pieces, params)
    reference_notes = evaluation_pieces[evaluation_pieces["system"] == REFERENCE]
    reference_pieces = per_piece[per_piece["system"] == REFERENCE]
    note_panels = [("pitch", np.arange(20, 110, 2)), ("pitch_class", np.arange(13) - 0.5), ("interval", np.arange(-13, 14) - 0.5),
                   ("step", np.linspace(0, 2, 41)), ("duration", np.linspace(0, 3, 41)), ("velocity", np.arange(0, 129, 4))]
    piece_panels = ["notes_per_second", "pitch_range", "pitch_entropy", "melodic_coherence", "overall_quality_score", "overall_similarity"]

    def values(notes: pd.DataFrame, name: str) -> np.ndarray:
        if name == "pitch_class":
            return notes["pitch"].to_numpy() % 12
        if name == "interval":
            same = notes["piece_id"].to_numpy()[1:] == notes["piece_id"].to_numpy()[:-1]
            return np.diff(notes["pitch"].to_numpy())[same]
        return notes[name].to_numpy()

    figures = {}
    for system, notes in evaluation_pieces.groupby("system"):
        if system == REFERENCE:
            continue
        fig, axes = plt.subplots(3, 4, figsize=(16, 10), dpi=80)
        for ax, (name, bins) in zip(axes.flat[:6], note_panels):
            ax.hist(np.clip(values(notes, name), bins[0], bins[-1]), bins=bins, density=True, alpha=0.6, label=system)
            ax.hist(np.clip(values(reference_notes, name), bins[0], bins[-1]), bins=bins, density=True, histtype="step", color="black", label="real test")
            ax.set_title(name.replace("_", " "))
        mine = per_piece[per_piece["system"] == system]
        for ax, name in zip(axes.flat[6:], piece_panels):
            both = pd.concat([mine[name], reference_pieces[name]]).dropna()
            bins = np.linspace(both.min(), both.max() + 1e-9, 15) if len(both) else 10
            ax.hist(mine[name].dropna(), bins=bins, alpha=0.6, label=system)
            ax.hist(reference_pieces[name].dropna(), bins=bins, histtype="step", color="black", label="real test")
            ax.set_title(f"{name.replace('_', ' ')} (per piece)")
        axes.flat[0].legend(fontsize="small")
        fig.suptitle(f"{system} against the real test split")
        fig.tight_layout()
        figures[system.replace("/", "__") + ".png"] = fig
    return figures


def _markdown(table: pd.DataFrame) -> str:
    """A DataFrame as a Markdown table (index included when it is named)."""
    if table.index.name:
        table = table.reset_index()
    cell = lambda v: f"{v:.3f}" if isinstance(v, float) else str(v)  # noqa: E731
    rows = ["| " + " | ".join(map(str, table.columns)) + " |", "|" + "---|" * len(table.columns)]
    rows += ["| " + " | ".join(cell(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join(rows)


def write_report(evaluation_summary: pd.DataFrame, evaluation_metrics: dict) -> str:
    """Summary + metrics → ``evaluation_report.md``: the ranking, likelihoods, continuation
    metrics and a plain-language reading computed from the numbers (nothing is tuned)."""
    s = evaluation_summary.set_index("system")
    # real music: the splits, and the prefixes and real continuations kept beside Task 2 outputs
    generated = s.drop(index=[x for x in s.index if x.startswith("real/") or x.endswith(("/prefix", "/reference"))])
    lines = ["# Evaluation report", "", "Systems ranked by mean mgeval overlap area (OA) with the real test split (1 is the ceiling).", ""]
    columns = ["rank", "pieces", "notes", "mean_oa", "mean_kl", "js_pitch_class", "js_interval", "scale_consistency", "polyphony",
               "overall_quality_score", "overall_similarity"]
    lines += [_markdown(evaluation_summary.set_index("system")[columns]), ""]
    lines += ["## Held-out likelihood (test split, bits per note; lower is better)", ""]
    lines += [_markdown(pd.DataFrame(evaluation_metrics["likelihood"])), ""]
    if evaluation_metrics["continuation"]:
        table = pd.DataFrame(evaluation_metrics["continuation"]).groupby("task")[["pitch_class_correlation", "note_density_ratio"]].mean()
        lines += ["## Continuations against the real continuation (means over pieces)", "", _markdown(table), ""]
    lines += ["## Reading", ""]
    generated = generated.dropna(subset=["mean_oa"])
    if evaluation_metrics["reference_pieces"] < 2:
        lines.append(f"- OA and KL are undefined: the test split has {evaluation_metrics['reference_pieces']} piece(s), "
                     "and intra-set distances need at least two.")
    if len(generated):
        best = generated["mean_oa"].idxmax()
        lines.append(f"- The generated set closest to real music is `{best}` (mean OA {generated.loc[best, 'mean_oa']:.3f}).")
        transformer = generated[generated.index.str.startswith(("unconditioned/", "composer/"))]
        if "random" in generated.index and len(transformer):  # both have a defined mean OA here
            best_t = transformer["mean_oa"].idxmax()
            verdict = "below" if generated.loc["random", "mean_oa"] < transformer.loc[best_t, "mean_oa"] else "NOT below"
            lines.append(f"- The random baseline (mean OA {generated.loc['random', 'mean_oa']:.3f}) ranks {verdict} the best transformer set "
                         f"`{best_t}` ({transformer.loc[best_t, 'mean_oa']:.3f}).")
    if "real/validation" in s.index and not np.isnan(s.loc["real/validation", "mean_oa"]):
        lines.append(f"- Real unseen music (the validation split) reaches mean OA {s.loc['real/validation', 'mean_oa']:.3f}: "
                     "a generated set near that figure is as close to the test split as other real music is.")
    likelihood = {row["model"]: row["bits_per_note"] for row in evaluation_metrics["likelihood"]}
    lines.append(f"- On held-out likelihood the transformer needs {likelihood['transformer']:.2f} bits per note against "
                 f"{likelihood[next(k for k in likelihood if k.endswith('-gram'))]:.2f} for the n-gram.")
    lines.append("- mgeval features such as pitch count and pitch range grow with a piece's length, so sets of much "
                 "shorter pieces than the test split (short samples, Task 2 snippets) score lower OA for that reason too.")
    lines.append("- The original per-piece `overall_quality_score` is kept for continuity, but it rewards any music that stays "
                 "in range and avoids leaps; rank systems by the distribution metrics above, not by it.")
    lines += ["", "Plots: `evaluation_oa.png` (OA per feature), `evaluation_histograms.png` (pitch classes and intervals), "
              "`evaluation_panels/<system>.png` (the original 12 panels per system).", ""]
    return "\n".join(lines)
