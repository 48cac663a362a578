"""Encoders beyond the MLP, one module each; importing this package registers them by name."""

from robojax.encoders import pointnet, transformer

__all__ = ["pointnet", "transformer"]
