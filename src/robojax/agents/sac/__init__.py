"""Soft Actor-Critic."""

from robojax.agents.sac.agent import SAC, SACState
from robojax.agents.sac.config import SACConfig

__all__ = ["SAC", "SACConfig", "SACState"]
