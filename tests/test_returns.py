"""GAE and TD targets against a plain NumPy reference, with terminations and truncations."""

import jax.numpy as jnp
import numpy as np

from robojax.returns import gae_advantages, td_target


def gae_reference(reward, value, next_value, terminated, truncated, gamma, lam):
    """Per env, backwards over time, written as plainly as possible."""
    T, N = reward.shape
    adv = np.zeros((T, N))
    for n in range(N):
        running = 0.0
        for t in reversed(range(T)):
            bootstrap = 0.0 if terminated[t, n] else next_value[t, n]
            delta = reward[t, n] + gamma * bootstrap - value[t, n]
            if terminated[t, n] or truncated[t, n]:
                running = 0.0  # the next step belongs to a new episode
            running = delta + gamma * lam * running
            adv[t, n] = running
    return adv, adv + value


def test_gae_matches_reference_with_terminations_and_truncations():
    rng = np.random.default_rng(0)
    T, N = 13, 5
    reward = rng.normal(size=(T, N))
    value = rng.normal(size=(T, N))
    next_value = rng.normal(size=(T, N))
    terminated = rng.random((T, N)) < 0.15
    truncated = (rng.random((T, N)) < 0.15) & ~terminated
    assert terminated.any() and truncated.any()
    adv, target = gae_advantages(
        jnp.asarray(reward), jnp.asarray(value), jnp.asarray(next_value),
        jnp.asarray(terminated), jnp.asarray(truncated), 0.97, 0.9,
    )
    ref_adv, ref_target = gae_reference(reward, value, next_value, terminated, truncated, 0.97, 0.9)
    np.testing.assert_allclose(adv, ref_adv, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(target, ref_target, rtol=1e-5, atol=1e-5)


def test_gae_runs_along_time_not_across_envs():
    # Env 0 gets reward only at its last step; env 1 never. Credit must flow back in time in env 0 only.
    reward = np.zeros((4, 2))
    reward[3, 0] = 1.0
    zeros = np.zeros((4, 2))
    no = np.zeros((4, 2), bool)
    adv, _ = gae_advantages(jnp.asarray(reward), jnp.asarray(zeros), jnp.asarray(zeros), jnp.asarray(no), jnp.asarray(no), 1.0, 1.0)
    np.testing.assert_allclose(np.asarray(adv)[:, 0], 1.0)
    np.testing.assert_allclose(np.asarray(adv)[:, 1], 0.0)


def test_truncation_bootstraps_and_termination_does_not():
    reward = jnp.array([1.0, 1.0])
    next_value = jnp.array([10.0, 10.0])
    terminated = jnp.array([True, False])
    np.testing.assert_allclose(td_target(reward, next_value, terminated, 0.9), [1.0, 10.0])
