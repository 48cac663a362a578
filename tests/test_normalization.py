"""Running statistics (observations, discounted-return scale) and the squashed policy's entropy."""

import distrax
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from robojax.normalization import ReturnScaler, RunningStats
from robojax.policies import tanh_gaussian_entropy


def test_running_stats_match_numpy_over_batches():
    data = np.random.default_rng(0).normal(3.0, 2.0, size=(5, 64, 3)).astype(np.float32)
    stats = RunningStats.create((3,))
    for batch in data:
        stats = stats.update(jnp.asarray(batch))
    np.testing.assert_allclose(stats.mean, data.reshape(-1, 3).mean(0), rtol=1e-4)
    np.testing.assert_allclose(stats.var, data.reshape(-1, 3).var(0), rtol=1e-3)


def test_return_scaler_tracks_discounted_returns_across_rollouts_and_episode_ends():
    gamma, rng = 0.9, np.random.default_rng(1)
    rewards = rng.normal(5.0, 1.0, size=(3, 20, 2)).astype(np.float32)  # 3 rollouts, 20 steps, 2 envs
    dones = np.zeros_like(rewards, dtype=bool)
    dones[0, 7, 0] = dones[1, 3, 1] = dones[2, 15, 0] = True
    scaler = ReturnScaler.create(2)
    for r, d in zip(rewards, dones, strict=True):
        scaler = scaler.update(jnp.asarray(r), jnp.asarray(d), gamma)
    # reference: the running discounted return of each env, reset after an episode's last step
    g, seen = np.zeros(2), []
    for r, d in zip(rewards.reshape(-1, 2), dones.reshape(-1, 2), strict=True):
        g = gamma * g + r
        seen.append(g.copy())
        g[d] = 0.0
    seen = np.array(seen)
    np.testing.assert_allclose(scaler.returns, g, rtol=1e-5)
    np.testing.assert_allclose(scaler.stats.var, seen.var(), rtol=1e-3)
    # rewards are divided by the return's std, not shifted: signs and ratios are kept
    scaled = np.asarray(scaler.scale(jnp.asarray([2.0, -1.0])))
    np.testing.assert_allclose(scaled, np.array([2.0, -1.0]) / np.sqrt(seen.var()), rtol=1e-3)


@pytest.mark.parametrize("loc, scale", [(0.3, 0.5), (-1.0, 2.0)])
def test_tanh_gaussian_entropy_estimates_the_squashed_entropy(loc, scale):
    dist = distrax.MultivariateNormalDiag(jnp.full(2, loc), jnp.full(2, scale))
    raw = dist.sample(seed=jax.random.PRNGKey(0), sample_shape=(100_000,))
    squashed = distrax.Transformed(dist, distrax.Block(distrax.Tanh(), ndims=1))
    _, log_prob = squashed.sample_and_log_prob(seed=jax.random.PRNGKey(1), sample_shape=(100_000,))
    estimate = float(tanh_gaussian_entropy(dist, raw).mean())
    assert estimate == pytest.approx(-float(log_prob.mean()), abs=0.02)
    assert estimate < float(dist.entropy())  # squashing only loses entropy


def test_tanh_gaussian_entropy_penalises_saturation():
    """Widening a Gaussian that already saturates tanh lowers the squashed entropy (the
    Gaussian's own entropy would rise without bound)."""

    def entropy_gradient(std):
        scale = jnp.full(1, std)
        raw = distrax.MultivariateNormalDiag(jnp.zeros(1), scale).sample(
            seed=jax.random.PRNGKey(0), sample_shape=(20_000,))
        return float(jax.grad(lambda s: tanh_gaussian_entropy(distrax.MultivariateNormalDiag(jnp.zeros(1), s), raw).mean())(scale)[0])

    assert entropy_gradient(3.0) < 0
    assert entropy_gradient(0.3) > 0
