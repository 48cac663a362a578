"""Building blocks shared by the model interface and the encoders: activations, orthogonal
initialisation, the MLP, observation flattening and the encoder registry.

Kept apart from ``robojax.models`` so that encoder modules can use them while ``models``
imports the encoders' settings (no import cycle).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from robojax.envs.spaces import Box, Dict, ObsSpace, obs_parts

if TYPE_CHECKING:
    from robojax.models import NetworkConfig

ACTIVATIONS: dict[str, Callable[[jax.Array], jax.Array]] = {
    "tanh": nn.tanh,
    "relu": nn.relu,
    "elu": nn.elu,
    "gelu": nn.gelu,
    "silu": nn.silu,
}


def orthogonal(scale: float = 1.0, iterations: int = 60) -> Callable[..., jax.Array]:
    """Orthogonal initialiser (like ``flax.linen.initializers.orthogonal``) without LAPACK.

    The orthogonal factor of a Gaussian matrix is found by Newton-Schulz iterations (matmuls
    only): it is uniformly distributed, as with QR. Why not QR: XLA's CPU QR kernel splits a
    batch of matrices over the same thread pool it runs on, and two such kernels running at
    once (vmapped seeds, critic ensembles) can deadlock on a 2-core machine (jaxlib 0.10.2).
    """

    def init(key: jax.Array, shape: tuple[int, ...], dtype=jnp.float32) -> jax.Array:
        rows, cols = int(np.prod(shape[:-1])), shape[-1]
        tall = (max(rows, cols), min(rows, cols))
        x = jax.random.normal(key, tall, jnp.float32)
        x = x / jnp.linalg.norm(x)  # all singular values in (0, 1]: Newton-Schulz converges

        def step(_, x):
            return 1.5 * x - 0.5 * x @ (x.T @ x)

        x = jax.lax.fori_loop(0, iterations, step, x)
        x = x if rows >= cols else x.T
        return (scale * x.reshape(shape)).astype(dtype)

    return init


class MLP(nn.Module):
    """Dense layers with orthogonal initialisation over the last axis (no layers: identity)."""

    hidden_sizes: Sequence[int]
    activation: str = "tanh"
    layer_norm: bool = False
    obs_ndim: int = 1

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        act = ACTIVATIONS[self.activation]
        for size in self.hidden_sizes:
            x = nn.Dense(size, kernel_init=orthogonal(np.sqrt(2)))(x)
            if self.layer_norm:
                x = nn.LayerNorm()(x)
            x = act(x)
        return x


def batch_shape(x: jax.Array, part: Box) -> tuple[int, ...]:
    """The leading (batch) axes of ``x``, an array of observations of ``part``."""
    return x.shape[: x.ndim - len(part.shape)]


class Flatten(nn.Module):
    """Every part of an observation flattened to float32 and concatenated (no parameters)."""

    space: ObsSpace

    def __call__(self, obs: Any) -> jax.Array:
        values = obs if isinstance(self.space, Dict) else {"": obs}
        flat = [
            values[k].reshape(*batch_shape(values[k], s), -1).astype(jnp.float32) for k, s in obs_parts(self.space).items()
        ]
        return jnp.concatenate(flat, -1) if len(flat) > 1 else flat[0]


class SelectParts(nn.Module):
    """Passes only ``parts`` of a dict observation to ``encoder`` (what the actor or critic sees)."""

    encoder: nn.Module
    parts: tuple[str, ...]

    def __call__(self, obs: dict[str, jax.Array]) -> jax.Array:
        return self.encoder({k: obs[k] for k in self.parts})


#: ``builder(network_config, observation_space) -> module(observations) -> features``. Builders
#: check the space and raise ``ConfigError`` for what they cannot encode, before anything compiles.
EncoderBuilder = Callable[["NetworkConfig", ObsSpace], nn.Module]
ENCODERS: dict[str, EncoderBuilder] = {}


def register_encoder(name: str) -> Callable[[EncoderBuilder], EncoderBuilder]:
    """Decorator: register an observation encoder ``builder(config, space) -> nn.Module`` under ``name``."""

    def deco(builder: EncoderBuilder) -> EncoderBuilder:
        ENCODERS[name] = builder
        return builder

    return deco


def dense(features: int, scale: float = 1.0) -> nn.Dense:
    """A dense output layer with orthogonal init of the given scale."""
    return nn.Dense(features, kernel_init=orthogonal(scale), bias_init=nn.initializers.zeros)
