"""Observation and action spaces: shapes, dtypes and bounds of single (unbatched) env values."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np


@dataclasses.dataclass(frozen=True)
class Box:
    """A box in R^shape with elementwise bounds (``low``/``high`` may be +-inf)."""

    low: np.ndarray
    high: np.ndarray
    shape: tuple[int, ...]
    dtype: np.dtype = np.dtype(np.float32)

    @classmethod
    def create(cls, low, high, shape: tuple[int, ...], dtype=np.float32) -> Box:
        low = np.broadcast_to(np.asarray(low, dtype=np.float32), shape).copy()
        high = np.broadcast_to(np.asarray(high, dtype=np.float32), shape).copy()
        return cls(low=low, high=high, shape=tuple(int(s) for s in shape), dtype=np.dtype(dtype))

    @property
    def bounded(self) -> bool:
        return bool(np.all(np.isfinite(self.low)) and np.all(np.isfinite(self.high)))

    def sample(self, key: jax.Array) -> jax.Array:
        """Uniform sample inside finite bounds (standard normal where unbounded)."""
        if self.bounded:
            return jax.random.uniform(key, self.shape, jnp.float32, self.low, self.high)
        return jax.random.normal(key, self.shape, jnp.float32)


@dataclasses.dataclass(frozen=True)
class Discrete:
    """Integer actions ``0 .. n-1``."""

    n: int
    shape: tuple[int, ...] = ()
    dtype: np.dtype = np.dtype(np.int32)

    def sample(self, key: jax.Array) -> jax.Array:
        return jax.random.randint(key, (), 0, self.n, jnp.int32)


@dataclasses.dataclass(frozen=True)
class Dict:
    """Named observation parts, each a ``Box`` (e.g. ``{"pixels": uint8 (H, W, C), "state": float32 (d,)}``).

    An observation of a ``Dict`` space is a ``dict`` of arrays with these keys; every loop,
    buffer and checkpoint treats it as a pytree.
    """

    spaces: dict[str, Box]

    @property
    def shape(self) -> dict[str, tuple[int, ...]]:
        return {k: s.shape for k, s in self.spaces.items()}


Space = Box | Discrete
ObsSpace = Box | Dict


def is_image(space: Box) -> bool:
    """An image part: a ``(H, W, C)`` box of unsigned bytes (kept uint8 until the encoder)."""
    return len(space.shape) == 3 and space.dtype == np.uint8


def obs_parts(space: ObsSpace) -> dict[str, Box]:
    """The named parts of an observation space (a single ``Box`` is one part named ``""``)."""
    return dict(space.spaces) if isinstance(space, Dict) else {"": space}


def zeros_observation(space: ObsSpace) -> jax.Array | dict[str, jax.Array]:
    """A dummy observation of one env (zeros in each part's dtype), e.g. to initialise networks."""
    if isinstance(space, Dict):
        return {k: jnp.zeros(s.shape, s.dtype) for k, s in space.spaces.items()}
    return jnp.zeros(space.shape, space.dtype)


class EnvSpec:
    """What an agent sees of any env, JAX or host simulator: its spaces and time limit."""

    observation_space: ObsSpace
    action_space: Space
    #: Episode length after which the env is truncated; ``None`` if unlimited.
    max_episode_steps: int | None = None

    @property
    def discrete_actions(self) -> bool:
        return isinstance(self.action_space, Discrete)

    @property
    def unwrapped(self) -> EnvSpec:
        """The innermost env under any wrappers."""
        return self

    def __repr__(self) -> str:
        return f"{type(self).__name__}(obs={self.observation_space.shape}, act={self.action_space})"
