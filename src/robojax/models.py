"""The model interface: encoders turn observations into features, heads turn features into outputs.

Agents ask ``make_encoder(config, observation_space, role)`` for a feature extractor (a
registered observation encoder, then an MLP trunk) and put their own heads on it, so a new
encoder (CNN, PointNet, transformer) only needs ``register_encoder`` and no agent change.
Agents that insert something between the two (SAC's critic adds the action) use
``make_observation_encoder`` and ``make_trunk``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from robojax.envs.spaces import Box, Dict, ObsSpace, obs_parts
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


@register_encoder("mlp")
def _flatten(config: NetworkConfig, space: ObsSpace) -> nn.Module:
    # The MLP itself is the trunk that ``make_encoder`` puts on every observation encoder.
    return Flatten(space)


# Encoders register themselves on import and keep their settings next to them: import them
# once ``register_encoder`` exists.
from robojax.encoders.cnn import CNNConfig  # noqa: E402
from robojax.encoders.multi import MultiInputConfig  # noqa: E402
from robojax.encoders.pointnet import PointNetConfig  # noqa: E402
from robojax.encoders.transformer import TransformerConfig  # noqa: E402


@dataclasses.dataclass(frozen=True)
class NetworkConfig:
    """An observation encoder (by registered name), the MLP trunk on its features, and which
    observation parts the actor and the critic see.

    ``actor_parts``/``critic_parts`` name parts of a dict observation (empty: all parts); a
    critic that sees more than the actor is an asymmetric critic. With ``share_encoder`` an
    agent that supports it (SAC) feeds the actor the critic's observation features with the
    gradient stopped, so the encoder learns from the critic loss only (DrQ).
    """

    encoder: str = "mlp"
    hidden_sizes: tuple[int, ...] = (64, 64)
    activation: str = "tanh"
    layer_norm: bool = False
    actor_parts: tuple[str, ...] = ()
    critic_parts: tuple[str, ...] = ()
    share_encoder: bool = False
    cnn: CNNConfig = CNNConfig()
    multi: MultiInputConfig = MultiInputConfig()
    pointnet: PointNetConfig = PointNetConfig()
    transformer: TransformerConfig = TransformerConfig()

    def __post_init__(self):
        if self.encoder not in ENCODERS:
            raise ConfigError(f"network.encoder={self.encoder!r}: allowed values are {sorted(ENCODERS)}")
        if self.activation not in ACTIVATIONS:
            raise ConfigError(f"network.activation={self.activation!r}: allowed values are {sorted(ACTIVATIONS)}")
        if any(h <= 0 for h in self.hidden_sizes):
            raise ConfigError(f"network.hidden_sizes={self.hidden_sizes!r}: sizes must be positive")
        if self.share_encoder and self.actor_parts != self.critic_parts:
            raise ConfigError(
                f"network.share_encoder=true: the actor sees the critic's features, so network.actor_parts="
                f"{list(self.actor_parts)} must equal network.critic_parts={list(self.critic_parts)}"
            )


def role_space(config: NetworkConfig, space: ObsSpace, role: str) -> ObsSpace:
    """The part of ``space`` that ``role`` (``actor`` or ``critic``) sees."""
    parts = config.actor_parts if role == "actor" else config.critic_parts
    if not parts:
        return space
    if not isinstance(space, Dict):
        raise ConfigError(f"network.{role}_parts={list(parts)}: this env's observation is one array, not a dict of parts")
    missing = [p for p in parts if p not in space.spaces]
    if missing:
        raise ConfigError(
            f"network.{role}_parts names {missing[0]!r}, which this env's observation does not have; "
            f"its parts are {sorted(space.spaces)}"
        )
    return Dict({k: space.spaces[k] for k in parts})


def make_observation_encoder(config: NetworkConfig, space: ObsSpace, role: str) -> nn.Module:
    """``config.encoder`` for the parts of ``space`` that ``role`` sees: observations -> features."""
    seen = role_space(config, space, role)
    encoder = ENCODERS[config.encoder](config, seen)
    return SelectParts(encoder, tuple(seen.spaces)) if seen is not space else encoder


def make_trunk(config: NetworkConfig) -> MLP:
    """The MLP (``hidden_sizes``, ``activation``, ``layer_norm``) on observation features."""
    return MLP(config.hidden_sizes, config.activation, config.layer_norm)


def make_encoder(config: NetworkConfig, space: ObsSpace, role: str = "actor") -> nn.Module:
    """Observation encoder + trunk: the whole feature extractor of an actor or critic."""
    return nn.Sequential([make_observation_encoder(config, space, role), make_trunk(config)])


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
