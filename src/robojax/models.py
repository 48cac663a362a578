"""The model interface: encoders turn observations into features, heads turn features into outputs.

Agents ask ``make_encoder(config, observation_space, role)`` for a feature extractor (a
registered observation encoder, then an MLP trunk) and put their own heads on it, so a new
encoder (CNN, PointNet, transformer) only needs ``register_encoder`` and no agent change.
Agents that insert something between the two (SAC's critic adds the action) use
``make_observation_encoder`` and ``make_trunk``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from robojax.encoders.cnn import CNNConfig  # importing the encoders registers them
from robojax.encoders.multi import MultiInputConfig
from robojax.encoders.pointnet import PointNetConfig
from robojax.encoders.transformer import TransformerConfig
from robojax.envs.spaces import Dict, ObsSpace
from robojax.errors import ConfigError
from robojax.layers import (  # noqa: F401  (re-exported: the model interface's public names)
    ACTIVATIONS,
    ENCODERS,
    MLP,
    EncoderBuilder,
    Flatten,
    SelectParts,
    dense,
    orthogonal,
    register_encoder,
)

@register_encoder("mlp")
def _flatten(config: NetworkConfig, space: ObsSpace) -> nn.Module:
    # The MLP itself is the trunk that ``make_encoder`` puts on every observation encoder.
    return Flatten(space)




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
    check_part_names(f"network.{role}_parts", parts, space)
    return Dict({k: space.spaces[k] for k in parts})


def check_part_names(field: str, names: Iterable[str], space: Dict) -> None:
    """A ``ConfigError`` naming ``field`` if it names a part the observation ``space`` lacks."""
    missing = [p for p in names if p not in space.spaces]
    if missing:
        raise ConfigError(
            f"{field} names {missing[0]!r}, which this env's observation does not have; "
            f"its parts are {sorted(space.spaces)}"
        )


def make_observation_encoder(config: NetworkConfig, space: ObsSpace, role: str) -> nn.Module:
    """``config.encoder`` for the parts of ``space`` that ``role`` sees: observations -> features."""
    if config.encoder == "multi" and isinstance(space, Dict):
        # Against the whole observation: a part named here may be one this role does not see.
        check_part_names("network.multi.parts", config.multi.parts, space)
    seen = role_space(config, space, role)
    encoder = ENCODERS[config.encoder](config, seen)
    return SelectParts(encoder, tuple(seen.spaces)) if seen is not space else encoder


def make_trunk(config: NetworkConfig) -> MLP:
    """The MLP (``hidden_sizes``, ``activation``, ``layer_norm``) on observation features."""
    return MLP(config.hidden_sizes, config.activation, config.layer_norm)


def make_encoder(config: NetworkConfig, space: ObsSpace, role: str = "actor") -> nn.Module:
    """Observation encoder + trunk: the whole feature extractor of an actor or critic."""
    return nn.Sequential([make_observation_encoder(config, space, role), make_trunk(config)])


class ScalarHead(nn.Module):
    """Encoder + a linear layer to one value per input (state values, Q values)."""

    encoder: nn.Module
    scale: float = 1.0

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        return jnp.squeeze(dense(1, self.scale)(self.encoder(x)), -1)
