"""Statistics over seeds: IQM, bootstrap confidence intervals."""

import numpy as np
import pytest

from robojax.stats import bootstrap_ci, iqm, summarize_seeds


def test_iqm_of_known_data():
    # The middle half of 8 values is [1, 2, 3, 4]: the outliers at both ends do not count.
    assert iqm(np.array([-100.0, 0.0, 1.0, 2.0, 3.0, 4.0, 100.0, 1000.0])) == pytest.approx(2.5)
    np.testing.assert_allclose(iqm(np.array([[1.0, 2.0, 3.0, 4.0], [0.0, 0.0, 8.0, 8.0]])), [2.5, 4.0])


def test_intervals_contain_the_estimate_and_are_deterministic():
    x = np.random.default_rng(1).normal(10.0, 3.0, size=12)
    stats = summarize_seeds(x, seed=3)
    for name, (estimate, low, high) in stats.items():
        assert low < estimate < high, name
        assert high - low < 6 * 3.0 / np.sqrt(12), name  # a sensible width, not (-inf, inf)
    assert summarize_seeds(x, seed=3) == stats
    assert summarize_seeds(x, seed=4) != stats  # the seed is what fixes the resamples


def test_interval_per_point_and_degenerate_cases():
    x = np.array([[1.0, 2.0, 3.0, 4.0], [5.0, 5.0, 5.0, 5.0]])
    low, high = bootstrap_ci(x, np.mean)
    assert low.shape == high.shape == (2,)
    assert 1.0 <= low[0] < 2.5 < high[0] <= 4.0
    assert low[1] == high[1] == 5.0  # no spread, no interval width
    low, high = bootstrap_ci(np.array([3.0]), np.mean)
    assert np.isnan(low) and np.isnan(high)  # one seed: no interval
