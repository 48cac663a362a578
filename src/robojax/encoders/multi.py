"""``multi``: one encoder per named part of a dict observation, features concatenated.

Image parts (rank 3) go through ``network.multi.image_encoder`` (default ``cnn``), the other
parts through ``network.multi.vector_encoder`` (default ``mlp``: flattened as they are; the MLP
trunk after the concatenation processes them). ``network.multi.parts`` names the encoder of
particular parts, overriding both (``{points: pointnet}`` for a point cloud next to the robot's
state vector). Which parts the actor and the critic see is
``network.actor_parts``/``network.critic_parts`` (an asymmetric critic).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from robojax.envs.spaces import Dict, ObsSpace
from robojax.errors import ConfigError
from robojax.layers import ENCODERS, register_encoder


@dataclasses.dataclass(frozen=True)
class MultiInputConfig:
    """``network.multi.*``: the registered encoders used for image parts and for the other parts."""

    image_encoder: str = "cnn"
    vector_encoder: str = "mlp"
    parts: dict[str, str] = dataclasses.field(default_factory=dict)  # part name -> encoder, overriding the two above

    def __post_init__(self):
        choices = {"image_encoder": self.image_encoder, "vector_encoder": self.vector_encoder,
                   **{f"parts.{k}": v for k, v in self.parts.items()}}
        for field, choice in choices.items():
            if choice == "multi":
                raise ConfigError(f"network.multi.{field}='multi': a part needs an encoder of one array")

    def encoder_of(self, name: str, rank: int) -> tuple[str, str]:
        """``(encoder name, the config field that chose it)`` for the part ``name`` of rank ``rank``."""
        if name in self.parts:
            return self.parts[name], f"network.multi.parts.{name}"
        if rank == 3:
            return self.image_encoder, "network.multi.image_encoder"
        return self.vector_encoder, "network.multi.vector_encoder"


class MultiInput(nn.Module):
    """``{part: array}`` -> the concatenated features of each part's encoder."""

    parts: Sequence[str]
    encoders: Sequence[nn.Module]

    def __call__(self, obs: dict[str, jax.Array]) -> jax.Array:
        return jnp.concatenate([enc(obs[k]) for k, enc in zip(self.parts, self.encoders, strict=True)], -1)


def build_multi(network, space: ObsSpace) -> MultiInput:
    """One encoder per part of a dict observation space (checked before anything compiles)."""
    if not isinstance(space, Dict):
        raise ConfigError(
            f"network.encoder=multi needs a dict observation of named parts; this env's observation is one array "
            f"of shape {space.shape}"
        )
    cfg = network.multi  # its part names are checked against the whole observation by make_observation_encoder
    encoders = []
    for name, part in space.spaces.items():
        choice, field = cfg.encoder_of(name, len(part.shape))
        if choice not in ENCODERS:
            raise ConfigError(f"{field}={choice!r}: allowed values are {sorted(set(ENCODERS) - {'multi'})}")
        try:
            encoders.append(ENCODERS[choice](network, part))
        except ConfigError as error:  # say which part the encoder was given
            raise ConfigError(f"{field}={choice!r} for the part {name!r} of shape {part.shape}: {error}") from None
    return MultiInput(tuple(space.spaces), tuple(encoders))


register_encoder("multi")(build_multi)
