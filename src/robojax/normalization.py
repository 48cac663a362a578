"""Running statistics kept in the train state (so they are checkpointed): observation mean/std
and the scale of the discounted return, for reward normalisation.

Only float parts of observations are normalised: images (uint8) are scaled inside their encoder
and never by running statistics. ``create_obs_stats``/``update_obs_stats``/``normalize_obs``
handle any observation space: a float ``Box`` has one ``RunningStats``, a ``Dict`` a dict of
them for its float parts, an image ``Box`` none (an empty dict).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from robojax.envs.spaces import Dict, ObsSpace
from robojax.sharding import data_shards, reduce


@struct.dataclass
class RunningStats:
    mean: jax.Array
    var: jax.Array
    count: jax.Array

    @classmethod
    def create(cls, shape: tuple[int, ...]) -> RunningStats:
        return cls(jnp.zeros(shape, jnp.float32), jnp.ones(shape, jnp.float32), jnp.asarray(1e-4, jnp.float32))

    def update(self, batch: jax.Array) -> RunningStats:
        """Merge the statistics of ``batch`` (leading axes are samples) with Chan et al.'s formula."""
        batch = batch.reshape(-1, *self.mean.shape).astype(jnp.float32)
        # On a data mesh: the statistics of all devices' batches together.
        n = batch.shape[0] * data_shards(batch)
        b_mean = reduce(batch.mean(0))
        b_var = reduce(jnp.square(batch - b_mean).mean(0))
        total = self.count + n
        delta = b_mean - self.mean
        mean = self.mean + delta * n / total
        m2 = self.var * self.count + b_var * n + delta**2 * self.count * n / total
        return RunningStats(mean, m2 / total, total)

    def normalize(self, x: jax.Array, clip: float = 10.0) -> jax.Array:
        return jnp.clip((x - self.mean) / jnp.sqrt(self.var + 1e-8), -clip, clip)


ObsStats = RunningStats | dict[str, RunningStats]


def create_obs_stats(space: ObsSpace) -> ObsStats:
    """Fresh statistics for the float parts of observations of ``space``."""
    if isinstance(space, Dict):
        return {k: RunningStats.create(s.shape) for k, s in space.spaces.items() if np.issubdtype(s.dtype, np.floating)}
    return RunningStats.create(space.shape) if np.issubdtype(space.dtype, np.floating) else {}


def update_obs_stats(stats: ObsStats, obs) -> ObsStats:
    """Merge a batch of observations (leading axes are samples) into ``stats``."""
    if isinstance(stats, RunningStats):
        return stats.update(obs)
    return {k: s.update(obs[k]) for k, s in stats.items()}


def normalize_obs(stats: ObsStats, obs):
    """``obs`` with its float parts normalised; other parts unchanged."""
    if isinstance(stats, RunningStats):
        return stats.normalize(obs)
    return {**obs, **{k: s.normalize(obs[k]) for k, s in stats.items()}} if stats else obs


@struct.dataclass
class ReturnScaler:
    """Divides rewards by a running estimate of the discounted return's standard deviation.

    Each env's discounted return ``G = r + gamma * G`` (reset at episode ends) is accumulated
    across rollouts in ``returns``; the variance of all ``G`` seen so far sets the scale, as in
    the usual ``VecNormalize``/``NormalizeReward`` setups for MuJoCo PPO. Rewards keep their sign
    and are not shifted, so what the agent optimises is unchanged up to a slowly varying factor.
    """

    returns: jax.Array  # (num_envs,) discounted return so far of each env's running episode
    stats: RunningStats  # of the discounted returns

    @classmethod
    def create(cls, num_envs: int) -> ReturnScaler:
        return cls(jnp.zeros((num_envs,), jnp.float32), RunningStats.create(()))

    def update(self, reward: jax.Array, done: jax.Array, gamma: float) -> ReturnScaler:
        """Fold in a ``(T, num_envs)`` rollout; ``done`` marks steps after which an episode ended."""

        def step(g, inputs):
            r, d = inputs
            g = gamma * g + r
            return jnp.where(d, 0.0, g), g

        returns, discounted = jax.lax.scan(step, self.returns, (reward.astype(jnp.float32), done))
        return ReturnScaler(returns, self.stats.update(discounted))

    def scale(self, reward: jax.Array, clip: float = 10.0) -> jax.Array:
        return jnp.clip(reward / jnp.sqrt(self.stats.var + 1e-8), -clip, clip)
