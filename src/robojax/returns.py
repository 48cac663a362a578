"""Return estimators shared by agents. All inputs are laid out ``(T, N)``: time, then env.

Termination cuts the bootstrap (the value after a terminal state is zero); truncation does
not: the value of the true final observation is used. Either way the next step belongs to a
new episode, so advantages never flow across an episode boundary.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


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
