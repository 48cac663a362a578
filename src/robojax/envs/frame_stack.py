"""Frame stacking for JAX envs and host simulators: the last ``k`` observations, concatenated
along the last (channel) axis.

An image part ``(H, W, C)`` becomes ``(H, W, k * C)`` (oldest frame first), a vector part
``(d,)`` becomes ``(k * d,)``; every part of a dict observation is stacked. After a reset the
stack holds ``k`` copies of the first observation. ``final_obs`` is the stack the episode
ended in. ``make_env(..., frame_stack=k)`` applies it (``env.kwargs.frame_stack``).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from robojax.envs.core import Env, TimeStep
from robojax.envs.host import HostEnv, HostStep
from robojax.envs.spaces import Box, Dict, ObsSpace
from robojax.envs.wrappers import Wrapper
from robojax.errors import ConfigError


def check_frame_stack(num_frames: Any) -> int:
    """``num_frames`` as an int >= 1, else a ``ConfigError`` naming the setting."""
    if isinstance(num_frames, bool) or not isinstance(num_frames, int) or num_frames < 1:
        raise ConfigError(f"env.kwargs.frame_stack={num_frames!r}: must be an integer >= 1 (1 = no stacking)")
    return num_frames


def stacked_space(space: ObsSpace, num_frames: int) -> ObsSpace:
    """The observation space of ``num_frames`` stacked observations of ``space``."""
    if isinstance(space, Dict):
        return Dict({k: stacked_space(s, num_frames) for k, s in space.spaces.items()})
    tile = (1,) * (len(space.shape) - 1) + (num_frames,)
    shape = space.shape[:-1] + (space.shape[-1] * num_frames,)
    return Box.create(np.tile(space.low, tile), np.tile(space.high, tile), shape, space.dtype)


def _push(xp: Any, stack: Any, obs: Any) -> Any:
    """Drop the oldest frame of every part of ``stack`` and append ``obs`` (``xp``: jnp or np)."""
    return jax.tree.map(lambda s, o: xp.concatenate([s[..., o.shape[-1] :], o], -1), stack, obs)


def _repeat(xp: Any, obs: Any, num_frames: int) -> Any:
    return jax.tree.map(lambda o: xp.concatenate([o] * num_frames, -1), obs)


@struct.dataclass
class FrameStackState:
    inner: Any
    stack: Any  # the current stacked observation


class FrameStack(Wrapper):
    """Stacks the last ``num_frames`` observations of a JAX env (inside ``AutoReset``)."""

    def __init__(self, env: Env, num_frames: int):
        super().__init__(env)
        self.num_frames = check_frame_stack(num_frames)
        self.observation_space = stacked_space(env.observation_space, self.num_frames)

    def reset(self, key: jax.Array) -> tuple[FrameStackState, TimeStep]:
        state, ts = self.env.reset(key)
        stack = _repeat(jnp, ts.obs, self.num_frames)
        return FrameStackState(state, stack), ts.replace(obs=stack, final_obs=stack)

    def step(self, state: FrameStackState, action: jax.Array) -> tuple[FrameStackState, TimeStep]:
        inner, ts = self.env.step(state.inner, action)
        stack = _push(jnp, state.stack, ts.obs)
        final = _push(jnp, state.stack, ts.final_obs)
        return FrameStackState(inner, stack), ts.replace(obs=stack, final_obs=final)


class FrameStackVectorEnv:
    """A ``HostVectorEnv`` whose observations are the last ``num_frames`` frames of each env."""

    def __init__(self, env: Any, num_frames: int):
        self.env, self.num_frames = env, num_frames
        self.num_envs, self.reports_success = env.num_envs, env.reports_success
        self._stack: Any = None

    def reset(self, seed: int) -> Any:
        self._stack = _repeat(np, self.env.reset(seed), self.num_frames)
        return self._stack

    def step(self, action: np.ndarray) -> HostStep:
        step = self.env.step(action)
        final = _push(np, self._stack, step.final_obs)
        stack = _push(np, self._stack, step.obs)
        done = step.terminated | step.truncated
        if done.any():  # a new episode starts from copies of its first frame
            fresh = _repeat(np, step.obs, self.num_frames)
            stack = jax.tree.map(lambda s, f: np.where(done.reshape(-1, *[1] * (s.ndim - 1)), f, s), stack, fresh)
        self._stack = stack
        step.obs, step.final_obs = stack, final
        return step

    def get_state(self) -> tuple:
        """The inner vector env's state and the frames held (see ``HostVectorEnv.get_state``)."""
        return self.env.get_state(), self._stack

    def set_state(self, state: tuple) -> None:
        inner, stack = state
        self.env.set_state(inner)
        self._stack = jax.tree.map(np.copy, stack)

    def render(self) -> np.ndarray:
        return self.env.render()

    def close(self) -> None:
        self.env.close()


class FrameStackHostEnv(HostEnv):
    """A host simulator whose vector envs stack the last ``num_frames`` observations."""

    def __init__(self, env: HostEnv, num_frames: int):
        self.env = env
        self.num_frames = check_frame_stack(num_frames)
        self.observation_space = stacked_space(env.observation_space, self.num_frames)
        self.action_space = env.action_space
        self.max_episode_steps = env.max_episode_steps

    def create(self, num_envs: int, render: bool = False) -> FrameStackVectorEnv:
        return FrameStackVectorEnv(self.env.create(num_envs, render), self.num_frames)

    @property
    def unwrapped(self) -> HostEnv:
        return self.env.unwrapped
