"""Adapter for gymnax environments (``gymnax/CartPole-v1``, ``gymnax/Pendulum-v1``, ...)."""

from __future__ import annotations

import importlib.util
import os
import sys
import types
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from robojax.envs.core import Env, TimeStep, first_timestep
from robojax.envs.spaces import Box, Discrete, Space
from robojax.errors import EnvError


# MNISTBandit-bsuite downloads MNIST when made (gymnax.utils.load_mnist) unless these files are there.
MNIST_DIR = "/tmp/mnist"
MNIST_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


# Imported by gymnax at module level for its render functions only (pong, catch, ...): about
# 1.5 s of every start-up, seaborn pulling in pandas and scipy.stats. Imported on first use instead.
_RENDER_MODULES = ("matplotlib.pyplot", "seaborn")


class _ImportOnUse(types.ModuleType):
    """Stands in for a module in ``sys.modules`` until one of its attributes is used, then imports it."""

    def __getattr__(self, attr: str) -> Any:
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        return getattr(importlib.import_module(self.__name__), attr)


def _import_gymnax() -> Any:
    """``import gymnax`` with its rendering libraries imported only when something renders."""
    if "gymnax" not in sys.modules:
        for name in _RENDER_MODULES:
            if name not in sys.modules and importlib.util.find_spec(name.split(".")[0]) is not None:
                sys.modules[name] = _ImportOnUse(name)
    import gymnax

    return gymnax


def available() -> list[str]:
    return list(_import_gymnax().registered_envs)


def missing(name: str) -> str | None:
    """What ``gymnax/NAME`` lacks on this machine to run offline (``None``: nothing)."""
    if name == "MNISTBandit-bsuite" and not all(os.path.isfile(os.path.join(MNIST_DIR, f)) for f in MNIST_FILES):
        return f"needs MNIST, which it downloads into {MNIST_DIR} when made (no copy there yet)"
    return None


def _convert_space(space: Any) -> Space:
    from gymnax.environments import spaces as gspaces

    if isinstance(space, gspaces.Discrete):
        return Discrete(int(space.n))
    if isinstance(space, gspaces.Box):
        # The observation dtype is decided here (float32, MinAtar's boolean frames included); ``_obs`` casts to it.
        return Box.create(np.asarray(space.low), np.asarray(space.high), tuple(space.shape))
    raise EnvError(f"gymnax space {type(space).__name__} is not supported (only Discrete and Box)")


@struct.dataclass
class GymnaxState:
    env_state: Any
    key: jax.Array  # for step_env; unused (never split) if step_env draws no random numbers


def _step_draws_random(env: Any, params: Any) -> bool:
    """Whether gymnax's ``step_env`` uses its key (CartPole's and Pendulum's do not).

    Decided from the traced program: if the key is an input of no operation, splitting it
    every step is wasted work (~4% of PPO's step on CartPole).
    """

    def step(step_key, key):  # traced only: nothing is compiled or run
        _, state = env.reset_env(key, params)
        return env.step_env(step_key, state, env.action_space(params).sample(key), params)

    key = jax.ShapeDtypeStruct((2,), jnp.uint32)
    jaxpr = jax.make_jaxpr(step)(key, key).jaxpr
    key_var = jaxpr.invars[0]
    return key_var in jaxpr.outvars or any(key_var in eqn.invars for eqn in jaxpr.eqns)


class GymnaxEnv(Env):
    """Wraps gymnax's ``reset_env``/``step_env`` (no built-in auto-reset or time limit).

    gymnax's own episode limit ``max_steps_in_episode`` becomes ``max_episode_steps`` and is
    applied by the ``TimeLimit`` wrapper as truncation.
    """

    def __init__(self, name: str, max_episode_steps: int | None = None, **env_kwargs: Any):
        gymnax = _import_gymnax()
        self.name = name
        try:
            self._env, params = gymnax.make(name, **env_kwargs)
        except OSError as e:  # MNISTBandit downloads MNIST when made
            raise EnvError(f"gymnax/{name} could not download its data (needs the internet): {e}") from e
        if max_episode_steps is not None:
            params = params.replace(max_steps_in_episode=int(max_episode_steps))
        self._params = params
        self.max_episode_steps = int(params.max_steps_in_episode)
        # A Discrete observation space (FrozenLake) stays discrete here; ``make_env`` one-hot encodes it.
        self.observation_space = _convert_space(self._env.observation_space(params))
        self.action_space = _convert_space(self._env.action_space(params))
        self._random_steps = _step_draws_random(self._env, params)

    def _obs(self, obs: Any) -> jax.Array:
        """gymnax's observation as the declared observation space's dtype (the one place it is cast)."""
        return jnp.asarray(obs, self.observation_space.dtype)

    def reset(self, key: jax.Array) -> tuple[GymnaxState, TimeStep]:
        key, reset_key = jax.random.split(key) if self._random_steps else (key, key)
        obs, env_state = self._env.reset_env(reset_key, self._params)
        # Some gymnax states hold Python ints/bools until the first step (MinAtar's ``time``):
        # as arrays, the state has one fixed type, as ``lax.scan`` and the auto-reset need.
        env_state = jax.tree.map(jnp.asarray, env_state)
        return GymnaxState(env_state, key), first_timestep(self._obs(obs))

    def step(self, state: GymnaxState, action: jax.Array) -> tuple[GymnaxState, TimeStep]:
        key, step_key = jax.random.split(state.key) if self._random_steps else (state.key, state.key)
        obs, env_state, reward, terminated, _ = self._env.step_env(step_key, state.env_state, action, self._params)
        obs = self._obs(obs)
        ts = TimeStep(
            obs=obs,
            reward=jnp.asarray(reward, jnp.float32),
            terminated=jnp.asarray(terminated, bool),
            truncated=jnp.zeros((), bool),
            final_obs=obs,
        )
        return GymnaxState(env_state, key), ts
