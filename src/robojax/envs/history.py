"""``History``: the last K observations of the current episode as one ``(K, D + 1)`` array.

Row ``K - 1`` is the newest observation, row 0 the oldest; each row is the flattened
observation followed by a validity channel (1 = an observation of this episode, 0 = a slot
before the episode started, whose features are zeros). A single array keeps every loop,
buffer and normaliser unchanged; the ``transformer`` encoder reads the mask with
``network.transformer.validity_channel=-1`` (tokens="history"). It wraps the suite adapter,
under ``AutoReset``, so a new episode starts from an empty window and never sees the
previous episode's observations.
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from robojax.envs.core import Env, TimeStep
from robojax.envs.spaces import Box
from robojax.envs.wrappers import Wrapper
from robojax.errors import ConfigError


@struct.dataclass
class HistoryState:
    inner: Any
    window: jax.Array  # (K, D + 1): flattened observations and the validity channel


class History(Wrapper):
    """Observations become the window of the last ``length`` observations plus a validity channel."""

    def __init__(self, env: Env, length: int):
        super().__init__(env)
        if not isinstance(length, int) or isinstance(length, bool) or length < 1:
            raise ConfigError(f"env.kwargs.history={length!r}: the history length must be an int >= 1")
        self.length = length
        space = env.observation_space
        # Empty slots hold zeros, so 0 lies inside the bounds.
        low = np.minimum(np.append(space.low.reshape(-1), 0.0), 0.0)
        high = np.maximum(np.append(space.high.reshape(-1), 1.0), 0.0)
        self.observation_space = Box.create(low, high, (length, math.prod(space.shape) + 1))

    def _row(self, obs: jax.Array) -> jax.Array:
        return jnp.append(obs.reshape(-1).astype(jnp.float32), 1.0)

    def reset(self, key: jax.Array) -> tuple[HistoryState, TimeStep]:
        inner, ts = self.env.reset(key)
        window = jnp.zeros(self.observation_space.shape, jnp.float32).at[-1].set(self._row(ts.obs))
        return HistoryState(inner, window), ts.replace(obs=window, final_obs=window)

    def step(self, state: HistoryState, action: jax.Array) -> tuple[HistoryState, TimeStep]:
        inner, ts = self.env.step(state.inner, action)
        window = jnp.concatenate([state.window[1:], self._row(ts.obs)[None]])
        return HistoryState(inner, window), ts.replace(obs=window, final_obs=window)
