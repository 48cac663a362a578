"""Agents: each algorithm in its own subpackage; ``AGENTS`` maps CLI names to classes."""

from robojax.agents.base import Agent
from robojax.agents.ppo import PPO, PPOConfig
from robojax.agents.sac import SAC, SACConfig
from robojax.agents.transporter import ConvMLP, Transporter, TransporterConfig

# Transporter (and its Conv-MLP baseline) learn from demonstrations with their own driver, so
# they are not ``Agent``s.
AGENTS: dict[str, type[Agent] | type[Transporter]] = {
    "ppo": PPO, "sac": SAC, "transporter": Transporter, "conv_mlp": ConvMLP,
}

__all__ = ["AGENTS", "PPO", "SAC", "Agent", "PPOConfig", "ConvMLP", "SACConfig", "Transporter", "TransporterConfig"]
