"""Brax's default physics backend, MJX, through robojax's adapter (the other Brax tests use
``generalized``, which compiles faster)."""

import jax
import jax.numpy as jnp
import numpy as np

from robojax.envs import make_env


def test_mjx_matches_generalized_and_ends_episodes():
    mjx = make_env("brax/inverted_pendulum", backend="mjx", max_episode_steps=50)
    ref = make_env("brax/inverted_pendulum", backend="generalized", max_episode_steps=50)
    key = jax.random.PRNGKey(0)
    (s_mjx, t_mjx), (s_ref, t_ref) = jax.jit(mjx.reset)(key), jax.jit(ref.reset)(key)
    # same initial state distribution and observation layout (cart position, angle, velocities)
    np.testing.assert_allclose(np.asarray(t_mjx.obs), np.asarray(t_ref.obs), atol=1e-5)
    step_mjx, step_ref = jax.jit(mjx.step), jax.jit(ref.step)
    push = jnp.ones(1)
    for _ in range(3):
        (s_mjx, t_mjx), (s_ref, t_ref) = step_mjx(s_mjx, push), step_ref(s_ref, push)
    np.testing.assert_allclose(np.asarray(t_mjx.obs), np.asarray(t_ref.obs), atol=0.02)
    assert not np.allclose(np.asarray(t_mjx.obs), np.asarray(jax.jit(mjx.reset)(key)[1].obs))
    # pushed one way, the pole falls: a termination, not a truncation
    for _ in range(47):
        s_mjx, t_mjx = step_mjx(s_mjx, push)
        if bool(t_mjx.terminated):
            break
    assert bool(t_mjx.terminated) and not bool(t_mjx.truncated)
