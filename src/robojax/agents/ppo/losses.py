"""PPO's loss: clipped surrogate, (optionally clipped) value loss and entropy bonus."""

from __future__ import annotations

from collections.abc import Callable

import distrax
import jax
import jax.numpy as jnp

from robojax.agents.ppo.config import PPOConfig
from robojax.policies import tanh_gaussian_entropy
from robojax.sharding import reduce


def ppo_loss(
    params: dict,
    actor_apply: Callable[..., distrax.Distribution],
    critic_apply: Callable[..., jax.Array],
    obs: jax.Array,
    action: jax.Array,
    old_log_prob: jax.Array,
    old_value: jax.Array,
    advantage: jax.Array,
    target: jax.Array,
    config: PPOConfig,
) -> tuple[jax.Array, dict[str, jax.Array]]:
    """Total loss and its parts for one minibatch (all arrays flat over the batch)."""
    dist = actor_apply(params["actor"], obs)
    log_prob = dist.log_prob(action)
    ratio = jnp.exp(log_prob - old_log_prob)
    if config.normalize_advantages:
        mean = reduce(advantage.mean())  # of the whole minibatch, also when split over devices
        advantage = (advantage - mean) / (jnp.sqrt(reduce(jnp.square(advantage - mean).mean())) + 1e-8)
    clipped_ratio = jnp.clip(ratio, 1.0 - config.clip_eps, 1.0 + config.clip_eps)
    policy_loss = -jnp.minimum(ratio * advantage, clipped_ratio * advantage).mean()

    value = critic_apply(params["critic"], obs)
    value_loss = jnp.square(value - target)
    if config.clip_value_loss:
        clipped_value = old_value + jnp.clip(value - old_value, -config.clip_value_eps, config.clip_value_eps)
        value_loss = jnp.maximum(value_loss, jnp.square(clipped_value - target))
    value_loss = 0.5 * value_loss.mean()

    if config.policy.action_bounds == "tanh" and isinstance(dist, distrax.MultivariateNormalDiag):
        entropy = tanh_gaussian_entropy(dist, action).mean()  # of the actions the env gets
    else:
        entropy = dist.entropy().mean()
    loss = policy_loss + config.vf_coef * value_loss - config.ent_coef * entropy
    stats = {
        "policy_loss": policy_loss,
        "value_loss": value_loss,
        "entropy": entropy,
        "approx_kl": ((ratio - 1.0) - jnp.log(ratio)).mean(),
        "clip_fraction": (jnp.abs(ratio - 1.0) > config.clip_eps).mean(),
    }
    return loss, stats
