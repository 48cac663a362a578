"""GAE and TD targets against a plain NumPy reference, with terminations and truncations."""

import jax
import jax.numpy as jnp
import numpy as np

from robojax.returns import gae_advantages, next_state_values, td_target


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


def test_next_state_values_reuse_rollout_values():
    """Only truncated and last steps are re-evaluated; the result equals evaluating every next_obs."""
    T, N = 12, 3
    rng = np.random.default_rng(0)
    obs = rng.normal(size=(T + 1, N, 2)).astype(np.float32)  # obs[t + 1] is next_obs[t] within episodes
    truncated = np.zeros((T, N), bool)
    truncated[[4, 9], 0] = True
    truncated[7, 2] = True
    next_obs = obs[1:].copy()
    next_obs[truncated] = rng.normal(size=(truncated.sum(), 2))  # true final observations
    value_fn = lambda o: jnp.sin(o).sum(-1) * 3.0  # noqa: E731
    value = value_fn(jnp.asarray(obs[:-1]))
    expected = value_fn(jnp.asarray(next_obs))
    # Time limits 6, 4, 12 bound the truncations per env by ceil(12 / limit) = 2, 3, 1; with 1
    # (fewer than env 0's 2 truncations) it falls back to evaluating all.
    for limit in (None, 6, 4, 12):
        got = jax.jit(lambda v, o, t: next_state_values(value_fn, v, o, t, limit))(value, next_obs, truncated)
        np.testing.assert_allclose(got, expected, rtol=1e-6, err_msg=f"time_limit={limit}")
    # At most one truncation per env (the bound of 1 holds: no fallback), env 1 has none.
    once = truncated.copy()
    once[9, 0] = False
    expected_once = jnp.where(once, value_fn(jnp.asarray(next_obs)), value_fn(jnp.asarray(obs[1:])))
    got = jax.jit(lambda v, o, t: next_state_values(value_fn, v, o, t, 12))(value, next_obs, once)
    np.testing.assert_allclose(got, expected_once, rtol=1e-6)
    # The bound is used: with a bound of 2 the value function sees 2 x N final obs plus the last step's.
    seen = []
    counting = lambda o: (seen.append(o.shape), value_fn(o))[1]  # noqa: E731
    jax.eval_shape(lambda: next_state_values(counting, value, jnp.asarray(next_obs), jnp.asarray(truncated), 6))
    assert (2, N, 2) in seen and (N, 2) in seen
