"""SAC's losses: soft Bellman critic loss, actor loss and temperature loss.

Actions inside SAC live in the unit box ``[-1, 1]^d`` (``tanh`` of the Gaussian sample); the
env gets them affinely scaled to its bounds (``policies.scale_unit_action``). Log-probs are of
the unit-box action: the exact log-density of the env action differs by the constant
``-sum(log((high - low) / 2))``, which changes no gradient and is folded into the entropy
target (``target_entropy = -action_dim`` refers to the unit box).
"""

from __future__ import annotations

from collections.abc import Callable

import distrax
import jax
import jax.numpy as jnp

from robojax.agents.sac.config import SACConfig
from robojax.policies import tanh_gaussian
from robojax.returns import td_target
from robojax.sharding import device_rows


def sample_squashed(dist: distrax.MultivariateNormalDiag, key: jax.Array) -> tuple[jax.Array, jax.Array]:
    """``(action in (-1, 1)^d, log_prob)`` with the log-prob computed from the pre-tanh sample.

    The Gaussian noise is that of ``dist.sample(seed=key)``; on a data mesh each device takes
    its rows of the whole batch's noise (``device_rows``), so D devices draw what one would.
    """
    noise = device_rows(lambda shape: jax.random.normal(key, shape, dist.loc.dtype), dist.loc)
    raw = dist.loc + dist.scale_diag * noise
    action, log_det = tanh_gaussian(dist).bijector.forward_and_log_det(raw)
    return action, dist.log_prob(raw) - log_det


def critic_target(
    q_next: jax.Array,
    next_log_prob: jax.Array,
    reward: jax.Array,
    terminated: jax.Array,
    alpha: jax.Array,
    gamma: float,
    backup_entropy: bool,
    subset_key: jax.Array | None = None,
    num_subset: int | None = None,
) -> jax.Array:
    """Soft TD target from target-critic values ``q_next`` of shape ``(num_critics, B)``.

    The next value is the min over the ensemble (or over a random subset of ``num_subset``
    critics, REDQ), minus ``alpha * log_prob`` if ``backup_entropy``. Truncated transitions
    bootstrap from their true final observation; terminated ones do not (``td_target``).
    """
    if num_subset is not None and num_subset < q_next.shape[0]:
        idx = jax.random.choice(subset_key, q_next.shape[0], (num_subset,), replace=False)
        q_next = q_next[idx]
    next_value = q_next.min(axis=0)
    if backup_entropy:
        next_value = next_value - alpha * next_log_prob
    return jax.lax.stop_gradient(td_target(reward, next_value, terminated, gamma))


def critic_loss(
    critic_params,
    critic_apply: Callable[..., jax.Array],
    target_params,
    actor_params,
    actor_apply: Callable[..., distrax.Distribution],
    batch: dict[str, jax.Array],
    alpha: jax.Array,
    key: jax.Array,
    config: SACConfig,
) -> tuple[jax.Array, dict[str, jax.Array]]:
    """``0.5 * sum over critics of mean squared soft TD error`` on one minibatch."""
    action_key, subset_key = jax.random.split(key)
    next_action, next_log_prob = sample_squashed(actor_apply(actor_params, batch["next_obs"]), action_key)
    q_next = critic_apply(target_params, batch["next_obs"], next_action)
    target = critic_target(
        q_next,
        next_log_prob,
        batch["reward"] * config.reward_scale,
        batch["terminated"],
        alpha,
        config.gamma,
        config.backup_entropy,
        subset_key,
        config.num_critic_subset,
    )
    q = critic_apply(critic_params, batch["obs"], batch["action"])  # (num_critics, B)
    loss = 0.5 * jnp.square(q - target).mean(axis=1).sum()
    return loss, {"critic_loss": loss, "q_mean": q.mean(), "target_q_mean": target.mean()}


def actor_loss(
    actor_params,
    actor_apply: Callable[..., distrax.Distribution],
    critic_params,
    critic_apply: Callable[..., jax.Array],
    obs: jax.Array,
    alpha: jax.Array,
    key: jax.Array,
    config: SACConfig,
) -> tuple[jax.Array, dict[str, jax.Array]]:
    """``E[alpha * log_prob - Q(s, a)]`` with reparameterised actions.

    Q is the min over the ensemble (standard SAC), or the ensemble mean when a REDQ subset is
    used for the targets (as in REDQ).
    """
    action, log_prob = sample_squashed(actor_apply(actor_params, obs), key)
    q = critic_apply(critic_params, obs, action)
    q = q.mean(axis=0) if config.num_critic_subset is not None else q.min(axis=0)
    loss = (alpha * log_prob - q).mean()
    return loss, {"actor_loss": loss, "log_prob": log_prob.mean(), "entropy": -log_prob.mean()}


def alpha_loss(log_alpha: jax.Array, log_prob: jax.Array, target_entropy: float) -> jax.Array:
    """Temperature loss ``-log_alpha * (log_prob + target_entropy)``: raises alpha when entropy is low."""
    return -(log_alpha * jax.lax.stop_gradient(log_prob + target_entropy)).mean()
