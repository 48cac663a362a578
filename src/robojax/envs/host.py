"""Simulators stepped on the host (Gymnasium, MetaWorld, ...): the vectorised counterpart of ``Env``.

A ``HostEnv`` describes a task (spaces, time limit) and creates ``HostVectorEnv``s of any
size. A ``HostVectorEnv`` steps N simulators together on NumPy arrays, auto-resets them in
the same step (keeping the true final observation), and tracks episode statistics, so the
host loop can produce exactly the fields the JAX loop produces.
"""

from __future__ import annotations

import abc
import dataclasses
from typing import Any

import jax
import numpy as np

from robojax.envs.host_state import restore, snapshot
from robojax.envs.spaces import Box, Dict, Discrete, EnvSpec, Space
from robojax.errors import EnvError


@dataclasses.dataclass
class HostStep:
    """One step of N host envs (NumPy arrays with a leading env axis)."""

    obs: np.ndarray
    reward: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    final_obs: np.ndarray
    info: dict[str, np.ndarray]


class HostVectorEnv:
    """Wraps a Gymnasium ``VectorEnv`` created with ``autoreset_mode=SAME_STEP``.

    ``info`` of each step has ``episode_return``/``episode_length`` (valid where an episode
    ended) and, if the env reports ``success``, whether the episode succeeded at any step.
    """

    def __init__(self, vector_env: Any, reports_success: bool = False):
        self.env = vector_env
        self.num_envs = int(vector_env.num_envs)
        self.reports_success = reports_success
        self._return = np.zeros(self.num_envs, np.float64)
        self._length = np.zeros(self.num_envs, np.int32)
        self._success = np.zeros(self.num_envs, bool)

    def reset(self, seed: int) -> np.ndarray:
        """Reset all envs; env ``i`` is seeded with ``seed + i`` (no two share an initial state)."""
        obs, _ = self.env.reset(seed=int(seed))
        self._return[:] = 0.0
        self._length[:] = 0
        self._success[:] = False
        return host_observation(obs)

    def step(self, action: np.ndarray) -> HostStep:
        obs, reward, terminated, truncated, info = self.env.step(action)
        obs = host_observation(obs)
        final_obs = jax.tree.map(np.copy, obs)
        if "_final_obs" in info:
            for i in np.flatnonzero(info["_final_obs"]):
                final = host_observation(info["final_obs"][i])
                jax.tree.map(lambda dst, src: dst.__setitem__(i, src), final_obs, final)
        success = None
        if self.reports_success:
            # With SAME_STEP autoreset, ``info`` of an env whose episode ended this step is its
            # reset info; the info of the last step of its episode is in ``final_info``.
            success = _info_flag(info, "success", self.num_envs)
            if "final_info" in info:
                ended = np.asarray(info.get("_final_info", np.zeros(self.num_envs, bool)), bool)
                success = np.where(ended, _info_flag(info["final_info"], "success", self.num_envs), success)
        return self._record(obs, reward, terminated, truncated, final_obs, success)

    def _record(self, obs, reward, terminated, truncated, final_obs, success) -> HostStep:
        """Update the episode statistics with one step (NumPy arrays) and build the ``HostStep``."""
        terminated, truncated = np.asarray(terminated, bool), np.asarray(truncated, bool)
        reward = np.asarray(reward)
        done = terminated | truncated
        self._return += reward
        self._length += 1
        out = {"episode_return": self._return.astype(np.float32), "episode_length": self._length.copy()}
        if self.reports_success:
            if success is not None:
                self._success |= np.asarray(success, bool)
            out["success"] = self._success.astype(np.float32)
            self._success[done] = False
        self._return[done] = 0.0
        self._length[done] = 0
        return HostStep(obs, reward.astype(np.float32), terminated, truncated, final_obs, out)

    def get_state(self) -> tuple:
        """The simulators' state and the running episode statistics, for an exact resume
        (``robojax.envs.host_state``); raises ``SimulatorStateError`` where it cannot be saved."""
        return snapshot(self.env, self._name), self._return.copy(), self._length.copy(), self._success.copy()

    def set_state(self, state: tuple) -> None:
        """Continue from ``get_state()`` of a vector env made the same way."""
        simulators, episode_return, episode_length, success = state
        restore(self.env, simulators, self._name)
        self._return, self._length, self._success = episode_return.copy(), episode_length.copy(), success.copy()

    @property
    def _name(self) -> str:
        """The env's id for messages (``Hopper-v5``)."""
        return getattr(getattr(self.env, "spec", None), "id", None) or type(self.env).__name__

    def render(self) -> np.ndarray:
        """RGB frame of env 0 (needs an env created with ``render=True``)."""
        frames = self.env.render()
        return np.asarray(frames[0] if isinstance(frames, (tuple, list)) else frames)

    def close(self) -> None:
        self.env.close()


def host_observation(obs: Any) -> Any:
    """A simulator's observation (array or dict of arrays) as NumPy: floats as float32, other
    dtypes (uint8 images) kept as they are."""

    def convert(x: Any) -> np.ndarray:
        x = np.asarray(x)
        return x.astype(np.float32) if np.issubdtype(x.dtype, np.floating) else x

    return jax.tree.map(convert, dict(obs) if isinstance(obs, dict) else obs)


def _info_flag(info: dict, key: str, num_envs: int) -> np.ndarray:
    """``info[key]`` as a bool array over envs (False where absent or masked out by ``info["_" + key]``)."""
    if key not in info:
        return np.zeros(num_envs, bool)
    flag = np.asarray(info[key]).astype(bool)
    if "_" + key in info:
        flag &= np.asarray(info["_" + key], bool)
    return flag


class HostEnv(EnvSpec, abc.ABC):
    """A task run by a Python simulator: its spaces, time limit, and a factory of vector envs."""

    @abc.abstractmethod
    def create(self, num_envs: int, render: bool = False) -> HostVectorEnv:
        """``num_envs`` simulators stepped together (``render=True`` for RGB frames)."""


def convert_gymnasium_space(space: Any, what: str) -> Space | Dict:
    """A Gymnasium ``Box``/``Discrete``/``Dict`` (of boxes) as a robojax space; anything else is
    refused by name. Float boxes become float32, integer boxes (uint8 images) keep their dtype."""
    from gymnasium import spaces

    if isinstance(space, spaces.Discrete):
        return Discrete(int(space.n))
    if isinstance(space, spaces.Box):
        dtype = np.float32 if np.issubdtype(space.dtype, np.floating) else space.dtype
        return Box.create(space.low, space.high, space.shape, dtype)
    if isinstance(space, spaces.Dict):
        parts = {k: convert_gymnasium_space(s, f"{what} part {k!r}") for k, s in space.spaces.items()}
        if not all(isinstance(p, Box) for p in parts.values()):
            raise EnvError(f"{what} space: only Dict spaces of Box parts are supported")
        return Dict(parts)
    raise EnvError(f"{what} space {space} is not supported (only Box, Discrete and Dict; discrete observations are one-hot encoded)")
