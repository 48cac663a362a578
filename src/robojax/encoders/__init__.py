"""Observation encoders beyond the MLP, each registered with ``robojax.models.register_encoder``.

Importing this package registers them (``robojax.models`` does so on import); the pieces they
share with the model interface live in ``robojax.layers``. Each module
defines its encoder and its settings (a nested config dataclass, a field of ``NetworkConfig``).
"""

from robojax.encoders import cnn, multi, pointnet, transformer

__all__ = ["cnn", "multi", "pointnet", "transformer"]
