"""Return estimators shared by agents. All inputs are laid out ``(T, N)``: time, then env.

Termination cuts the bootstrap (the value after a terminal state is zero); truncation does
not: the value of the true final observation is used. Either way the next step belongs to a
new episode, so advantages never flow across an episode boundary.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from robojax.sharding import reduce


def td_target(
    reward: jax.Array, next_value: jax.Array, terminated: jax.Array, gamma: float | jax.Array
) -> jax.Array:
    """One-step target ``r + gamma * (1 - terminated) * V(s')``; truncated steps bootstrap."""
    return reward + gamma * (1.0 - terminated.astype(jnp.float32)) * next_value


def gae_advantages(
    reward: jax.Array,
    value: jax.Array,
    next_value: jax.Array,
    terminated: jax.Array,
    truncated: jax.Array,
    gamma: float,
    gae_lambda: float,
) -> tuple[jax.Array, jax.Array]:
    """Generalised advantage estimation over ``(T, N)`` arrays, scanning backwards in time.

    ``next_value[t]`` is the value of the true next observation of step ``t`` (the final one
    where an episode ended). Returns ``(advantages, value_targets)``.
    """
    delta = td_target(reward, next_value, terminated, gamma) - value
    episode_ends = jnp.logical_or(terminated, truncated).astype(jnp.float32)

    def backward(next_advantage: jax.Array, xs: tuple[jax.Array, jax.Array]) -> tuple[jax.Array, jax.Array]:
        delta_t, end_t = xs
        advantage = delta_t + gamma * gae_lambda * (1.0 - end_t) * next_advantage
        return advantage, advantage

    _, advantages = jax.lax.scan(backward, jnp.zeros_like(delta[0]), (delta, episode_ends), reverse=True)
    return advantages, advantages + value


def next_state_values(
    value_fn: Callable[[jax.Array], jax.Array],
    value: jax.Array,
    next_obs: Any,
    truncated: jax.Array,
    time_limit: int | None,
) -> jax.Array:
    """``V(next_obs[t])`` for a ``(T, N)`` rollout, reusing the rollout's own values.

    Within an episode ``next_obs[t]`` is ``obs[t + 1]``, whose value ``value[t + 1]`` the rollout
    already computed (same parameters); after a termination the next value is multiplied by
    zero anyway. New forward passes are needed only for the last step and for truncated steps
    (value of the true final observation). With episodes truncated after ``time_limit`` steps,
    one env truncates at most ``ceil(T / time_limit)`` times in the rollout: only that many
    final observations per env go through ``value_fn``. If more occur (an env truncating for
    another reason), or the limit is unknown (``None``), every ``next_obs`` is evaluated, which
    gives the same result.
    """
    shifted = jnp.concatenate([value[1:], value_fn(jax.tree.map(lambda x: x[-1], next_obs))[None]], axis=0)

    def evaluate_all() -> jax.Array:
        return jnp.where(truncated, value_fn(next_obs), shifted)

    if time_limit is None:
        return evaluate_all()
    k = -(-value.shape[0] // int(time_limit))  # ceil(T / time_limit) <= T
    # Per env: the time indices of its truncated steps first (ascending), then the others.
    if k == 1:  # T <= time_limit, the usual case: the first truncated step, found without a sort
        t_idx = jnp.argmax(truncated, axis=0)[None]
    else:
        t_idx = jnp.argsort(~truncated, axis=0, stable=True)[:k]  # (k, N), distinct per env
    env_idx = jnp.arange(value.shape[1])[None, :]
    final_values = value_fn(jax.tree.map(lambda x: x[t_idx, env_idx], next_obs))
    selected = jnp.where(truncated[t_idx, env_idx], final_values, shifted[t_idx, env_idx])
    within_bound = shifted.at[t_idx, env_idx].set(selected)
    # The same branch on every device of a data mesh: a per-device predicate of a cond vmapped
    # over seeds inside shard_map fails to trace in jax 0.10.2 (both branches give the same values).
    overflow = reduce((jnp.max(jnp.sum(truncated, axis=0)) > k).astype(jnp.float32)) > 0
    return jax.lax.cond(overflow, evaluate_all, lambda: within_bound)
