"""The JAX loop: ``lax.scan`` over time of a ``vmap``-ed env step with the policy inside.

Every array in a rollout is laid out ``(T, N, ...)``: time first, then environment.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
from flax import struct

from robojax.envs.core import Env

#: ``policy(obs[N, ...], key) -> (env_action[N, ...], stored_action[N, ...], extras)``.
#: ``stored_action`` is what the learner needs later (e.g. a pre-squash Gaussian sample).
PolicyFn = Callable[[jax.Array, jax.Array], tuple[jax.Array, jax.Array, dict[str, jax.Array]]]


@struct.dataclass
class LoopState:
    """Batched env state and the observation the next action is chosen from."""

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


class JaxLoop:
    """Steps ``num_envs`` copies of a JAX env, entirely on device (jittable)."""

    jittable = True

    def __init__(self, env: Env, num_envs: int):
        self.env = env
        self.num_envs = int(num_envs)

    def reset(self, key: jax.Array) -> LoopState:
        """Reset every env with its own key, so no two start from the same state."""
        env_state, ts = jax.vmap(self.env.reset)(jax.random.split(key, self.num_envs))
        return LoopState(env_state, ts.obs)

    def step(self, state: LoopState, policy: PolicyFn, key: jax.Array) -> tuple[LoopState, Transition]:
        env_action, action, extras = policy(state.obs, key)
        env_state, ts = jax.vmap(self.env.step)(state.env_state, env_action)
        transition = Transition(
            obs=state.obs,
            action=action,
            reward=ts.reward,
            terminated=ts.terminated,
            truncated=ts.truncated,
            next_obs=ts.final_obs,
            extras=extras,
            info=ts.info,
        )
        return LoopState(env_state, ts.obs), transition

    def rollout(
        self, state: LoopState, policy: PolicyFn, key: jax.Array, num_steps: int
    ) -> tuple[LoopState, Transition]:
        """``num_steps`` steps of all envs; returns the final state and ``(T, N, ...)`` data."""

        def body(carry: LoopState, step_key: jax.Array) -> tuple[LoopState, Transition]:
            return self.step(carry, policy, step_key)

        return jax.lax.scan(body, state, jax.random.split(key, num_steps))


def episode_metrics(batch: Transition) -> dict[str, jax.Array]:
    """Mean return/length (and success) of episodes that ended in ``batch``; NaN if none did."""
    done = jnp.logical_or(batch.terminated, batch.truncated)
    count = done.sum()

    def mean(x: jax.Array) -> jax.Array:
        return jnp.where(count > 0, jnp.sum(jnp.where(done, x, 0.0)) / jnp.maximum(count, 1), jnp.nan)

    metrics = {
        "episode_return": mean(batch.info["episode_return"]),
        "episode_length": mean(batch.info["episode_length"].astype(jnp.float32)),
    }
    if "success" in batch.info:
        metrics["success_rate"] = mean(batch.info["success"].astype(jnp.float32))
    return metrics
