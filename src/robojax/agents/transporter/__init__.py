"""Transporter Networks: pick-and-place from a few demonstrations (Zeng et al., CoRL 2020)."""

from robojax.agents.transporter.agent import Transporter, TransporterState
from robojax.agents.transporter.config import DemosConfig, TransporterConfig

__all__ = ["DemosConfig", "Transporter", "TransporterConfig", "TransporterState"]
