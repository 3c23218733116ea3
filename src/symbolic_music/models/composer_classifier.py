"""An independent composer classifier: does a model conditioned on a composer sound like that
composer? (no Kedro imports).

It is kept apart from the generative models: it sees only note tables, is trained on real
excerpts of the train split, chosen on the validation split and scored on the test split, so
its verdict on generated music does not depend on anything a generative model learned.

Features are per excerpt (``excerpt_features``): a duration-weighted pitch-class histogram, a
melodic-interval histogram, and rhythm, density, register and loudness figures. Pitch classes
are kept absolute, not transposed to a common key: which keys a composer writes in (and which
a period's instruments and tunings favour) is a real cue to who wrote a piece, and a
generative model asked for that composer should reproduce it too.

Intervals over excerpts are the Bayesian bootstrap over pieces of ``music.bootstrap``: the
excerpts of one piece are not independent, so pieces are resampled first.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, balanced_accuracy_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from symbolic_music.music.bootstrap import interval, resample_weights, weighted_means
from symbolic_music.music.statistics import PITCH_CLASS_NAMES, weighted_pitch_class_histogram

SCALAR_FEATURES = ["notes_per_second", "log_ioi_mean", "log_ioi_std", "chord_share", "duration_mean",
                   "pitch_mean", "pitch_std", "pitch_range", "velocity_mean"]


def feature_names(max_interval: int) -> list[str]:
    """The columns of ``excerpt_features``, in order."""
    return ([f"pitch_class_{name}" for name in PITCH_CLASS_NAMES]
            + [f"interval_{step}" for step in range(-max_interval, max_interval + 1)] + SCALAR_FEATURES)


def _one_excerpt(notes: pd.DataFrame, max_interval: int) -> np.ndarray:
    pitch = notes["pitch"].to_numpy(np.int64)
    duration = notes["duration"].to_numpy(float)
    intervals = np.clip(np.diff(pitch), -max_interval, max_interval) + max_interval
    interval_counts = np.bincount(intervals, minlength=2 * max_interval + 1).astype(float)
    onsets, per_onset = np.unique(notes["start"].to_numpy(float), return_counts=True)
    log_iois = np.log(np.diff(onsets))
    length = float(notes["end"].max())
    scalars = [
        len(pitch) / length if length > 0 else np.nan,
        log_iois.mean() if len(log_iois) else np.nan,
        log_iois.std() if len(log_iois) else np.nan,
        float((per_onset > 1).mean()),
        duration.mean(),
        pitch.mean(),
        pitch.std(),
        float(pitch.max() - pitch.min()),
        notes["velocity"].mean(),
    ]
    return np.concatenate([
        weighted_pitch_class_histogram(pitch, duration),
        interval_counts / interval_counts.sum() if interval_counts.sum() else interval_counts,
        scalars,
    ])


def excerpt_features(excerpt_notes: pd.DataFrame, max_interval: int = 12) -> pd.DataFrame:
    """One row per ``excerpt_id`` of a note table (seconds, MIDI numbers), indexed by it.

    Columns (``feature_names``): ``pitch_class_C`` … ``pitch_class_B``, the share of sounding
    time on each absolute pitch class (not transposed: key is a composer cue); ``interval_<k>``
    for k in −``max_interval`` … ``max_interval``, the share of each melodic interval (semitones)
    between consecutive notes in onset-then-pitch order, larger ones clipped to the outermost
    bins (chord notes count as intervals, as in ``music.statistics``); ``notes_per_second``
    (notes ÷ the last note's end); ``log_ioi_mean``/``log_ioi_std`` (natural log of seconds
    between distinct onsets); ``chord_share`` (share of distinct onsets that start two or more
    notes at exactly the same time); ``duration_mean`` (s); ``pitch_mean``, ``pitch_std``,
    ``pitch_range`` (semitones); ``velocity_mean`` (MIDI velocity).

    Histograms of an excerpt without intervals (one note) or without sounding time are zeros;
    figures that are undefined (one onset: no inter-onset interval; a last end of 0 s) are
    ``nan`` (the classifiers impute them). Excerpts without notes get no row: they cannot be
    classified. An empty table gives an empty frame with these columns.
    """
    columns = feature_names(max_interval)
    if len(excerpt_notes) == 0:
        return pd.DataFrame(columns=columns, index=pd.Index([], name="excerpt_id"), dtype=float)
    groups = excerpt_notes.groupby("excerpt_id", sort=False)
    rows = [_one_excerpt(table, max_interval) for _, table in groups]
    return pd.DataFrame(np.vstack(rows), columns=columns, index=pd.Index(list(groups.groups), name="excerpt_id"))


def _pipeline(model, scale: bool) -> Pipeline:
    """Median imputation of ``nan`` features, standardisation where the model needs it, the model."""
    scaler = [("scale", StandardScaler())] if scale else []
    return Pipeline([("impute", SimpleImputer(strategy="median", keep_empty_features=True)), *scaler, ("model", model)])


MODELS = {
    "logistic_regression": lambda settings: _pipeline(LogisticRegression(**settings), scale=True),
    "random_forest": lambda settings: _pipeline(RandomForestClassifier(**settings), scale=False),
    "hist_gradient_boosting": lambda settings: _pipeline(HistGradientBoostingClassifier(**settings), scale=False),
}


def build_candidate(name: str, settings: dict, seed: int) -> Pipeline:
    """An unfitted scikit-learn pipeline (median imputation, standardisation for the linear
    model, then the model) for one candidate. The model is ``settings["model"]`` if given, else
    ``name``; one of ``MODELS``. The other settings are the model's keyword arguments; ``seed``
    is its ``random_state`` where it has one. An unknown model raises ``ValueError`` naming it."""
    settings = dict(settings or {})
    model = settings.pop("model", name)
    if model not in MODELS:
        raise ValueError(f"composer classifier candidate {name!r}: unknown model {model!r}; known: {sorted(MODELS)}")
    pipeline = MODELS[model](settings)
    if "model__random_state" in pipeline.get_params():
        pipeline.set_params(model__random_state=seed)
    return pipeline


def _check_split(features: pd.DataFrame, labels, split: str) -> np.ndarray:
    labels = np.asarray(labels)
    if len(features) == 0:
        raise ValueError(f"composer classifier: no {split} excerpts")
    if len(labels) != len(features):
        raise ValueError(f"composer classifier: {len(features)} {split} excerpts but {len(labels)} {split} labels")
    return labels


def fit_classifier(features: pd.DataFrame, labels, validation_features: pd.DataFrame, validation_labels,
                   candidates: dict[str, dict], seed: int) -> tuple[Pipeline, dict]:
    """Fit every candidate on the training excerpts and keep the one with the best validation
    balanced accuracy (mean recall over the validation set's composers; ties go to the first
    candidate in ``candidates``' order).

    The chosen model stays the one fitted on the training split alone: refitting it on train +
    validation would let the excerpts that chose it also shape it, and the validation scores
    would no longer describe the model that is kept. ``candidates`` maps a name to settings
    (see ``build_candidate``). ``labels`` are aligned with the rows of ``features``.

    Returns the fitted pipeline and a report: ``chosen``, ``classes``, ``features`` (column
    names), ``train_excerpts``, ``validation_excerpts`` and ``validation`` (per candidate,
    ``balanced_accuracy`` and ``accuracy``). Raises ``ValueError`` naming what is missing: no
    training or validation excerpts, labels that do not match the rows, fewer than two
    composers in training, no candidates.
    """
    labels = _check_split(features, labels, "training")
    validation_labels = _check_split(validation_features, validation_labels, "validation")
    classes = sorted(set(labels.tolist()))
    if len(classes) < 2:
        raise ValueError(f"composer classifier: training needs at least two composers, got only {classes}")
    if not candidates:
        raise ValueError("composer classifier: no candidates to choose from")
    validation, fitted = {}, {}
    for name, settings in candidates.items():
        fitted[name] = build_candidate(name, settings, seed).fit(features, labels)
        predicted = fitted[name].predict(validation_features)
        validation[name] = {"balanced_accuracy": float(balanced_accuracy_score(validation_labels, predicted)),
                            "accuracy": float(accuracy_score(validation_labels, predicted))}
    chosen = max(validation, key=lambda name: validation[name]["balanced_accuracy"])
    report = {"chosen": chosen, "classes": classes, "features": list(features.columns),
              "train_excerpts": len(features), "validation_excerpts": len(validation_features), "validation": validation}
    return fitted[chosen], report


def accuracy_with_interval(true_labels, predicted_labels, pieces, resamples: int, level: float,
                           rng: np.random.Generator) -> dict:
    """Accuracy and balanced accuracy (mean recall over the composers present in
    ``true_labels``) of predictions, each with a central ``level`` interval from ``resamples``
    Bayesian-bootstrap resamples over ``pieces`` (the piece of each excerpt).

    Keys: ``accuracy``, ``accuracy_low``, ``accuracy_high``, ``balanced_accuracy``,
    ``balanced_accuracy_low``, ``balanced_accuracy_high`` (shares in [0, 1]), ``excerpts``,
    ``pieces``. A composer with no excerpts here is not part of the balanced accuracy. No
    excerpts at all give ``nan`` figures and counts of 0.
    """
    true_labels, predicted_labels, pieces = np.asarray(true_labels), np.asarray(predicted_labels), np.asarray(pieces)
    result = {"excerpts": len(true_labels), "pieces": len(np.unique(pieces))}
    figures = ("accuracy", "balanced_accuracy")
    if len(true_labels) == 0:
        return {**{f"{name}{end}": float("nan") for name in figures for end in ("", "_low", "_high")}, **result}
    correct = (true_labels == predicted_labels).astype(float)
    weights = np.vstack([np.ones(len(correct)), resample_weights(pieces, resamples, rng)])
    samples = {
        "accuracy": weighted_means(weights, correct),
        "balanced_accuracy": np.mean([weighted_means(weights[:, true_labels == c], correct[true_labels == c])
                                      for c in np.unique(true_labels)], axis=0),
    }
    for name, values in samples.items():
        result[name] = float(values[0])
        result[f"{name}_low"], result[f"{name}_high"] = interval(values[1:], level, result[name], (0.0, 1.0))
    return result


def confusion(true_labels, predicted_labels, labels: list[str]) -> pd.DataFrame:
    """Counts of excerpts by true composer (rows, named ``true``) and predicted composer
    (columns, named ``predicted``), both in the order of ``labels``. A composer of ``labels``
    with no excerpts gets a row of zeros; a label in the data but not in ``labels`` raises
    ``ValueError`` naming it."""
    true_labels, predicted_labels = np.asarray(true_labels), np.asarray(predicted_labels)
    unknown = sorted((set(true_labels.tolist()) | set(predicted_labels.tolist())) - set(labels))
    if unknown:
        raise ValueError(f"confusion: labels {unknown} are not among {labels}")
    table = pd.crosstab(pd.Categorical(true_labels, categories=labels), pd.Categorical(predicted_labels, categories=labels),
                        dropna=False)
    return table.reindex(index=labels, columns=labels, fill_value=0).rename_axis(index="true", columns="predicted")


def chance_accuracy(class_shares) -> dict[str, float]:
    """Accuracies of guessers that ignore the music, for a test set with these composer shares
    (a mapping or Series of counts or shares; normalised here, zeros ignored).

    ``most_frequent``: always naming the most common composer, max p. ``class_balance``: naming
    composers at random in proportion to their shares, Σ p². ``balanced``: the balanced accuracy
    of any such guesser, 1 / (composers present). ``chance`` is ``most_frequent``, the higher
    (stricter) of the two plain accuracies. No composers, or shares summing to 0, raise
    ``ValueError``.
    """
    shares = pd.Series(class_shares, dtype=float)
    shares = shares[shares > 0]
    if shares.empty:
        raise ValueError("chance_accuracy: no composers with a positive share")
    shares = shares / shares.sum()
    most_frequent = float(shares.max())
    return {"most_frequent": most_frequent, "class_balance": float((shares**2).sum()),
            "balanced": 1.0 / len(shares), "chance": most_frequent}


def plot_confusion(confusion_table: pd.DataFrame, title: str) -> plt.Figure:
    """A heatmap of a ``confusion`` table: cells coloured by the share of each true composer's
    excerpts (row share, 0 to 1) and annotated with counts; a composer without excerpts has
    a blank row. Row labels carry each composer's count of excerpts."""
    counts = confusion_table.to_numpy()
    totals = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, totals, out=np.full(counts.shape, np.nan), where=totals > 0)
    rows = [f"{name} (n={int(n)})" for name, n in zip(confusion_table.index, totals.ravel())]
    size = 1.2 + 0.9 * len(confusion_table)
    fig, ax = plt.subplots(figsize=(size + 2.5, size), dpi=110)
    sns.heatmap(pd.DataFrame(shares, index=rows, columns=confusion_table.columns), annot=counts, fmt="d", vmin=0, vmax=1,
                cmap="Blues", cbar_kws={"label": "share of the true composer's excerpts"}, ax=ax)
    ax.set(xlabel="predicted composer", ylabel="true composer", title=title)
    fig.tight_layout()
    return fig


def plot_note(text: str, title: str) -> plt.Figure:
    """A figure holding only ``text``: what stands in for the confusion matrices when there is
    nothing to classify (a folder of figures must hold one to be saved as a version)."""
    fig, ax = plt.subplots(figsize=(6, 1.5), dpi=110)
    ax.axis("off")
    ax.set_title(title)
    ax.text(0.5, 0.5, text, ha="center", va="center", wrap=True)
    return fig
