"""models.composer_classifier on synthetic composers: it tells them apart, it learns nothing
from shuffled labels (an oracle for leaks between splits), and its edge cases are explicit."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from symbolic_music.models.composer_classifier import (
    accuracy_with_interval, build_candidate, chance_accuracy, confusion, excerpt_features, feature_names,
    fit_classifier, plot_confusion,
)
from symbolic_music.music.excerpts import cut_excerpts

PIECE_SECONDS, EXCERPT_SECONDS, RESAMPLES, LEVEL, SEED = 40.0, 10.0, 300, 0.95, 0
SPLITS = ["train"] * 6 + ["validation"] * 2 + ["test"] * 2
CANDIDATES = {"logistic_regression": {"C": 1.0, "max_iter": 2000},
              "random_forest": {"n_estimators": 50, "min_samples_leaf": 2, "n_jobs": 1}}
C_MAJOR, F_SHARP_MINOR, B_FLAT_MAJOR = [0, 2, 4, 5, 7, 9, 11], [6, 8, 9, 11, 13, 14, 16], [10, 12, 14, 15, 17, 19, 21]


def composer_a(rng: np.random.Generator) -> pd.DataFrame:
    """C major, one quarter note (0.5 s) at a time, middle register, soft."""
    starts = np.arange(0, PIECE_SECONDS, 0.5)
    pitch = 60 + rng.choice(C_MAJOR, len(starts)) + 12 * rng.integers(0, 2, len(starts))
    return pd.DataFrame({"pitch": pitch, "start": starts, "duration": 0.45, "velocity": rng.integers(60, 75, len(starts))})


def composer_b(rng: np.random.Generator) -> pd.DataFrame:
    """F# minor scale runs in sixteenths (0.125 s), high register, loud."""
    starts = np.arange(0, PIECE_SECONDS, 0.125)
    degrees = np.abs((np.arange(len(starts)) + rng.integers(0, 14)) % 14 - 7)  # up and down the scale
    pitch = 60 + np.array(F_SHARP_MINOR)[np.minimum(degrees, 6)] + 12 * (rng.random(len(starts)) < 0.3)
    return pd.DataFrame({"pitch": pitch, "start": starts, "duration": 0.12, "velocity": rng.integers(85, 100, len(starts))})


def composer_c(rng: np.random.Generator) -> pd.DataFrame:
    """B-flat major triads, one a second, low register, medium loud."""
    rows = []
    for start in np.arange(0, PIECE_SECONDS, 1.0):
        root = int(rng.integers(0, 7))
        for third in (0, 2, 4):
            degree = root + third
            rows.append((48 + B_FLAT_MAJOR[degree % 7] + 12 * (degree // 7), start, 0.9, int(rng.integers(70, 85))))
    return pd.DataFrame(rows, columns=["pitch", "start", "duration", "velocity"])


COMPOSERS = {"A": composer_a, "B": composer_b, "C": composer_c}


def corpus(pieces_per_composer: int, seed: int, shuffle_labels: bool = False) -> pd.DataFrame:
    """A note table of every composer's pieces with ``piece_id``, ``composer``, ``split``; with
    ``shuffle_labels`` the composers are dealt out to the pieces at random."""
    rng = np.random.default_rng(seed)
    tables = []
    for name, play in COMPOSERS.items():
        for k in range(pieces_per_composer):
            notes = play(rng).sort_values(["start", "pitch"], ignore_index=True)
            notes = notes.assign(end=notes["start"] + notes["duration"], step=notes["start"].diff().fillna(0.0))
            tables.append(notes.assign(piece_id=f"{name}{k}", composer=name, split=SPLITS[k * len(SPLITS) // pieces_per_composer]))
    notes = pd.concat(tables, ignore_index=True)
    if shuffle_labels:
        pieces = notes["piece_id"].unique()
        dealt = dict(zip(pieces, rng.permutation(notes.drop_duplicates("piece_id")["composer"].to_numpy())))
        notes["composer"] = notes["piece_id"].map(dealt)
    return notes


def split_features(notes: pd.DataFrame) -> dict[str, tuple[pd.DataFrame, np.ndarray, np.ndarray]]:
    """Per split: excerpt features, composer labels and piece ids, aligned."""
    result = {}
    for split, part in notes.groupby("split"):
        lengths = part.groupby("piece_id")["end"].max().to_dict()
        excerpt_notes, index = cut_excerpts(part, lengths, EXCERPT_SECONDS)
        features = excerpt_features(excerpt_notes)
        rows = index.set_index("excerpt_id").loc[features.index]
        composer = part.drop_duplicates("piece_id").set_index("piece_id")["composer"]
        result[split] = (features, composer.loc[rows["piece_id"]].to_numpy(), rows["piece_id"].to_numpy())
    return result


def held_out_accuracy(notes: pd.DataFrame) -> tuple[dict, dict, np.ndarray]:
    """Fit on train, choose on validation; the test accuracy, the fit report, the predictions."""
    splits = split_features(notes)
    model, report = fit_classifier(*splits["train"][:2], *splits["validation"][:2], CANDIDATES, SEED)
    features, labels, pieces = splits["test"]
    predicted = model.predict(features)
    return accuracy_with_interval(labels, predicted, pieces, RESAMPLES, LEVEL, np.random.default_rng(SEED)), report, predicted


def test_features_have_one_row_per_excerpt_and_read_the_music():
    notes = corpus(2, 0)
    excerpt_notes, index = cut_excerpts(notes, notes.groupby("piece_id")["end"].max().to_dict(), EXCERPT_SECONDS)
    features = excerpt_features(excerpt_notes)
    assert list(features.columns) == feature_names(12)
    assert list(features.index) == list(index["excerpt_id"])
    assert features.filter(like="pitch_class_").sum(axis=1).to_numpy() == pytest.approx(1.0)
    assert features.filter(like="interval_").sum(axis=1).to_numpy() == pytest.approx(1.0)
    composer = features.index.str[0]
    assert (features.loc[composer == "A", "pitch_class_C#"] == 0).all()  # C major has no C#
    assert (features.loc[composer == "C", "chord_share"] == 1).all() and (features.loc[composer != "C", "chord_share"] == 0).all()
    assert features.loc[composer == "B", "notes_per_second"].min() > 2 * features.loc[composer == "A", "notes_per_second"].max()


def test_a_single_note_excerpt_has_nan_rhythm_and_empty_input_an_empty_frame():
    one = pd.DataFrame({"excerpt_id": ["x#0"], "pitch": [60], "velocity": [80], "start": [0.0], "end": [1.0],
                        "step": [0.0], "duration": [1.0]})
    features = excerpt_features(one)
    assert np.isnan(features.loc["x#0", "log_ioi_mean"]) and features.loc["x#0", "pitch_range"] == 0
    assert features.filter(like="interval_").to_numpy().sum() == 0
    empty = excerpt_features(one.iloc[:0])
    assert empty.empty and list(empty.columns) == feature_names(12)


def test_synthetic_composers_are_told_apart_far_above_chance():
    accuracy, report, _ = held_out_accuracy(corpus(10, 1))
    chance = chance_accuracy({"A": 1, "B": 1, "C": 1})["chance"]
    assert accuracy["accuracy"] >= 0.95
    assert accuracy["accuracy_low"] > chance + 0.3
    assert report["chosen"] in CANDIDATES and set(report["validation"]) == set(CANDIDATES)
    assert report["classes"] == ["A", "B", "C"]


def test_shuffled_labels_give_chance_accuracy():
    accuracy, _, _ = held_out_accuracy(corpus(30, 2, shuffle_labels=True))
    assert abs(accuracy["accuracy"] - 1 / 3) < 0.2
    assert accuracy["accuracy_low"] < 1 / 3 < accuracy["accuracy_high"]


def test_the_choice_is_deterministic_under_a_seed():
    notes = corpus(10, 3)
    assert held_out_accuracy(notes)[1] == held_out_accuracy(notes)[1]


def correct_by_piece(pieces: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Four excerpts per piece, each classified correctly with a piece-dependent probability."""
    piece = np.repeat(np.arange(pieces), 4)
    skill = rng.uniform(0.4, 1.0, pieces)[piece]
    truth = np.where(piece % 2, "A", "B")
    predicted = np.where(rng.random(len(piece)) < skill, truth, np.where(truth == "A", "B", "A"))
    return truth, predicted, piece


def test_the_interval_holds_the_point_and_narrows_with_more_pieces():
    rng = np.random.default_rng(4)
    widths = []
    for pieces in (10, 200):
        result = accuracy_with_interval(*correct_by_piece(pieces, rng), RESAMPLES, LEVEL, rng)
        for figure in ("accuracy", "balanced_accuracy"):
            assert 0 <= result[f"{figure}_low"] <= result[figure] <= result[f"{figure}_high"] <= 1
        assert result["pieces"] == pieces and result["excerpts"] == 4 * pieces
        widths.append(result["accuracy_high"] - result["accuracy_low"])
    assert widths[1] < widths[0] / 2


def test_no_excerpts_give_nan_accuracy():
    result = accuracy_with_interval([], [], [], RESAMPLES, LEVEL, np.random.default_rng(0))
    assert np.isnan(result["accuracy"]) and np.isnan(result["balanced_accuracy_high"])
    assert result["excerpts"] == 0 and result["pieces"] == 0


def test_a_composer_without_test_excerpts_has_a_zero_row_and_is_out_of_chance():
    truth, predicted = ["A", "A", "B", "B"], ["A", "D", "B", "B"]
    table = confusion(truth, predicted, ["A", "B", "C", "D"])
    assert table.loc["C"].sum() == 0 and table.loc["D"].sum() == 0
    assert table.loc["A", "D"] == 1 and table.to_numpy().sum() == 4
    accuracy = accuracy_with_interval(truth, predicted, ["p", "p", "q", "q"], RESAMPLES, LEVEL, np.random.default_rng(0))
    assert accuracy["accuracy"] == pytest.approx(0.75) and accuracy["balanced_accuracy"] == pytest.approx(0.75)
    assert chance_accuracy({"A": 2, "B": 2, "C": 0}) == {"most_frequent": 0.5, "class_balance": 0.5, "balanced": 0.5, "chance": 0.5}
    fig = plot_confusion(table, "test")
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()][2] == "C (n=0)"
    plt.close(fig)


def test_unlisted_labels_and_empty_shares_raise():
    with pytest.raises(ValueError, match="'E'"):
        confusion(["A"], ["E"], ["A", "B"])
    with pytest.raises(ValueError, match="no composers"):
        chance_accuracy({"A": 0})


def test_chance_names_the_most_frequent_guess():
    chance = chance_accuracy(pd.Series({"A": 6, "B": 3, "C": 1}))
    assert chance["most_frequent"] == pytest.approx(0.6) and chance["chance"] == chance["most_frequent"]
    assert chance["class_balance"] == pytest.approx(0.36 + 0.09 + 0.01)
    assert chance["balanced"] == pytest.approx(1 / 3)


def test_fit_refuses_what_it_cannot_learn_from():
    splits = split_features(corpus(10, 5))
    features, labels, _ = splits["train"]
    validation = splits["validation"][:2]
    with pytest.raises(ValueError, match="at least two composers"):
        fit_classifier(features, np.full(len(labels), "A"), *validation, CANDIDATES, SEED)
    with pytest.raises(ValueError, match="no training excerpts"):
        fit_classifier(features.iloc[:0], labels[:0], *validation, CANDIDATES, SEED)
    with pytest.raises(ValueError, match="no validation excerpts"):
        fit_classifier(features, labels, validation[0].iloc[:0], [], CANDIDATES, SEED)
    with pytest.raises(ValueError, match="labels"):
        fit_classifier(features, labels[1:], *validation, CANDIDATES, SEED)
    with pytest.raises(ValueError, match="'svm'"):
        fit_classifier(features, labels, *validation, {"svm": {}}, SEED)


def test_candidates_are_built_from_settings_with_the_seed():
    forest = build_candidate("small_forest", {"model": "random_forest", "n_estimators": 7}, seed=11)
    assert forest.get_params()["model__n_estimators"] == 7 and forest.get_params()["model__random_state"] == 11
    boosting = build_candidate("hist_gradient_boosting", {"max_iter": 5}, seed=3)
    assert boosting.get_params()["model__random_state"] == 3
