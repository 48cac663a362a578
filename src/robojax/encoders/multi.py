"""``multi``: one encoder per named part of a dict observation, features concatenated.

Image parts (rank 3) go through ``network.multi.image_encoder`` (default ``cnn``), the other
parts through ``network.multi.vector_encoder`` (default ``mlp``: flattened as they are; the MLP
trunk after the concatenation processes them). Which parts the actor and the critic see is
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

    def __post_init__(self):
        for name in ("image_encoder", "vector_encoder"):
            if getattr(self, name) == "multi":
                raise ConfigError(f"network.multi.{name}='multi': a part needs an encoder of one array")


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
    cfg = network.multi
    encoders = []
    for name, part in space.spaces.items():
        choice = cfg.image_encoder if len(part.shape) == 3 else cfg.vector_encoder
        if choice not in ENCODERS:
            which = "image" if len(part.shape) == 3 else "vector"
            raise ConfigError(f"network.multi.{which}_encoder={choice!r}: allowed values are {sorted(ENCODERS)}")
        encoders.append(ENCODERS[choice](network, part))
    return MultiInput(tuple(space.spaces), tuple(encoders))


register_encoder("multi")(build_multi)
