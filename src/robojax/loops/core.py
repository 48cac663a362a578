"""What every env loop produces: ``(T, N, ...)`` transitions, and the policy signature it calls."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
from flax import struct

from robojax.sharding import reduce

#: ``policy(params, obs[N, ...], key) -> (env_action[N, ...], stored_action[N, ...], extras)``.
#: ``stored_action`` is what the learner needs later (e.g. a pre-squash Gaussian sample). The
#: function must be a stable object (e.g. a bound method): the host loop compiles it once
#: and calls it with new ``params`` every step.
PolicyFn = Callable[[Any, jax.Array, jax.Array], tuple[jax.Array, jax.Array, dict[str, jax.Array]]]


PolicyOutputs = tuple[jax.Array, jax.Array, dict[str, jax.Array]]


def policy_step(policy: PolicyFn, params: Any, obs: jax.Array, key: jax.Array) -> tuple[jax.Array, PolicyOutputs]:
    """One policy call of an env loop: ``key`` splits into the policy's key and the next step's.

    Both loops (and the host trainer's fused update) step keys this way, so they hand the
    policy the same keys.
    """
    key, sub = jax.random.split(key)
    return key, policy(params, obs, sub)


@struct.dataclass
class LoopState:
    """Batched env state (a placeholder for host simulators) and the next observation."""

    env_state: Any
    obs: jax.Array


@struct.dataclass
class Transition:
    """One step of N envs (or, stacked, T steps: every field ``(T, N, ...)``).

    ``next_obs`` is the true next observation, the final one where an episode ended, so
    that truncated episodes can be bootstrapped after the auto-reset.
    """

    obs: jax.Array
    action: jax.Array
    reward: jax.Array
    terminated: jax.Array
    truncated: jax.Array
    next_obs: jax.Array
    extras: dict[str, jax.Array]
    info: dict[str, jax.Array]


#: Metrics of ``episode_metrics``: NaN by design while no episode has ended.
EPISODE_METRICS = ("episode_return", "episode_length", "success_rate")


def episode_metrics(batch: Transition) -> dict[str, jax.Array]:
    """Mean return/length (and success) of episodes that ended in ``batch``; NaN if none did."""
    done = jnp.logical_or(batch.terminated, batch.truncated)
    count = reduce(done.mean())  # over a data mesh's devices too: ratios of averages

    def mean(x: jax.Array) -> jax.Array:
        return jnp.where(count > 0, reduce(jnp.where(done, x, 0.0).mean()) / jnp.where(count > 0, count, 1), jnp.nan)

    metrics = {
        "episode_return": mean(batch.info["episode_return"]),
        "episode_length": mean(batch.info["episode_length"].astype(jnp.float32)),
    }
    if "success" in batch.info:
        metrics["success_rate"] = mean(batch.info["success"].astype(jnp.float32))
    return metrics
