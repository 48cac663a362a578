"""PPO's actor and critic: separate encoders from the model interface, policy and value heads."""

from __future__ import annotations

import flax.linen as nn

from robojax.envs.spaces import ObsSpace, Space
from robojax.models import NetworkConfig, ScalarHead, make_encoder
from robojax.policies import PolicyConfig, PolicyHead


def make_actor_critic(
    network: NetworkConfig, policy: PolicyConfig, obs_space: ObsSpace, action_space: Space
) -> tuple[nn.Module, nn.Module]:
    """``(actor, critic)``: ``actor(obs)`` is a distribution over raw actions, ``critic(obs)`` a value."""
    actor = PolicyHead(make_encoder(network, obs_space, "actor"), action_space, policy)
    critic = ScalarHead(make_encoder(network, obs_space, "critic"), scale=1.0)
    return actor, critic
