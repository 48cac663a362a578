"""``pointnet``: a PointNet encoder for point clouds ``(..., N, C)``.

Each point's channels (xyz first, then any features: velocities, rgb, a segmentation id) go
through one shared MLP with LayerNorm (BatchNorm is unstable in RL) and the per-point features
are max-pooled over the valid points; the model interface's trunk (``network.hidden_sizes``)
follows. Invalid (padding) points never affect the output: their features are
excluded from the max, so the output is invariant to them and no gradient reaches them.
"""

from __future__ import annotations

import dataclasses

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from robojax.errors import ConfigError
from robojax.envs.spaces import Box, ObsSpace
from robojax.layers import ACTIVATIONS, orthogonal, register_encoder

CENTER_MODES = ("none", "centroid")


@dataclasses.dataclass(frozen=True)
class PointNetConfig:
    """``network.pointnet.*``: the per-point MLP and how validity and centring are read."""

    point_sizes: tuple[int, ...] = (64, 128)  # the shared per-point MLP, before the max-pool
    validity_channel: int | None = None  # channel holding 1 = valid point, 0 = padding (ManiSkill's xyzw: 3)
    center: str = "none"  # "centroid": subtract the mean xyz of the valid points

    def __post_init__(self):
        if not self.point_sizes or any(s <= 0 for s in self.point_sizes):
            raise ConfigError(f"network.pointnet.point_sizes={self.point_sizes!r}: need one or more positive sizes")
        if self.center not in CENTER_MODES:
            raise ConfigError(f"network.pointnet.center={self.center!r}: allowed values are {list(CENTER_MODES)}")




def split_validity(x: jax.Array, channel: int | None, setting: str) -> tuple[jax.Array, jax.Array]:
    """``(features without the validity channel, bool mask)`` of tokens ``(..., L, C)``.

    Without a validity channel every token is valid. ``setting`` names the config field in errors.
    """
    if channel is None:
        return x, jnp.ones(x.shape[:-1], bool)
    c = x.shape[-1]
    if not -c <= channel < c:
        raise ConfigError(f"{setting}={channel}: the observation has only {c} channels per point/token")
    channel %= c
    mask = x[..., channel] > 0.5
    return jnp.delete(x, channel, axis=-1, assume_unique_indices=True), mask


class PointNet(nn.Module):
    """Shared per-point MLP + LayerNorm, masked max-pool.

    ``__call__(points, mask=None)``: ``points`` is ``(..., N, C)``; ``mask`` ``(..., N)`` marks
    valid points (combined with ``validity_channel`` if both are given).
    """

    config: PointNetConfig
    activation: str = "relu"

    @nn.compact
    def __call__(self, points: jax.Array, mask: jax.Array | None = None) -> jax.Array:
        cfg = self.config
        if points.ndim < 2:
            raise ConfigError(
                f"network.encoder='pointnet' needs observations of shape (N, C) (points x channels), got {points.shape}"
            )
        x, valid = split_validity(points.astype(jnp.float32), cfg.validity_channel, "network.pointnet.validity_channel")
        if mask is not None:
            valid = valid & mask.astype(bool)
        if cfg.center == "centroid":
            if x.shape[-1] < 3:
                raise ConfigError(f"network.pointnet.center='centroid' needs xyz in channels 0-2, got {x.shape[-1]} channels")
            weights = valid[..., None].astype(jnp.float32)
            centroid = (x[..., :3] * weights).sum(-2, keepdims=True) / jnp.maximum(weights.sum(-2, keepdims=True), 1.0)
            x = jnp.concatenate([x[..., :3] - centroid, x[..., 3:]], -1)
        act = ACTIVATIONS[self.activation]
        for size in cfg.point_sizes:
            x = act(nn.LayerNorm()(nn.Dense(size, kernel_init=orthogonal(np.sqrt(2)))(x)))
        # Masked max over points: padding gets -inf, a cloud without valid points pools to 0.
        pooled = jnp.max(jnp.where(valid[..., None], x, -jnp.inf), axis=-2)
        return jnp.where(valid.any(-1)[..., None], pooled, 0.0)


def check_token_space(space: ObsSpace, rank: int, setting: str, shape: str) -> Box:
    """``space`` as a single-array ``Box`` of rank ``rank``, or a ``ConfigError`` naming ``setting``."""
    if not isinstance(space, Box) or len(space.shape) != rank:
        got = f"shape {space.shape}" if isinstance(space, Box) else "a dict of parts (use network.encoder=multi)"
        raise ConfigError(f"{setting} needs observations of shape {shape}; this env's observation has {got}")
    return space


@register_encoder("pointnet")
def _pointnet(config, space: ObsSpace) -> nn.Module:
    check_token_space(space, 2, "network.encoder=pointnet", "(N, C) (points x channels)")
    return PointNet(config.pointnet, config.activation)
