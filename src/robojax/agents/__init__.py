"""Agents: each algorithm in its own subpackage; ``AGENTS`` maps CLI names to classes."""

from robojax.agents.base import Agent
from robojax.agents.ppo import PPO, PPOConfig
from robojax.agents.sac import SAC, SACConfig
from robojax.agents.transporter import Transporter, TransporterConfig

# Transporter learns from demonstrations with its own driver, so it is not an ``Agent``.
AGENTS: dict[str, type[Agent] | type[Transporter]] = {"ppo": PPO, "sac": SAC, "transporter": Transporter}

__all__ = ["AGENTS", "PPO", "SAC", "Agent", "PPOConfig", "SACConfig", "Transporter", "TransporterConfig"]
