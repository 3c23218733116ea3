"""A token n-gram with interpolated modified Kneser–Ney smoothing (Chen & Goodman, 1999).

Plain Python and numpy over integer token ids ``0 .. vocab_size - 1``. Every id of the vocabulary
has non-zero probability in every context: the unigram level is interpolated with the uniform
distribution. Log-probabilities and NLLs are in nats; callers convert to bits per note.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from functools import partial

import numpy as np

COUNT_CLASSES = 3  # modified KN discounts n-grams seen once, twice, and three or more times
INVERSE_GOLDEN = (math.sqrt(5) - 1) / 2


class KneserNey:
    """Token n-gram of ``order`` (a context of up to ``order - 1`` tokens), interpolated modified
    Kneser–Ney.

    Counts: the highest order uses raw counts; lower orders use continuation counts (how many
    distinct tokens precede the n-gram), except occurrences at the start of a sequence, which have
    no left neighbour and count as they are (KenLM's rule for n-grams that begin with BOS).
    With ``c`` those counts, ``h`` a context and ``h'`` its shorter suffix, order ``k`` is

        p_k(w | h) = (max(c(h w) - D_k(c(h w)), 0) + gamma_k(h) p_{k-1}(w | h')) / sum_v c(h v)
        gamma_k(h) = D_k1 N1(h) + D_k2 N2(h) + D_k3 N3+(h)

    where ``N_j(h)`` counts the tokens seen ``j`` times after ``h`` (three or more for ``N3+``),
    a context never seen falls through to ``p_{k-1}``, and ``p_0`` is uniform. ``discounts[k - 1]``
    holds ``(D_k1, D_k2, D_k3)``; each lies in ``[min_discount, j]`` for count class ``j``, so no
    count goes negative and every id keeps some probability.

    ``fit`` sets the closed-form estimates of the discounts; ``tune`` refines them on held-out data.
    """

    def __init__(self, order: int, vocab_size: int, min_discount: float) -> None:
        if order < 1:
            raise ValueError(f"order must be at least 1, got {order}")
        if vocab_size < 1:
            raise ValueError(f"vocab_size must be at least 1, got {vocab_size}")
        if not 0 < min_discount < 1:
            raise ValueError(f"min_discount must be in (0, 1), got {min_discount}")
        self.order, self.vocab_size, self.min_discount = order, vocab_size, min_discount
        self.max_discount = np.arange(1, COUNT_CLASSES + 1, dtype=float)  # D_j <= j keeps counts >= 0
        self.discounts = np.tile((self.min_discount + self.max_discount) / 2, (order, 1))
        # contexts[k - 1]: context of k - 1 tokens -> [{token: count}, total, N1, N2, N3+]
        self.contexts: list[dict[tuple, list]] = [{} for _ in range(order)]
        self._arrays: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}
        self.tuned_nll: float | None = None

    def fit(self, sequences: list[list[int]]) -> KneserNey:
        """Count every n-gram that ends after the first token of a sequence (the caller wraps each
        sequence in BOS … EOS, so BOS is given, never predicted). Sequences shorter than two tokens
        add nothing. Sets the closed-form discounts; raises ``ValueError`` on an id outside the vocabulary."""
        self._check_ids(sequences)
        for length in range(1, self.order + 1):
            raw = _ngram_counts(sequences, length)
            if length > 1:
                self._store(length - 1, _continuation_counts(raw, sequences, length - 1))
        self._store(self.order, raw)
        self._arrays = {}
        self.discounts = self._closed_form_discounts()
        return self

    def _store(self, length: int, counts: Counter) -> None:
        table: dict[tuple, list] = {}
        for gram, count in counts.items():
            entry = table.get(gram[:-1])
            if entry is None:
                entry = table[gram[:-1]] = [{}, 0] + [0] * COUNT_CLASSES
            entry[0][gram[-1]] = count
            entry[1] += count
            entry[1 + min(count, COUNT_CLASSES)] += 1
        self.contexts[length - 1] = table

    def _closed_form_discounts(self) -> np.ndarray:
        """Chen & Goodman's estimates from each order's count-of-counts ``n_j``:
        ``Y = n1 / (n1 + 2 n2)``, ``D_j = j - (j + 1) Y n_{j+1} / n_j``, clipped to the allowed
        range; an order without the counts to estimate a class keeps the middle of its range."""
        discounts = np.empty((self.order, COUNT_CLASSES))
        for k, table in enumerate(self.contexts):
            n = Counter(count for tokens, *_ in table.values() for count in tokens.values() if count <= COUNT_CLASSES + 1)
            for j in range(1, COUNT_CLASSES + 1):
                denominator = (n[1] + 2 * n[2]) * n[j]
                estimate = j - (j + 1) * n[1] * n[j + 1] / denominator if denominator else math.nan
                middle = (self.min_discount + j) / 2
                discounts[k, j - 1] = np.clip(estimate, self.min_discount, j) if math.isfinite(estimate) else middle
        return discounts

    def tune(self, sequences: list[list[int]], tolerance: float, sweeps: int) -> KneserNey:
        """Fit the discounts to held-out ``sequences`` (wrapped as for ``fit``): coordinate descent,
        each discount in turn set by a golden-section search over ``[min_discount, j]`` down to a
        bracket ``tolerance`` wide, for ``sweeps`` passes over all ``order * 3`` discounts. A value is
        kept only where it lowers the held-out NLL, so tuning never makes it worse. The chosen values
        are in ``discounts``, and the held-out NLL (nats per scored token) in ``tuned_nll``.
        With no scored token the discounts stay as they are."""
        positions = self._positions(sequences)
        if not positions.count:
            return self
        best = positions.nll(self._probabilities(positions, self.discounts))
        for _ in range(sweeps):
            for k in range(self.order):
                lower = self._probabilities(positions, self.discounts, stop=k)  # fixed while order k is tuned
                for j in range(COUNT_CLASSES):
                    objective = partial(self._coordinate_nll, positions, lower, k, j)
                    value = _golden_section(objective, self.min_discount, self.max_discount[j], tolerance)
                    nll = objective(value)
                    if nll < best:
                        best = nll
                        self.discounts[k, j] = value
        self.tuned_nll = best / positions.count
        return self

    def _coordinate_nll(self, positions: _Positions, lower: np.ndarray, k: int, j: int, value: float) -> float:
        discounts = self.discounts.copy()
        discounts[k, j] = value
        return positions.nll(self._probabilities(positions, discounts, start=k, p=lower))

    def log_prob(self, history: list[int], token: int) -> float:
        """Natural log of p(``token`` | the last ``order - 1`` tokens of ``history``)."""
        positions = _Positions.build(Counter([self._position(self._context(history), token)]), self.order)
        return float(np.log(self._probabilities(positions, self.discounts)[0]))

    def nll(self, sequences: list[list[int]]) -> tuple[float, int]:
        """Summed NLL (nats) of every token after the first of each sequence, and their count
        (``(0.0, 0)`` for no such token). Raises ``ValueError`` on an id outside the vocabulary."""
        positions = self._positions(sequences)
        return positions.nll(self._probabilities(positions, self.discounts)), positions.count

    def distribution(self, history: list[int]) -> np.ndarray:
        """p(· | the last ``order - 1`` tokens of ``history``) over the whole vocabulary (sums to 1)."""
        context_tokens = self._context(history)
        p = np.full(self.vocab_size, 1.0 / self.vocab_size)
        for k in range(self.order):
            if k > len(context_tokens):
                break
            context = context_tokens[len(context_tokens) - k :]
            entry = self.contexts[k].get(context)
            if entry is None:
                break  # a longer context containing an unseen one is unseen too
            tokens, counts = self._follower_arrays(k, context, entry[0])
            discounts = self.discounts[k]
            p *= discounts @ np.array(entry[2:], dtype=float)
            p[tokens] += np.maximum(counts - _class_discounts(discounts)[np.minimum(counts, COUNT_CLASSES)], 0)
            p /= entry[1]
        return p

    def sample(self, prompt: list[int], max_tokens: int, stop: int, rng: np.random.Generator) -> list[int]:
        """Sample up to ``max_tokens`` new tokens after ``prompt``; stops at ``stop``, which is not
        returned. The same ``rng`` state gives the same tokens."""
        tokens = list(prompt)
        for _ in range(max_tokens):
            p = self.distribution(tokens)
            token = int(np.searchsorted(np.cumsum(p), rng.random() * p.sum(), side="right"))
            token = min(token, self.vocab_size - 1)  # guards the float edge where the draw hits the total
            if token == stop:
                break
            tokens.append(token)
        return tokens[len(prompt) :]

    def _follower_arrays(self, k: int, context: tuple, tokens: dict[int, int]) -> tuple[np.ndarray, np.ndarray]:
        key = (k, context)
        if key not in self._arrays:
            self._arrays[key] = (np.fromiter(tokens.keys(), dtype=np.int64), np.fromiter(tokens.values(), dtype=np.int64))
        return self._arrays[key]

    def _context(self, history: list[int]) -> tuple:
        return tuple(history[max(0, len(history) - self.order + 1) :])

    def _position(self, history: tuple, token: int) -> tuple[int, ...]:
        """Per order, lowest first: (count of context + token, context total, N1, N2, N3+), zeros
        from the first unseen context on (a longer context containing an unseen one is unseen too)."""
        row = []
        for k in range(min(self.order, len(history) + 1)):
            entry = self.contexts[k].get(history[len(history) - k :])
            if entry is None:
                break
            row += (entry[0].get(token, 0), *entry[1:])
        return (*row, *[0] * (self.order * (2 + COUNT_CLASSES) - len(row)))

    def _positions(self, sequences: list[list[int]]) -> _Positions:
        self._check_ids(sequences)
        rows = Counter()
        for sequence in sequences:
            sequence = tuple(sequence)
            rows.update(self._position(sequence[max(0, i - self.order + 1) : i], sequence[i]) for i in range(1, len(sequence)))
        return _Positions.build(rows, self.order)

    def _probabilities(self, positions: _Positions, discounts: np.ndarray, start: int = 0, stop: int | None = None,
                       p: np.ndarray | None = None) -> np.ndarray:
        """p_k of every row after interpolating orders ``start`` … ``stop - 1`` (0-based, all by
        default) onto ``p`` (p_{start - 1}; uniform when ``None``)."""
        p = np.full(len(positions.weights), 1.0 / self.vocab_size) if p is None else p.copy()
        for k in range(start, self.order if stop is None else stop):
            seen = positions.seen[k]  # rows are sorted so those with this context seen come first
            count, total, classes = positions.rows[:seen, k, 0], positions.rows[:seen, k, 1], positions.rows[:seen, k, 2:]
            own = np.maximum(count - _class_discounts(discounts[k])[positions.count_class[:seen, k]], 0)
            p[:seen] = (own + (classes @ discounts[k]) * p[:seen]) / total
        return p

    def _check_ids(self, sequences: list[list[int]]) -> None:
        for sequence in sequences:
            if len(sequence) and not 0 <= min(sequence) <= max(sequence) < self.vocab_size:
                raise ValueError(f"token ids must be in [0, {self.vocab_size}), got {min(sequence)}..{max(sequence)}")


@dataclass
class _Positions:
    """Scored positions as distinct rows of counts (held-out text repeats, and each row is
    computed once): ``rows`` (rows, order, 5) as from ``KneserNey._position``, zero-padded;
    ``weights`` how many positions share each row; rows sorted by how many orders have their
    context seen, most first, so ``seen[k]`` leading rows have the order-``k + 1`` context."""

    rows: np.ndarray
    weights: np.ndarray
    seen: list[int]
    count_class: np.ndarray

    @classmethod
    def build(cls, rows: Counter, order: int) -> _Positions:
        """From ``rows``: each distinct row (a tuple) and how many positions have it."""
        table = np.array(list(rows), dtype=float).reshape(len(rows), order, 2 + COUNT_CLASSES)
        weights = np.fromiter(rows.values(), dtype=float, count=len(rows))
        depth = (table[:, :, 1] > 0).sum(axis=1)
        sort = np.argsort(-depth, kind="stable")
        table, weights = table[sort], weights[sort]
        seen = [int((depth > k).sum()) for k in range(order)]
        return cls(table, weights, seen, np.minimum(table[:, :, 0], COUNT_CLASSES).astype(int))

    @property
    def count(self) -> int:
        return int(self.weights.sum())

    def nll(self, p: np.ndarray) -> float:
        """Summed NLL (nats) of the positions whose probabilities are ``p`` (one per row)."""
        return float(-(self.weights * np.log(p)).sum())


def _class_discounts(discounts: np.ndarray) -> np.ndarray:
    """Discount by count 0, 1, 2, 3+ (nothing is taken from an unseen n-gram)."""
    return np.concatenate([[0.0], discounts])


def _ngram_counts(sequences: list[list[int]], length: int) -> Counter:
    """Raw counts of the n-grams of ``length`` tokens that end after each sequence's first token."""
    counts = Counter()
    first = max(0, 2 - length)
    for sequence in sequences:
        counts.update(zip(*(sequence[first + j :] for j in range(length))))
    return counts


def _continuation_counts(longer: Counter, sequences: list[list[int]], length: int) -> Counter:
    """Kneser–Ney counts of ``length``-grams: distinct tokens seen before each (from the keys of
    ``longer``, the raw ``length + 1``-gram counts), plus each occurrence at a sequence start."""
    counts = Counter(gram[1:] for gram in longer)
    if length > 1:  # a unigram at the start is the given first token, never scored
        counts.update(tuple(sequence[:length]) for sequence in sequences if len(sequence) >= length)
    return counts


def _golden_section(objective, low: float, high: float, tolerance: float) -> float:
    """Minimiser of a unimodal ``objective`` on ``[low, high]``, to within ``tolerance``."""
    a, b = low, high
    c, d = b - INVERSE_GOLDEN * (b - a), a + INVERSE_GOLDEN * (b - a)
    fc, fd = objective(c), objective(d)
    while b - a > tolerance:
        if fc < fd:
            b, d, fd = d, c, fc
            c = b - INVERSE_GOLDEN * (b - a)
            fc = objective(c)
        else:
            a, c, fc = c, d, fd
            d = a + INVERSE_GOLDEN * (b - a)
            fd = objective(d)
    return (a + b) / 2


def validate_ngram_settings(settings: dict) -> None:
    """Raise ``ValueError`` naming the first bad ``lstm_model.baselines.ngram`` setting."""
    if settings["order"] < 1:
        raise ValueError(f"lstm_model.baselines.ngram.order must be at least 1, got {settings['order']}")
    if not 0 < settings["min_discount"] < 1:
        raise ValueError(f"lstm_model.baselines.ngram.min_discount must be in (0, 1), got {settings['min_discount']}")
    if settings["tolerance"] <= 0:
        raise ValueError(f"lstm_model.baselines.ngram.tolerance must be positive, got {settings['tolerance']}")
    if settings["sweeps"] < 0:
        raise ValueError(f"lstm_model.baselines.ngram.sweeps must be at least 0, got {settings['sweeps']}")
