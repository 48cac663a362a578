"""SAC's actor (squashed Gaussian) and critic: an observation encoder, then an ensemble of Q heads.

The critic encodes the observation once and its ``num_critics`` Q heads (vmapped over their
params) each see the features concatenated with the action. With ``network.share_encoder``
the actor has no encoder of its own: it takes the critic's features (``Critic.encode``), with
the gradient stopped, so the encoder learns from the critic loss only (DrQ).
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from robojax.envs.spaces import ObsSpace, Space
from robojax.models import NetworkConfig, ScalarHead, make_encoder, make_observation_encoder, make_trunk
from robojax.policies import PolicyConfig, PolicyHead


class QHead(nn.Module):
    """``Q(features, action)``: the trunk sees the observation features concatenated with the action."""

    network: NetworkConfig

    @nn.compact
    def __call__(self, features: jax.Array, action: jax.Array) -> jax.Array:
        return ScalarHead(make_trunk(self.network), scale=1.0)(jnp.concatenate([features, action], -1))


class Critic(nn.Module):
    """``num_critics`` Q functions on one observation encoder. Output: ``(num_critics, ...)``.

    ``nn.vmap`` stacks every head parameter along a leading ensemble axis, so each layer is one
    batched matmul over the ensemble instead of a Python loop.
    """

    encoder: nn.Module  # observations -> features, shared by the Q heads
    network: NetworkConfig
    num_critics: int = 2

    def setup(self):
        ensemble = nn.vmap(
            QHead,
            variable_axes={"params": 0},
            split_rngs={"params": True},
            in_axes=None,
            out_axes=0,
            axis_size=self.num_critics,
        )
        self.heads = ensemble(self.network)

    def encode(self, obs) -> jax.Array:
        """The observation features the Q heads (and a sharing actor) see."""
        return self.encoder(obs)

    def __call__(self, obs, action: jax.Array) -> jax.Array:
        return self.heads(self.encode(obs), action)


def make_actor_critic(
    network: NetworkConfig, policy: PolicyConfig, obs_space: ObsSpace, action_space: Space, num_critics: int
) -> tuple[nn.Module, nn.Module]:
    """``(actor, critic)``: ``actor(obs)`` (or ``actor(critic features)`` with ``share_encoder``)
    is a Gaussian over pre-tanh actions, ``critic(obs, a)`` the ensemble's Q values."""
    encoder = make_trunk(network) if network.share_encoder else make_encoder(network, obs_space, "actor")
    critic_encoder = make_observation_encoder(network, obs_space, "critic")
    return PolicyHead(encoder, action_space, policy), Critic(critic_encoder, network, num_critics)
