"""Transporter Networks: pick-and-place from a few demonstrations (Zeng et al., CoRL 2020)."""

from robojax.agents.transporter.agent import Transporter, TransporterState
from robojax.agents.transporter.config import DemosConfig, TransporterConfig
from robojax.agents.transporter.conv_mlp import ConvMLP

__all__ = ["ConvMLP", "DemosConfig", "Transporter", "TransporterConfig", "TransporterState"]
