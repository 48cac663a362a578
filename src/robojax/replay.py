"""A replay buffer that lives on the device: a pytree, updated and sampled inside ``jit``.

The buffer is a circular array store: every leaf of ``data`` has shape ``(capacity, ...)``,
``index`` is the next slot to write and ``size`` the number of filled slots. ``add`` writes
a batch of ``N`` items with wrap-around; ``sample`` draws uniformly (with replacement) from
the filled slots only. Being a plain pytree, it can be carried through ``lax.scan``,
``vmap``-ed over seeds and written to checkpoints like any other part of a train state.

Why not flashbax: flashbax 0.1.3 installs and runs with jax 0.10 (add/sample inside jit,
vmap over seeds), but its state class is not a flax-serialisable pytree (checkpoints would
need a shim), its flat buffer samples consecutive pairs (wasted gathers: our transitions
already hold ``next_obs``), and it would add tensorstore & co. as hard dependencies for
what is ~50 lines here.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from flax import struct


@struct.dataclass
class ReplayBuffer:
    """Circular buffer of items (pytrees); every leaf of ``data`` is ``(capacity, ...)``."""

    data: Any
    index: jax.Array  # int32: next slot to write
    size: jax.Array  # int32: filled slots, <= capacity

    @classmethod
    def create(cls, example: Any, capacity: int) -> ReplayBuffer:
        """An empty buffer for items shaped like ``example`` (one item, no batch axis)."""
        if capacity < 1:
            raise ValueError(f"replay buffer capacity must be >= 1, got {capacity}")
        data = jax.tree.map(lambda x: jnp.zeros((capacity, *jnp.shape(x)), jnp.result_type(x)), example)
        return cls(data=data, index=jnp.zeros((), jnp.int32), size=jnp.zeros((), jnp.int32))

    @property
    def capacity(self) -> int:
        return jax.tree.leaves(self.data)[0].shape[0]

    def add(self, batch: Any) -> ReplayBuffer:
        """Insert ``N`` items (leading axis of every leaf of ``batch``), overwriting the oldest."""
        n = jax.tree.leaves(batch)[0].shape[0]
        cap = self.capacity
        if n > cap:
            raise ValueError(f"cannot add {n} items at once to a replay buffer of capacity {cap}")
        if cap % n == 0:
            # The write position is always a multiple of n, so the block never wraps:
            # one in-place dynamic_update_slice per leaf.
            data = jax.tree.map(
                lambda buf, x: jax.lax.dynamic_update_slice_in_dim(buf, x.astype(buf.dtype), self.index, 0),
                self.data,
                batch,
            )
        else:
            slots = (self.index + jnp.arange(n)) % cap
            data = jax.tree.map(lambda buf, x: buf.at[slots].set(x.astype(buf.dtype)), self.data, batch)
        return ReplayBuffer(data=data, index=(self.index + n) % cap, size=jnp.minimum(self.size + n, cap))

    def sample(self, key: jax.Array, batch_size: int) -> Any:
        """``batch_size`` items drawn uniformly with replacement from the filled slots.

        Sampling an empty buffer returns slot 0 (zeros); callers gate updates on ``size``.
        """
        idx = jax.random.randint(key, (batch_size,), 0, jnp.maximum(self.size, 1))
        return jax.tree.map(lambda buf: jnp.take(buf, idx, axis=0, mode="clip"), self.data)
