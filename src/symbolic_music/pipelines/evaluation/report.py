"""evaluation report node: the Markdown reading of the summary and metrics."""

from __future__ import annotations

import numpy as np
import pandas as pd

CEILING, FLOOR = "real/validation", "random"
TASK1_PREFIXES = ("unconditioned/", "composer/")


def _markdown(table: pd.DataFrame) -> str:
    """A DataFrame as a Markdown table."""
    cell = lambda v: f"{v:.3f}" if isinstance(v, float) else str(v)  # noqa: E731
    rows = ["| " + " | ".join(map(str, table.columns)) + " |", "|" + "---|" * len(table.columns)]
    rows += ["| " + " | ".join(cell(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join(rows)


def blanks(table: pd.DataFrame, blank: str = "") -> pd.DataFrame:
    """``table`` for display: missing values shown as ``blank``."""
    return table.astype(object).where(table.notna(), blank)


def with_interval(summary: pd.DataFrame, figure: str) -> pd.Series:
    """``0.712 [0.65, 0.77]`` for each row of ``summary`` (``–`` where undefined)."""
    return pd.Series([f"{v:.3f} [{lo:.2f}, {hi:.2f}]" if pd.notna(v) and pd.notna(lo) else f"{v:.3f}" if pd.notna(v) else "–"
                      for v, lo, hi in zip(summary[figure], summary[f"{figure}_low"], summary[f"{figure}_high"])], index=summary.index)


def guard_lines(evaluation_metrics: dict) -> list[str]:
    """The token guard's failures, for the report's first lines."""
    failures = {system: verdict for system, verdict in evaluation_metrics.get("guard", {}).items() if verdict != "ok"}
    if not failures:
        return []
    lines = [f"**Warning: {len(failures)} generated set(s) are not music yet** (the token guard):", ""]
    return lines + [f"- `{system}`: {verdict.removeprefix('FAIL: ')}" for system, verdict in failures.items()] + [""]


def reading(summary: pd.DataFrame, evaluation_metrics: dict) -> list[str]:
    """Plain-language statements computed from the numbers (nothing is tuned)."""
    s = summary.set_index("system")
    lines = []
    ranked = summary.dropna(subset=["rank"])
    for first, second in zip(ranked["system"], ranked["system"][1:]):
        a, b = s.loc[first], s.loc[second]
        if a["mean_oa_low"] <= b["mean_oa_high"]:
            lines.append(f"- `{first}` and `{second}` are within noise of each other (intervals overlap).")
    unranked = summary[summary["rank"].isna()]
    lines += [f"- `{row.system}` is not ranked: {row.note}." for row in unranked.itertuples()]
    task1 = ranked[ranked["system"].str.startswith(TASK1_PREFIXES)]
    if len(task1):
        best = task1.iloc[0]
        for baseline in ("random", "rule_based", "ngram"):
            if baseline in s.index and pd.notna(s.loc[baseline, "rank"]):
                verdict = ("above" if best["mean_oa_low"] > s.loc[baseline, "mean_oa_high"] else
                           "below" if best["mean_oa_high"] < s.loc[baseline, "mean_oa_low"] else "within noise of")
                lines.append(f"- The best transformer Task 1 set, `{best['system']}` (mean OA {best['mean_oa']:.3f}), ranks {verdict} "
                             f"`{baseline}` ({s.loc[baseline, 'mean_oa']:.3f}).")
    if CEILING in s.index and FLOOR in s.index:
        lines.append(f"- Real unseen music (validation excerpts) scores {s.loc[CEILING, 'mean_oa']:.3f}, random notes "
                     f"{s.loc[FLOOR, 'mean_oa']:.3f}: a set near the first is as close to the test split as other real music is.")
    likelihood = {row["model"]: row["bits_per_note"] for row in evaluation_metrics["likelihood"]}
    ngram = next(k for k in likelihood if k.endswith("-gram"))
    lines.append(f"- On held-out likelihood the transformer needs {likelihood['transformer']:.2f} bits per note, the {ngram} "
                 f"{likelihood[ngram]:.2f}, a unigram {likelihood['token unigram (n-gram' + chr(39) + 's tokens)']:.2f}.")
    return lines


def memorization_lines(memorization_summary: pd.DataFrame) -> list[str]:
    """What the copying check says, in words."""
    s = memorization_summary.set_index("system")
    limit = int(memorization_summary["max_copied_notes"].iloc[0]) if len(s) else 0
    copying = s[(s["copying_pieces"] > 0) & ~s.index.str.startswith("real/")]
    lines = [f"- A piece copies when its longest run of notes found verbatim in the train split (transposed or not) is longer "
             f"than {limit} notes, the 99th percentile of real test excerpts set once on the embedded corpus."]
    if "real/test (baseline)" in s.index:
        real = s.loc["real/test (baseline)"]
        lines.append(f"- Real test excerpts of the same length share runs of {real['median_longest_run']:.0f} notes (median), "
                     f"{real['max_longest_run']} at most, with the train split: real music shares scales and cadences.")
    lines += [f"- `{system}`: {int(row['copying_pieces'])} of {int(row['pieces'])} pieces copy; the longest: {row['worst']}."
              for system, row in copying.iterrows()]
    if not len(copying):
        lines.append("- No generated set copies the training split beyond that.")
    return lines


def _share(figures: dict, name: str = "accuracy") -> str:
    return f"{figures[name]:.2f} [{figures[name + '_low']:.2f}, {figures[name + '_high']:.2f}]"


def composer_lines(composer_accuracy: dict) -> list[str]:
    """What the composer classifier says, in words."""
    if "generated" not in composer_accuracy:
        return [f"- {composer_accuracy.get('note', 'no composer-steered pieces')}."]
    classifier, real, generated = composer_accuracy["classifier"], composer_accuracy["real_test"], composer_accuracy["generated"]
    lines = [f"- An independent classifier ({classifier['chosen']}, chosen on validation among {', '.join(classifier['validation'])}; "
             f"{classifier['train_excerpts']} train excerpts of {', '.join(composer_accuracy['composers'])}) names the composer of "
             f"{composer_accuracy['excerpt_seconds']:g} s excerpts."]
    if "accuracy" in real:
        lines.append(f"- On real test excerpts it is right {_share(real)} of the time ({real['excerpts']} excerpts, {real['pieces']} pieces; "
                     f"chance {real['chance']['chance']:.2f}): the ceiling.")
    else:
        lines.append(f"- {real['note']}.")
    lines.append(f"- For composer-steered pieces it names the composer asked for {_share(generated)} of the time "
                 f"({generated['excerpts']} excerpts, {generated['pieces']} pieces; chance {generated['chance']['chance']:.2f}).")
    return lines


def drift_lines(drift_verdicts: dict) -> list[str]:
    """Whether generated music drifts more than real music, figure by figure."""
    names = {"task1": "Task 1 pieces (against real test pieces)", "task2": "Task 2 continuations (against the real continuations)"}
    lines = []
    for task, verdicts in drift_verdicts.items():
        drifting = {f: v["from_seconds"] for f, v in verdicts.items() if v["drifts_more"]}
        said = "; ".join(f"{f.replace('_', ' ')} from {s:g} s" for f, s in drifting.items()) or "none of key, density, range or velocity"
        lines.append(f"- {names.get(task, task)} drift more than real music in: {said}.")
    return lines or ["- No piece is long enough to measure drift."]


def listening_lines(listening_summary: pd.DataFrame, listening_metrics: dict) -> list[str]:
    """The blind listening test's results (``make app``), in words."""
    if not listening_metrics.get("records"):
        return ["- No listening-test ratings yet: run `make app` and use its Listening test tab; the next "
                "`kedro run --pipeline=evaluation` reads them."]
    lines = [f"- {listening_metrics['records']} judgements from {listening_metrics['listeners']} listener(s)"
             + (f", {listening_metrics['synthetic_records']} of them synthetic (made by tests)" if listening_metrics.get("synthetic_records") else "")
             + (f"; {listening_metrics['skipped_lines']} unreadable line(s) skipped" if listening_metrics.get("skipped_lines") else "") + "."]
    for row in listening_summary.itertuples():
        if row.preference_n:
            lines.append(f"- `{row.system}` is preferred to real music in {row.preference_wins} of {row.preference_n} pairs: "
                         f"{row.preference_rate:.2f} [{row.preference_low:.2f}, {row.preference_high:.2f}] (0.5 = as musical as real).")
    return lines


def write_report(evaluation_summary: pd.DataFrame, evaluation_metrics: dict, memorization_summary: pd.DataFrame,
                 composer_accuracy: dict, drift_verdicts: dict, listening_summary: pd.DataFrame, listening_metrics: dict) -> str:
    """Summary + metrics → ``evaluation_report.md``: the guard's warnings first, then the ranking
    with intervals, which differences are within noise, Task 2 against its own ceiling, the
    copying check and the likelihoods."""
    summary = evaluation_summary
    seconds, reference = evaluation_metrics["excerpt_seconds"], evaluation_metrics["reference"]
    robust = evaluation_metrics.get("robustness_excerpt_seconds")
    lines = ["# Evaluation report", "", *guard_lines(evaluation_metrics)]
    lines += [f"Every set is cut into excerpts of {seconds:g} s and compared with the {reference['excerpts']} excerpts of the real "
              f"test split ({reference['pieces']} pieces): mgeval overlap area (OA, 1 = like the test split), with 95% bootstrap "
              "intervals over pieces. Real validation excerpts are the ceiling, random notes the floor.", ""]
    table = pd.DataFrame({
        "rank": summary["rank"].map(lambda r: "" if pd.isna(r) else str(int(r))), "system": summary["system"],
        "pieces": summary["pieces"], "excerpts": summary["excerpts"], "mean OA": with_interval(summary, "mean_oa"),
        "JS pitch class": with_interval(summary, "js_pitch_class"), "JS interval": with_interval(summary, "js_interval"),
    })
    if robust and f"mean_oa_at_{robust:g}s" in summary:
        table[f"mean OA, {robust:g} s excerpts"] = with_interval(summary, f"mean_oa_at_{robust:g}s")
    for column in ("vs_ceiling", "vs_floor", "grammar_error_share"):
        if column in summary:
            table[column] = summary[column].map(lambda v: "–" if pd.isna(v) else v)
    lines += [_markdown(table), "", "## Reading", "", *reading(summary, evaluation_metrics), ""]
    fits = pd.DataFrame(evaluation_metrics["continuation_fit"])
    if len(fits):
        fit_table = pd.DataFrame({"task": fits["task"], "part": fits["part"], "pieces": fits["pieces"],
                                  **{f: with_interval(fits, f) for f in ("key_correlation", "density_log_ratio", "velocity_difference")}})
        lines += ["## Task 2 against its own ceiling", "",
                  "Each continuation against its own prefix, beside the real continuation of the same prefix (`reference`, the ceiling): "
                  "key correlation (higher is closer), |ln density ratio| and |velocity difference| (lower is closer).", "",
                  _markdown(fit_table), ""]
    lines += ["## Is it copying?", "", *memorization_lines(memorization_summary), "",
              _markdown(blanks(memorization_summary.drop(columns=["max_copied_notes"]))), ""]
    lines += ["## Does it obey? Composer conditioning", "", *composer_lines(composer_accuracy), "",
              "Confusion matrices: `composer_confusion/real_test.png`, `composer_confusion/generated.png`.", ""]
    lines += ["## Drift over length", "", *drift_lines(drift_verdicts), "", "Curves: `drift/task1.png`, `drift/task2.png`, `drift_curves.csv`.", ""]
    lines += ["## Blind listening test", "", *listening_lines(listening_summary, listening_metrics), ""]
    lines += ["## Held-out likelihood (test split, bits per note; lower is better)", "",
              _markdown(pd.DataFrame(evaluation_metrics["likelihood"])), ""]
    lines += ["Plots: `evaluation_oa.png` (the ranking with intervals), `evaluation_histograms.png` (pitch classes and "
              "intervals), `evaluation_panels/<system>.png` (the original 12 panels per set).", ""]
    return "\n".join(lines)
