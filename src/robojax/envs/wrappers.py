"""Wrappers that add time limits, episode statistics and auto-reset to any ``Env``.

``make_env`` stacks them as ``AutoReset(EpisodeStatistics(TimeLimit(adapter)))`` (with
``OneHotObservation`` innermost for a discrete observation space): the time
limit only ever sets ``truncated``, statistics are read before the reset, and the reset
draws a fresh random initial state from a key carried in the state.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from robojax.envs.core import Env, TimeStep
from robojax.envs.spaces import Box, Discrete
from robojax.errors import EnvError


class Wrapper(Env):
    """Delegates everything to ``env``; subclasses override ``reset``/``step``."""

    def __init__(self, env: Env):
        self.env = env
        self.observation_space = env.observation_space
        self.action_space = env.action_space
        self.max_episode_steps = env.max_episode_steps

    def reset(self, key: jax.Array) -> tuple[Any, TimeStep]:
        return self.env.reset(key)

    def step(self, state: Any, action: jax.Array) -> tuple[Any, TimeStep]:
        return self.env.step(state, action)

    def render(self, states: list[Any], width: int = 320, height: int = 240) -> list[np.ndarray]:
        # Every wrapper state keeps the wrapped env's state in ``inner``.
        return self.env.render([s.inner for s in states], width, height)

    @property
    def unwrapped(self) -> Env:
        return self.env.unwrapped


@struct.dataclass
class TimeLimitState:
    inner: Any
    elapsed: jax.Array


class TimeLimit(Wrapper):
    """Sets ``truncated`` once ``max_episode_steps`` steps have passed without termination."""

    def __init__(self, env: Env, max_episode_steps: int):
        super().__init__(env)
        if max_episode_steps <= 0:
            raise ValueError(f"max_episode_steps must be positive, got {max_episode_steps}")
        self.max_episode_steps = int(max_episode_steps)

    def reset(self, key: jax.Array) -> tuple[TimeLimitState, TimeStep]:
        state, ts = self.env.reset(key)
        return TimeLimitState(state, jnp.zeros((), jnp.int32)), ts

    def step(self, state: TimeLimitState, action: jax.Array) -> tuple[TimeLimitState, TimeStep]:
        inner, ts = self.env.step(state.inner, action)
        elapsed = state.elapsed + 1
        out_of_time = jnp.logical_and(elapsed >= self.max_episode_steps, ~ts.terminated)
        ts = ts.replace(truncated=jnp.logical_or(ts.truncated, out_of_time))
        return TimeLimitState(inner, elapsed), ts


@struct.dataclass
class EpisodeStatisticsState:
    inner: Any
    episode_return: jax.Array
    episode_length: jax.Array


class EpisodeStatistics(Wrapper):
    """Reports the return and length of each finished episode in ``info``."""

    def reset(self, key: jax.Array) -> tuple[EpisodeStatisticsState, TimeStep]:
        state, ts = self.env.reset(key)
        zero = jnp.zeros((), jnp.float32)
        ts = ts.replace(info={**ts.info, "episode_return": zero, "episode_length": jnp.zeros((), jnp.int32)})
        return EpisodeStatisticsState(state, zero, jnp.zeros((), jnp.int32)), ts

    def step(self, state: EpisodeStatisticsState, action: jax.Array) -> tuple[EpisodeStatisticsState, TimeStep]:
        inner, ts = self.env.step(state.inner, action)
        episode_return = state.episode_return + ts.reward.astype(jnp.float32)
        episode_length = state.episode_length + 1
        ts = ts.replace(info={**ts.info, "episode_return": episode_return, "episode_length": episode_length})
        keep = ~ts.done
        new_state = EpisodeStatisticsState(inner, episode_return * keep, episode_length * keep)
        return new_state, ts


@struct.dataclass
class AutoResetState:
    inner: Any
    key: jax.Array


class AutoReset(Wrapper):
    """Starts a new, randomly drawn episode as soon as one ends.

    The returned ``obs`` is the first observation of the new episode; ``final_obs`` keeps
    the observation the old one ended in.
    """

    def reset(self, key: jax.Array) -> tuple[AutoResetState, TimeStep]:
        key, reset_key = jax.random.split(key)
        state, ts = self.env.reset(reset_key)
        return AutoResetState(state, key), ts

    def step(self, state: AutoResetState, action: jax.Array) -> tuple[AutoResetState, TimeStep]:
        inner, ts = self.env.step(state.inner, action)
        key, reset_key = jax.random.split(state.key)
        reset_inner, reset_ts = self.env.reset(reset_key)
        done = ts.done
        inner = jax.tree.map(lambda r, s: jnp.where(done, r, s), reset_inner, inner)
        obs = jax.tree.map(lambda r, o: jnp.where(done, r, o), reset_ts.obs, ts.obs)
        return AutoResetState(inner, key), ts.replace(obs=obs, final_obs=ts.obs)


def one_hot(obs: Any, n: int) -> Any:
    """One-hot float32 vectors of length ``n`` for integer observations (NumPy or JAX arrays)."""
    return (obs[..., None] == np.arange(n)).astype(np.float32)


class OneHotObservation(Wrapper):
    """Presents a ``Discrete(n)`` observation (a grid cell, a tabular state) as a one-hot ``Box`` of size ``n``."""

    def __init__(self, env: Env):
        super().__init__(env)
        if not isinstance(env.observation_space, Discrete):
            raise EnvError(f"OneHotObservation needs a Discrete observation space, got {env.observation_space}")
        self.n = env.observation_space.n
        self.observation_space = Box.create(0.0, 1.0, (self.n,))

    def _encode(self, ts: TimeStep) -> TimeStep:
        return ts.replace(obs=one_hot(ts.obs, self.n), final_obs=one_hot(ts.final_obs, self.n))

    def reset(self, key: jax.Array) -> tuple[Any, TimeStep]:
        state, ts = self.env.reset(key)
        return state, self._encode(ts)

    def step(self, state: Any, action: jax.Array) -> tuple[Any, TimeStep]:
        state, ts = self.env.step(state, action)
        return state, self._encode(ts)

    def render(self, states: list[Any], width: int = 320, height: int = 240) -> list[np.ndarray]:
        return self.env.render(states, width, height)
