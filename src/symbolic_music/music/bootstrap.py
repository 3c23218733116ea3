"""Bootstrap intervals over pieces, for sets where a piece gives several excerpts (no Kedro imports).

Excerpts of one piece are not independent, so a resample weighs pieces first, then excerpts
within each piece. The weights are those of the Bayesian bootstrap (Rubin 1981): Dirichlet(1, …, 1)
draws, a smooth version of drawing with replacement. A set with duplicated pieces would have
spiky distance densities and a lower overlap area than any real set of that size, which biases
overlap intervals downwards; smooth weights avoid that. A resample is a row of weights over the
excerpts, so any statistic that is a weighted sum is recomputed for all resamples at once.
"""

from __future__ import annotations

import numpy as np


def resample_weights(pieces: np.ndarray, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """(resamples × excerpts) weights, each row summing to the number of excerpts: a Dirichlet
    weight per piece (``pieces`` names the piece of each excerpt), shared out over its excerpts
    by a Dirichlet weight per excerpt."""
    codes = np.unique(pieces, return_inverse=True)[1]
    counts = np.bincount(codes)
    piece_weights = rng.dirichlet(np.ones(len(counts)), size=resamples)
    weights = np.empty((resamples, len(pieces)))
    for piece, size in enumerate(counts):
        members = np.flatnonzero(codes == piece)
        weights[:, members] = piece_weights[:, [piece]] * rng.dirichlet(np.ones(size), size=resamples)
    return weights * len(pieces)


def weighted_means(weights: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Mean of ``values`` (per excerpt) under each row of ``weights``; ``nan`` values are left
    out, and a row whose weight falls only on them gives ``nan``."""
    known = ~np.isnan(values)
    total = weights @ known
    return np.divide(weights @ np.where(known, values, 0.0), total, out=np.full(len(weights), np.nan), where=total > 0)


def interval(samples: np.ndarray, level: float, estimate: float, bounds: tuple[float, float] = (-np.inf, np.inf)) -> tuple[float, float]:
    """Central ``level`` interval of bootstrap samples (``nan`` ones ignored), moved so that
    the samples' median sits at ``estimate``: a median-bias correction, since weighting
    excerpts unevenly moves a bounded figure such as an overlap area away from its maximum.
    Clipped to ``bounds``."""
    samples = samples[~np.isnan(samples)]
    if len(samples) == 0 or np.isnan(estimate):
        return float("nan"), float("nan")
    tail = 100 * (1 - level) / 2
    low, median, high = np.percentile(samples, [tail, 50, 100 - tail])
    shift = estimate - median
    return float(np.clip(low + shift, *bounds)), float(np.clip(high + shift, *bounds))
