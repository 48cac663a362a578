"""Proximal Policy Optimisation."""

from robojax.agents.ppo.agent import PPO, PPOState
from robojax.agents.ppo.config import PPOConfig

__all__ = ["PPO", "PPOConfig", "PPOState"]
