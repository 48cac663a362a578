"""SAC's actor (squashed Gaussian) and critic ensemble (Q networks vmapped over their params)."""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from robojax.envs.spaces import Box, Space
from robojax.models import NetworkConfig, ScalarHead, make_encoder
from robojax.policies import PolicyConfig, PolicyHead


class QNetwork(nn.Module):
    """``Q(obs, action)``: the encoder sees the flattened observation concatenated with the action."""

    network: NetworkConfig

    @nn.compact
    def __call__(self, obs: jax.Array, action: jax.Array) -> jax.Array:
        obs = obs.reshape(*action.shape[:-1], -1)  # (*batch, *obs_shape) -> (*batch, obs_dim)
        return ScalarHead(make_encoder(self.network), scale=1.0)(jnp.concatenate([obs, action], -1))


class CriticEnsemble(nn.Module):
    """``num_critics`` independent Q networks evaluated as one batched program.

    ``nn.vmap`` stacks every parameter along a leading ensemble axis, so each layer is one
    batched matmul over the ensemble instead of a Python loop. Output: ``(num_critics, ...)``.
    """

    network: NetworkConfig
    num_critics: int = 2

    @nn.compact
    def __call__(self, obs: jax.Array, action: jax.Array) -> jax.Array:
        ensemble = nn.vmap(
            QNetwork,
            variable_axes={"params": 0},
            split_rngs={"params": True},
            in_axes=None,
            out_axes=0,
            axis_size=self.num_critics,
        )
        return ensemble(self.network)(obs, action)


def make_actor_critic(
    network: NetworkConfig, policy: PolicyConfig, observation_space: Box, action_space: Space, num_critics: int
) -> tuple[nn.Module, nn.Module]:
    """``(actor, critic)``: ``actor(obs)`` is a Gaussian over pre-tanh actions, ``critic(obs, a)`` Q values."""
    actor = PolicyHead(make_encoder(network, observation_space), action_space, policy)
    critic = CriticEnsemble(network, num_critics)
    return actor, critic
