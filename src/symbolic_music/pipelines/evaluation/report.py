"""evaluation report node: the Markdown reading of the summary and metrics."""

from __future__ import annotations

import numpy as np
import pandas as pd


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
    lines = ["# Evaluation report", ""]
    failures = {system: verdict for system, verdict in evaluation_metrics.get("guard", {}).items() if verdict != "ok"}
    if failures:
        lines += [f"**Warning: {len(failures)} generated set(s) are not music yet** (the token guard):", ""]
        lines += [f"- `{system}`: {verdict.removeprefix('FAIL: ')}" for system, verdict in failures.items()] + [""]
    lines += ["Systems ranked by mean mgeval overlap area (OA) with the real test split (1 is the ceiling).", ""]
    columns = ["rank", "pieces", "notes", "mean_oa", "mean_kl", "js_pitch_class", "js_interval", "scale_consistency", "polyphony",
               "overall_quality_score", "overall_similarity", "grammar_error_share", "notes_per_token"]
    lines += [_markdown(evaluation_summary.set_index("system")[[c for c in columns if c in evaluation_summary]]), ""]
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
