"""Aggregate statistics over seeds, reported the way rliable does (Agarwal et al., 2021).

Point estimates (mean, median, interquartile mean) with percentile-bootstrap confidence
intervals over seeds (resampling seeds with replacement), computed with ``scipy.stats``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

# scipy.stats is imported inside the functions that use it: at module level it would add about
# 0.5 s to every ``robojax train`` start-up (the trainer imports this module for sweep results).

#: ``statistic(x, axis) -> x reduced along axis``
Statistic = Callable[..., np.ndarray]


def iqm(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Interquartile mean: the mean of the middle 50% of values (25% trimmed from each end)."""
    from scipy import stats as sps

    return sps.trim_mean(x, 0.25, axis=axis)


STATISTICS: dict[str, Statistic] = {"mean": np.mean, "median": np.median, "iqm": iqm}


def bootstrap_ci(
    x: np.ndarray, statistic: Statistic, confidence: float = 0.95, resamples: int = 2000, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile-bootstrap interval of ``statistic`` over the last axis of ``x`` (the seeds).

    Leading axes are independent problems (e.g. points of a learning curve). With fewer than
    two seeds there is no interval: both ends are NaN. Deterministic for a given ``seed``.
    """
    x = np.asarray(x, np.float64)
    if x.shape[-1] < 2:
        nan = np.full(x.shape[:-1], np.nan)
        return nan, nan
    if np.all(x == x[..., :1]):  # no spread: scipy would warn about degenerate data
        value = statistic(x, axis=-1)
        return value, value
    from scipy import stats as sps

    result = sps.bootstrap(
        (x,), statistic, n_resamples=resamples, confidence_level=confidence, method="percentile",
        axis=-1, vectorized=True, rng=np.random.default_rng(seed),
    )
    return result.confidence_interval.low, result.confidence_interval.high


def summarize_seeds(x: np.ndarray, confidence: float = 0.95, seed: int = 0) -> dict[str, tuple[float, float, float]]:
    """``{name: (estimate, low, high)}`` for mean, median and IQM of per-seed values ``x``."""
    x = np.asarray(x, np.float64)
    out = {}
    for name, statistic in STATISTICS.items():
        low, high = bootstrap_ci(x, statistic, confidence, seed=seed)
        out[name] = (float(statistic(x, axis=-1)), float(low), float(high))
    return out
