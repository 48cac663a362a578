"""The JAX loop: (T, N, ...) layout, per-env seeds and final-observation handling."""

import jax
import jax.numpy as jnp
import numpy as np

from robojax.envs import make_env
from robojax.loops import JaxLoop, episode_metrics


def constant_policy(action, obs, key):
    """A loop policy whose ``params`` are the action every env takes."""
    a = jnp.broadcast_to(action, (obs.shape[0], *jnp.shape(action)))
    return a, a, {"zero": jnp.zeros(obs.shape[0])}


def test_rollout_layout_and_final_obs():
    env = make_env("gymnax/Pendulum-v1", max_episode_steps=7)
    loop = JaxLoop(env, num_envs=3)
    state = loop.reset(jax.random.PRNGKey(0))
    T = 16
    state, batch, _ = jax.jit(lambda s, k: loop.rollout(s, constant_policy, jnp.zeros(1), k, T))(state, jax.random.PRNGKey(1))
    assert batch.obs.shape == (T, 3, 3) and batch.next_obs.shape == (T, 3, 3)
    assert batch.action.shape == (T, 3, 1) and batch.reward.shape == (T, 3)
    assert batch.extras["zero"].shape == (T, 3)
    done = np.asarray(batch.truncated)
    # all envs truncate after 7 steps (time limit), never terminate
    assert done[6].all() and done[13].all() and done.sum() == 6 and not np.asarray(batch.terminated).any()
    obs, next_obs = np.asarray(batch.obs), np.asarray(batch.next_obs)
    # within an episode next_obs[t] is obs[t + 1]; at an episode end it is the true final obs
    np.testing.assert_array_equal(next_obs[:6], obs[1:7])
    assert not np.allclose(next_obs[6], obs[7])
    # no episode ends at the last step, so the loop continues from the last next_obs
    np.testing.assert_array_equal(np.asarray(state.obs), next_obs[-1])
    metrics = episode_metrics(batch)
    assert float(metrics["episode_length"]) == 7.0


def test_parallel_envs_start_from_different_states():
    loop = JaxLoop(make_env("gymnax/CartPole-v1"), num_envs=8)
    obs = np.asarray(loop.reset(jax.random.PRNGKey(0)).obs)
    assert len({tuple(o) for o in obs}) == 8


def test_episode_metrics_nan_without_episode_end():
    loop = JaxLoop(make_env("gymnax/Pendulum-v1"), num_envs=2)
    state = loop.reset(jax.random.PRNGKey(0))
    _, batch, _ = loop.rollout(state, constant_policy, jnp.zeros(1), jax.random.PRNGKey(1), 5)
    assert np.isnan(float(episode_metrics(batch)["episode_return"]))
