"""Scalar training metrics packed into one vector: one buffer to carry through a loop or fetch."""

from __future__ import annotations

import jax
import jax.numpy as jnp


def pack_metrics(metrics: dict[str, jax.Array]) -> tuple[list[str], jax.Array]:
    """Scalar metrics as ``(sorted names, one float32 vector)``."""
    names = sorted(metrics)
    return names, jnp.stack([jnp.asarray(metrics[k], jnp.float32) for k in names])
