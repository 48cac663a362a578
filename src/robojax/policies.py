"""Policy heads: action distributions for discrete and continuous action spaces.

Continuous policies sample an unbounded Gaussian "raw" action ``u``. How ``u`` reaches the
env's bounds is ``action_bounds``:

- ``clip``: the env gets ``clip(u, low, high)``; learning uses the log-probability of ``u``.
- ``tanh``: the env gets ``low + (tanh(u) + 1) / 2 * (high - low)``. ``tanh_gaussian`` gives
  the squashed distribution, whose log-probability is computed from the pre-tanh sample
  (distrax's ``Tanh`` bijector), never by inverting tanh, which is unstable near the bounds.
"""

from __future__ import annotations

import dataclasses

import distrax
import flax.linen as nn
import jax
import jax.numpy as jnp

from robojax.envs.spaces import Box, Discrete, Space
from robojax.errors import ConfigError
from robojax.models import dense

LOG_STD_MODES = ("state_independent", "state_dependent")
ACTION_BOUNDS = ("clip", "tanh")


@dataclasses.dataclass(frozen=True)
class PolicyConfig:
    """How a continuous policy parameterises its Gaussian and maps it to the action bounds."""

    log_std: str = "state_independent"
    init_log_std: float = 0.0
    min_log_std: float = -5.0
    max_log_std: float = 2.0
    action_bounds: str = "clip"

    def __post_init__(self):
        if self.log_std not in LOG_STD_MODES:
            raise ConfigError(f"policy.log_std={self.log_std!r}: allowed values are {list(LOG_STD_MODES)}")
        if self.action_bounds not in ACTION_BOUNDS:
            raise ConfigError(f"policy.action_bounds={self.action_bounds!r}: allowed values are {list(ACTION_BOUNDS)}")
        if self.min_log_std >= self.max_log_std:
            raise ConfigError(f"policy.min_log_std={self.min_log_std} must be below policy.max_log_std={self.max_log_std}")


class PolicyHead(nn.Module):
    """Encoder features -> a distribution over raw actions (Categorical or diagonal Gaussian)."""

    encoder: nn.Module
    action_space: Space
    config: PolicyConfig = PolicyConfig()

    @nn.compact
    def __call__(self, obs: jax.Array) -> distrax.Distribution:
        features = self.encoder(obs)
        if isinstance(self.action_space, Discrete):
            return distrax.Categorical(logits=dense(self.action_space.n, 0.01)(features))
        dim = self.action_space.shape[0]
        mean = dense(dim, 0.01)(features)
        cfg = self.config
        if cfg.log_std == "state_dependent":
            log_std = dense(dim, 0.01)(features) + cfg.init_log_std
        else:
            log_std = self.param("log_std", nn.initializers.constant(cfg.init_log_std), (dim,))
            log_std = jnp.broadcast_to(log_std, mean.shape)
        log_std = jnp.clip(log_std, cfg.min_log_std, cfg.max_log_std)
        return distrax.MultivariateNormalDiag(mean, jnp.exp(log_std))


def tanh_gaussian(dist: distrax.Distribution) -> distrax.Distribution:
    """Squash a diagonal Gaussian through tanh into (-1, 1)^d with a stable log-probability."""
    return distrax.Transformed(dist, distrax.Block(distrax.Tanh(), ndims=1))


def to_env_action(raw: jax.Array, space: Space, action_bounds: str) -> jax.Array:
    """Map a raw policy action to what the env accepts (see module docstring)."""
    if isinstance(space, Discrete):
        return raw
    assert isinstance(space, Box)
    if not space.bounded:
        return raw
    if action_bounds == "tanh":
        return scale_unit_action(jnp.tanh(raw), space)
    return jnp.clip(raw, space.low, space.high)


def scale_unit_action(unit: jax.Array, space: Box) -> jax.Array:
    """Map an action in [-1, 1] to the box ``[low, high]``."""
    return space.low + (unit + 1.0) * 0.5 * (space.high - space.low)


def deterministic_action(dist: distrax.Distribution) -> jax.Array:
    """The greedy action: argmax for Categorical, the mean for a Gaussian."""
    return dist.mode()


def tanh_gaussian_entropy(dist: distrax.MultivariateNormalDiag, raw: jax.Array) -> jax.Array:
    """One-sample estimate of the entropy of ``tanh(u)``, ``u ~ dist``, at the samples ``raw``.

    ``H[tanh(u)] = H[u] + E[sum log(1 - tanh(u)^2)]``. ``raw`` are rollout samples of (nearly)
    this Gaussian; they are re-expressed as ``loc + scale * eps`` with ``eps`` held fixed, so
    the gradient reaches the mean and the std: a wide Gaussian that saturates tanh is not
    rewarded for its width, as it would be by the Gaussian's own entropy.
    """
    loc, scale = dist.loc, dist.scale_diag
    u = loc + scale * jax.lax.stop_gradient((raw - loc) / scale)
    log_det = 2.0 * (jnp.log(2.0) - u - jax.nn.softplus(-2.0 * u))  # log(1 - tanh(u)^2), stable
    return dist.entropy() + log_det.sum(-1)
