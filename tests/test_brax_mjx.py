"""Brax's default physics backend, MJX, through robojax's adapter (the other Brax tests use
``generalized``). One compiled program (reset, then a scan of steps) keeps compilation short."""

import jax
import jax.numpy as jnp
import numpy as np

from robojax.envs import make_env


def test_mjx_steps_and_ends_episodes():
    env = make_env("brax/inverted_pendulum", backend="mjx", max_episode_steps=60)
    assert env.observation_space.shape == (4,) and env.action_space.shape == (1,)

    @jax.jit
    def episode(key):
        state, first = env.reset(key)

        def step(state, _):
            state, ts = env.step(state, jnp.ones(1))  # push the cart one way: the pole falls
            return state, (ts.obs, ts.terminated, ts.truncated)

        return first.obs, jax.lax.scan(step, state, None, length=60)[1]

    first, (obs, terminated, truncated) = jax.device_get(episode(jax.random.PRNGKey(0)))
    assert np.all(np.isfinite(obs)) and not np.allclose(obs[0], first)
    ended = int(np.argmax(terminated))
    assert terminated.any() and 0 < ended < 59 and not truncated[: ended + 1].any()
    assert abs(obs[ended - 1, 1]) > abs(first[1])  # the pole's angle grew before the episode ended
