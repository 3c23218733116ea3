"""evaluation nodes: is it new (the copying check), does it obey (composer accuracy), and does it
drift over length. The measurements live in ``music/`` and ``models/``."""

from __future__ import annotations

import numpy as np
import pandas as pd
from symusic import Score

from symbolic_music.models.composer_classifier import (
    accuracy_with_interval,
    chance_accuracy,
    confusion,
    excerpt_features,
    fit_classifier,
    plot_confusion,
    plot_note,
)
from symbolic_music.music.drift import compare_drift, drift_curves, drift_table, plot_drift
from symbolic_music.music.excerpts import cut_excerpts
from symbolic_music.music.memorization import copy_report, held_out_pieces
from symbolic_music.music.notes import notes_table
from symbolic_music.music.systems import is_real, system_of
from symbolic_music.music.vocabulary import OTHER_COMPOSER


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


def _excerpt_features(notes: pd.DataFrame, lengths: dict, seconds: float, max_interval: int) -> tuple[pd.DataFrame, pd.Series]:
    """Features of the excerpts of ``seconds`` of every piece in ``notes``, and each excerpt's piece."""
    excerpt_notes, index = cut_excerpts(notes, lengths, seconds)
    features = excerpt_features(excerpt_notes, max_interval)
    piece_of = index.set_index("excerpt_id")["piece_id"]
    return features, piece_of.loc[features.index]


def composer_accuracy(notes: pd.DataFrame, generated_midi: dict[str, Score], generation_manifest: dict, params: dict) -> tuple[dict, dict]:
    """Does a composer prompt yield that composer? An independent classifier
    (``models.composer_classifier``) is trained on real train excerpts of the composers the
    model has tokens for (``other`` aside) and this corpus has train pieces of, chosen on validation, and scored on real test
    excerpts: the ceiling. It then names the composer of every excerpt of the composer-steered
    pieces. Returns the figures (accuracies with intervals, counts, chance, candidates) and the
    confusion matrices (real test; requested vs predicted) as figures."""
    settings, bootstrap = params["composer_classifier"], params["bootstrap"]
    seconds, max_interval = params["excerpt_seconds"], settings["max_interval"]
    requested = {name: entry["composer"] for name, entry in generation_manifest["files"].items()
                 if name.startswith("composer/") and entry.get("composer") not in (None, OTHER_COMPOSER)}
    composers = sorted(set(requested.values()))
    if len(composers) >= 2:
        # a fine-tuned model keeps its checkpoint's composer tokens; only those with real train
        # pieces in this corpus can be learnt by the classifier (a one-label folder has one)
        in_corpus = set(notes.loc[notes["split"] == "train", "composer"])
        requested = {name: composer for name, composer in requested.items() if composer in in_corpus}
        composers = sorted(set(requested.values()))
    if len(composers) < 2:
        note = "fewer than two composer tokens with real train pieces in this corpus: nothing to tell apart"
        return {"composers": composers, "note": note}, {"not_measured.png": plot_note(note, "Composer classifier")}
    real = notes[notes["composer"].isin(composers)]
    lengths = real.groupby("piece_id", sort=False)["end"].max().to_dict()
    splits = {split: _excerpt_features(real[real["split"] == split], lengths, seconds, max_interval) for split in ("train", "validation", "test")}
    composer_of = dict(zip(real["piece_id"], real["composer"]))
    label = lambda split: splits[split][1].map(composer_of).to_numpy()  # noqa: E731
    model, report = fit_classifier(splits["train"][0], label("train"), splits["validation"][0], label("validation"),
                                   settings["candidates"], settings["seed"])
    rng = np.random.default_rng(bootstrap["seed"])
    result = {"composers": composers, "excerpt_seconds": seconds, "classifier": report}
    test_features, test_pieces = splits["test"]
    if len(test_features):
        predicted = model.predict(test_features)
        result["real_test"] = accuracy_with_interval(label("test"), predicted, test_pieces, bootstrap["resamples"], bootstrap["level"], rng)
        result["real_test"]["chance"] = chance_accuracy(pd.Series(label("test")).value_counts(normalize=True))
        result["real_test"]["confusion"] = confusion(label("test"), predicted, composers).to_dict(orient="split")
    else:
        result["real_test"] = {"note": f"no real test excerpts of {composers}: the ceiling is undefined"}
    generated = pd.concat([notes_table(generated_midi[name]).assign(piece_id=name) for name in requested if name in generated_midi])
    lengths = {name: float(generated_midi[name].to("second").end()) for name in requested if name in generated_midi}
    features, pieces = _excerpt_features(generated, lengths, seconds, max_interval)
    asked = pieces.map(requested).to_numpy()
    predicted = model.predict(features)
    result["generated"] = accuracy_with_interval(asked, predicted, pieces, bootstrap["resamples"], bootstrap["level"], rng)
    result["generated"]["chance"] = chance_accuracy(pd.Series(asked).value_counts(normalize=True))
    result["generated"]["excerpts_per_composer"] = pd.Series(asked).value_counts().to_dict()
    result["generated"]["confusion"] = confusion(asked, predicted, composers).to_dict(orient="split")
    return result, confusion_figures(result)


CONFUSION_TITLES = {"real_test": "Composer classifier on real test excerpts", "generated": "Composer asked for (rows) and named by the classifier"}


def confusion_figures(composer_accuracy: dict) -> dict:
    """The confusion matrices kept in ``composer_accuracy`` as figures (``<part>.png``)."""
    return {f"{part}.png": plot_confusion(pd.DataFrame(**composer_accuracy[part]["confusion"]), title)
            for part, title in CONFUSION_TITLES.items() if "confusion" in composer_accuracy.get(part, {})}


def drift_figures(drift_curves: pd.DataFrame) -> dict:
    """One drift figure per task of the curves table (``<task>.png``)."""
    titles = {"task1": "Task 1 pieces against real test pieces", "task2": "Task 2 continuations against the real continuations of the same prompts"}
    return {f"{task}.png": plot_drift(group[group["music"] == "generated"], group[group["music"] == "real"], titles[task])
            for task, group in drift_curves.groupby("task")} if len(drift_curves) else {}


def drift(generated_midi: dict[str, Score], notes: pd.DataFrame, params: dict) -> tuple[pd.DataFrame, dict, dict]:
    """Does generated music drift over length more than real music? Key (pitch-class
    correlation with the opening), note density, pitch range and velocity in consecutive windows
    (``music.drift``): Task 1 pieces against real test pieces from their start, and Task 2
    continuations against the real continuations of the same prompts (the prompt is the
    opening). Returns the curves, the verdicts and one figure per task."""
    settings, bootstrap = params["drift"], params["bootstrap"]
    rng = np.random.default_rng(bootstrap["seed"])

    def curves(names: list[str], openings: dict | None = None) -> pd.DataFrame:
        if not names:
            return pd.DataFrame()
        table = pd.concat([notes_table(generated_midi[name]).assign(piece_id=name) for name in names])
        lengths = {name: float(generated_midi[name].to("second").end()) for name in names}
        return drift_curves(drift_table(table, settings["window_seconds"], settings["max_seconds"], openings, lengths),
                            bootstrap["resamples"], bootstrap["level"], rng)

    test = notes[notes["split"] == "test"]
    real_task1 = drift_curves(drift_table(test, settings["window_seconds"], settings["max_seconds"]), bootstrap["resamples"], bootstrap["level"], rng)
    task1 = curves([n for n in generated_midi if n.startswith(("unconditioned/", "composer/"))])
    folders = sorted({n.rsplit("/", 1)[0] for n in generated_midi if n.startswith("continuation/")})
    openings = {f"{f}/{part}": notes_table(generated_midi[f"{f}/prefix"]) for f in folders for part in ("continuation", "reference")}
    task2 = curves([f"{f}/continuation" for f in folders], openings)
    real_task2 = curves([f"{f}/reference" for f in folders], openings)
    table, verdicts = [], {}
    for name, (generated, real) in {"task1": (task1, real_task1), "task2": (task2, real_task2)}.items():
        if generated.empty or real.empty:
            continue
        verdicts[name] = compare_drift(generated, real, settings["consecutive_windows"])
        table += [generated.assign(task=name, music="generated"), real.assign(task=name, music="real")]
    table = pd.concat(table, ignore_index=True) if table else pd.DataFrame()
    return table, verdicts, drift_figures(table)
