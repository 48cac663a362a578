"""Agents: each algorithm in its own subpackage; ``AGENTS`` maps CLI names to classes."""

from robojax.agents.base import Agent
from robojax.agents.ppo import PPO, PPOConfig
from robojax.agents.sac import SAC, SACConfig

AGENTS: dict[str, type[Agent]] = {"ppo": PPO, "sac": SAC}

__all__ = ["AGENTS", "PPO", "SAC", "Agent", "PPOConfig", "SACConfig"]
