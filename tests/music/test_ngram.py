"""music.ngram: the interpolated modified Kneser–Ney token n-gram."""

from __future__ import annotations

import math

import numpy as np
import pytest

from symbolic_music.music.ngram import KneserNey

MIN_DISCOUNT = 0.01
BOS, EOS = 0, 1


def random_pieces(seed: int, count: int, vocab_size: int, max_length: int) -> list[list[int]]:
    rng = np.random.default_rng(seed)
    return [[BOS, *rng.integers(2, vocab_size, rng.integers(0, max_length)).tolist(), EOS] for _ in range(count)]


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_probabilities_sum_to_one_in_seen_and_unseen_contexts(order):
    vocab_size = 12
    model = KneserNey(order, vocab_size, MIN_DISCOUNT).fit(random_pieces(0, 20, vocab_size - 2, 30))  # ids 10, 11 never seen
    model.discounts = np.random.default_rng(1).uniform(MIN_DISCOUNT, 1, (order, 3)) * [1, 2, 3]
    seen = model.contexts[-1] and next(iter(model.contexts[-1]))  # a context the top order has seen
    for history in ([], [BOS], list(seen or []), [11, 11, 11], [3, 11], [5, 6, 7, 8, 9]):
        log_probs = np.array([model.log_prob(history, token) for token in range(vocab_size)])
        assert np.exp(log_probs).sum() == pytest.approx(1.0)
        assert np.isfinite(log_probs).all()  # every id, seen or not, has some probability
        assert model.distribution(history) == pytest.approx(np.exp(log_probs))


def test_a_bigram_by_hand():
    # bigrams (0,1) (1,1) (1,2): continuation counts 1 -> 2 (two left neighbours), 2 -> 1
    model = KneserNey(2, 4, MIN_DISCOUNT).fit([[0, 1, 1, 2]])
    model.discounts = np.array([[0.5, 1.0, 1.5], [0.5, 1.0, 1.5]])
    unigram = {1: (2 - 1.0 + 1.5 / 4) / 3, 2: (1 - 0.5 + 1.5 / 4) / 3, 3: (1.5 / 4) / 3}
    assert model.log_prob([], 2) == pytest.approx(math.log(unigram[2]))
    assert model.log_prob([0, 1], 2) == pytest.approx(math.log((1 - 0.5 + 1.0 * unigram[2]) / 2))
    assert model.log_prob([0, 1], 3) == pytest.approx(math.log(unigram[3] / 2))
    assert model.log_prob([3], 1) == pytest.approx(math.log(unigram[1]))  # unseen context falls through
    total, count = model.nll([[0, 1, 2]])
    assert count == 2 and total == pytest.approx(-model.log_prob([0], 1) - model.log_prob([0, 1], 2))


def test_repeated_sequence_scores_lower_under_order_four_than_unigram():
    train = [[BOS, *[5, 6, 7, 8] * 20, EOS]] * 3
    test = [[BOS, *[5, 6, 7, 8] * 10, EOS]]
    four = KneserNey(4, 10, MIN_DISCOUNT).fit(train)
    one = KneserNey(1, 10, MIN_DISCOUNT).fit(train)
    assert four.nll(test)[0] < one.nll(test)[0] / 5
    assert four.nll(test)[1] == one.nll(test)[1] == len(test[0]) - 1


def test_tuning_lowers_validation_nll_below_a_bad_fixed_discount():
    train, validation = random_pieces(2, 30, 9, 60), random_pieces(3, 10, 9, 60)
    model = KneserNey(3, 9, MIN_DISCOUNT).fit(train)
    model.discounts = np.full((3, 3), MIN_DISCOUNT)  # hardly any mass left for unseen continuations
    bad = model.nll(validation)[0]
    closed_form = KneserNey(3, 9, MIN_DISCOUNT).fit(train).nll(validation)[0]
    model.tune(validation, tolerance=1e-3, sweeps=2)
    tuned, count = model.nll(validation)
    assert tuned < closed_form < bad
    assert model.tuned_nll == pytest.approx(tuned / count)
    assert (model.discounts >= MIN_DISCOUNT).all() and (model.discounts <= [1, 2, 3]).all()


def test_sampling_is_reproducible_and_stops():
    cycle = KneserNey(4, 10, MIN_DISCOUNT).fit([[BOS, *[5, 6, 7, 8] * 20]] * 3)
    cycle.discounts[:] = MIN_DISCOUNT  # almost no mass off the one continuation seen
    assert cycle.sample([BOS, 5, 6], 8, stop=EOS, rng=np.random.default_rng(0)) == [7, 8, 5, 6, 7, 8, 5, 6]
    noisy = KneserNey(2, 10, MIN_DISCOUNT).fit(random_pieces(4, 10, 10, 30))
    draws = [noisy.sample([BOS], 50, stop=EOS, rng=np.random.default_rng(7)) for _ in range(2)]
    assert draws[0] == draws[1] and EOS not in draws[0] and len(draws[0]) <= 50


def test_empty_input_and_bad_arguments():
    model = KneserNey(3, 5, MIN_DISCOUNT).fit([])
    assert model.nll([[BOS]]) == (0.0, 0)
    assert model.distribution([2, 3]) == pytest.approx(np.full(5, 0.2))  # nothing seen: uniform
    with pytest.raises(ValueError, match="order"):
        KneserNey(0, 5, MIN_DISCOUNT)
    with pytest.raises(ValueError, match="min_discount"):
        KneserNey(2, 5, 0.0)
    with pytest.raises(ValueError, match="token ids"):
        KneserNey(2, 5, MIN_DISCOUNT).fit([[BOS, 5]])
