"""The functional environment interface every suite adapter implements.

An env is a pair of pure functions over a single (unbatched) environment:
``reset(key) -> (state, timestep)`` and ``step(state, action) -> (state, timestep)``.
Randomness lives in the state, so ``step`` needs no key. Vectorisation is the loop's job
(``jax.vmap``); time limits, auto-reset and episode statistics are wrappers (``wrappers.py``).
"""

from __future__ import annotations

import abc
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from robojax.envs.spaces import EnvSpec


@struct.dataclass
class TimeStep:
    """What an env returns after ``reset`` or ``step``.

    ``final_obs`` is the true observation the transition ended in: after an auto-reset
    ``obs`` already belongs to the next episode, and a truncated episode must be
    bootstrapped from ``final_obs``. Where no episode ended, ``final_obs == obs``.
    ``info`` holds per-step extras: ``episode_return``/``episode_length`` (of the episode
    that ended on this step, valid where ``terminated | truncated``) and ``success`` if the
    env reports one.
    """

    obs: jax.Array
    reward: jax.Array
    terminated: jax.Array
    truncated: jax.Array
    final_obs: jax.Array
    info: dict[str, jax.Array] = struct.field(default_factory=dict)

    @property
    def done(self) -> jax.Array:
        return jnp.logical_or(self.terminated, self.truncated)


def first_timestep(obs: jax.Array, info: dict[str, jax.Array] | None = None) -> TimeStep:
    """The timestep returned by ``reset``: zero reward, no episode end."""
    false = jnp.zeros((), dtype=bool)
    return TimeStep(
        obs=obs,
        reward=jnp.zeros((), jnp.float32),
        terminated=false,
        truncated=false,
        final_obs=obs,
        info=dict(info or {}),
    )


class Env(EnvSpec, abc.ABC):
    """A single JAX environment with pure ``reset``/``step``."""

    @abc.abstractmethod
    def reset(self, key: jax.Array) -> tuple[Any, TimeStep]:
        """Start an episode from a random initial state drawn with ``key``."""

    @abc.abstractmethod
    def step(self, state: Any, action: jax.Array) -> tuple[Any, TimeStep]:
        """Advance one step."""

    def render(self, states: list[Any], width: int = 320, height: int = 240) -> list[np.ndarray]:
        """RGB frames (H, W, 3) of a sequence of single-env states, for videos."""
        raise NotImplementedError(f"{self!r} cannot render frames; videos need an env that can (e.g. brax, gymnasium)")
