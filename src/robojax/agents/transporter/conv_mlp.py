"""The paper's Conv-MLP baseline: a convolutional encoder and an MLP that regress the pick and
place poses directly, trained on the same demonstrations, augmentation and labels as Transporter.

It differs only in the model: no pixel-wise softmax, no rotated crops, no equivariance.
Outputs are pick (row, col), place (row, col) as fractions of the image size and the place yaw
as (cos, sin); the loss is their squared error (Ravens' Conv-MLP uses a mixture density head).
"""

from __future__ import annotations

from typing import Any, ClassVar

import flax.linen as nn
import jax
import jax.numpy as jnp

from robojax.agents.transporter.agent import Transporter, TransporterState


class ConvMLPNet(nn.Module):
    """Four stride-2 convs (``channels[0]``, ``channels[1]``, then ``2 x channels[1]``), a
    hidden layer of 256, and 6 outputs."""

    channels: tuple[int, ...]

    @nn.compact
    def __call__(self, image: jax.Array, pick: jax.Array | None = None) -> jax.Array:
        full, half = self.channels
        h = image
        for width in (full, half, 2 * half, 2 * half):
            h = nn.relu(nn.Conv(width, (3, 3), strides=2)(h))
        h = nn.relu(nn.Dense(256)(h.reshape(-1)))
        return nn.Dense(6)(h)


class ConvMLP(Transporter):
    """Direct pose regression on ``tabletop/NAME`` (the ``conv_mlp`` agent)."""

    name: ClassVar[str] = "conv_mlp"

    def __init__(self, config, env):
        super().__init__(config, env)
        self.net = ConvMLPNet(tuple(config.channels))

    def init(self, key: jax.Array) -> TransporterState:
        init_key, key = jax.random.split(key)
        params = jax.jit(self.net.init)(init_key, jnp.zeros((*self.ws.shape, 4)))
        return TransporterState(params=params, opt_state=self.optimizer.init(params), key=key)

    def _targets(self, shape, pick, place, rot) -> jax.Array:
        size = jnp.array(shape[:2], jnp.float32)
        yaw = 2 * jnp.pi * rot / self.config.num_rotations
        return jnp.concatenate([(pick + 0.5) / size, (place + 0.5) / size, jnp.array([jnp.cos(yaw), jnp.sin(yaw)])])

    def loss(self, params: Any, image: jax.Array, pick: jax.Array, place: jax.Array, rot: jax.Array):
        """Squared error of the 6 regressed numbers (pick / place positions, yaw cos / sin)."""
        err = (self.net.apply(params, image) - self._targets(image.shape, pick, place, rot)) ** 2
        pick_loss, place_loss = err[:2].sum(), err[2:].sum()
        return pick_loss + place_loss, (pick_loss, place_loss)

    def predict(self, params: Any, image: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
        """Regressed poses snapped to pixels and the nearest rotation bin."""
        out = self.net.apply(params, image)
        size = jnp.array(image.shape[:2], jnp.float32)
        pick = jnp.clip(jnp.floor(out[:2] * size), 0, size - 1).astype(jnp.int32)
        place = jnp.clip(jnp.floor(out[2:4] * size), 0, size - 1).astype(jnp.int32)
        k = self.config.num_rotations
        rot = jnp.round(jnp.arctan2(out[5], out[4]) / (2 * jnp.pi / k)).astype(jnp.int32) % k
        return pick, place, rot
