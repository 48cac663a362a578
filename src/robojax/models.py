"""The model interface: encoders turn observations into features, heads turn features into outputs.

Agents ask ``make_encoder(config)`` for a feature extractor and put their own heads on it, so a
new encoder (CNN, PointNet, transformer) only needs ``register_encoder`` and no agent change.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from robojax.errors import ConfigError

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


@dataclasses.dataclass(frozen=True)
class NetworkConfig:
    """An encoder (by registered name) and its sizes."""

    encoder: str = "mlp"
    hidden_sizes: tuple[int, ...] = (64, 64)
    activation: str = "tanh"
    layer_norm: bool = False
    # Encoder-specific settings (classes from robojax.encoders, imported at the end of this module).
    pointnet: PointNetConfig = dataclasses.field(default_factory=lambda: PointNetConfig())
    transformer: TransformerConfig = dataclasses.field(default_factory=lambda: TransformerConfig())

    def __post_init__(self):
        if self.encoder not in ENCODERS:
            raise ConfigError(f"network.encoder={self.encoder!r}: allowed values are {sorted(ENCODERS)}")
        if self.activation not in ACTIVATIONS:
            raise ConfigError(f"network.activation={self.activation!r}: allowed values are {sorted(ACTIVATIONS)}")
        if not self.hidden_sizes or any(h <= 0 for h in self.hidden_sizes):
            raise ConfigError(f"network.hidden_sizes={self.hidden_sizes!r}: need one or more positive sizes")


class MLP(nn.Module):
    """Flattens the observation and applies dense layers with orthogonal initialisation."""

    hidden_sizes: Sequence[int]
    activation: str = "tanh"
    layer_norm: bool = False

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        x = x.reshape(*x.shape[: x.ndim - 1], -1) if x.ndim > 1 else x
        act = ACTIVATIONS[self.activation]
        for size in self.hidden_sizes:
            x = nn.Dense(size, kernel_init=orthogonal(np.sqrt(2)))(x)
            if self.layer_norm:
                x = nn.LayerNorm()(x)
            x = act(x)
        return x


ENCODERS: dict[str, Callable[[NetworkConfig], nn.Module]] = {}


def register_encoder(name: str) -> Callable:
    """Decorator: register ``builder(config) -> nn.Module`` under ``name``."""

    def deco(builder: Callable[[NetworkConfig], nn.Module]) -> Callable[[NetworkConfig], nn.Module]:
        ENCODERS[name] = builder
        return builder

    return deco


@register_encoder("mlp")
def _mlp(config: NetworkConfig) -> nn.Module:
    return MLP(config.hidden_sizes, config.activation, config.layer_norm)


def make_encoder(config: NetworkConfig) -> nn.Module:
    """The encoder module named by ``config.encoder``."""
    return ENCODERS[config.encoder](config)


def dense(features: int, scale: float = 1.0) -> nn.Dense:
    """A dense output layer with orthogonal init of the given scale."""
    return nn.Dense(features, kernel_init=orthogonal(scale), bias_init=nn.initializers.zeros)


class ScalarHead(nn.Module):
    """Encoder + a linear layer to one value per input (state values, Q values)."""

    encoder: nn.Module
    scale: float = 1.0

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        return jnp.squeeze(dense(1, self.scale)(self.encoder(x)), -1)


# Last: the encoder modules register themselves with the functions above.
from robojax.encoders.pointnet import PointNetConfig  # noqa: E402
from robojax.encoders.transformer import TransformerConfig  # noqa: E402
