"""Agents: each algorithm in its own subpackage; ``AGENTS`` maps CLI names to classes."""

from robojax.agents.base import Agent
from robojax.agents.ppo import PPO, PPOConfig

AGENTS: dict[str, type[Agent]] = {"ppo": PPO}

__all__ = ["AGENTS", "PPO", "Agent", "PPOConfig"]
