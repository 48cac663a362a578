"""The device replay buffer: insertion with wrap-around, uniform sampling of filled slots only."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from robojax.replay import ReplayBuffer


def _items(start, n):
    x = jnp.arange(start, start + n, dtype=jnp.float32)
    return {"x": x, "pair": jnp.stack([x, -x], -1)}


def test_create_is_empty():
    buf = ReplayBuffer.create({"x": jnp.zeros(()), "pair": jnp.zeros(2)}, 10)
    assert buf.capacity == 10 and int(buf.size) == 0 and int(buf.index) == 0
    assert buf.data["pair"].shape == (10, 2) and buf.data["x"].dtype == jnp.float32


@pytest.mark.parametrize("n", [2, 3])  # 2 divides the capacity (slice update), 3 does not (scatter)
def test_insert_wraps_around(n):
    cap = 10
    buf = ReplayBuffer.create({"x": jnp.zeros(()), "pair": jnp.zeros(2)}, cap)
    add = jax.jit(ReplayBuffer.add)
    written = []
    for i in range(7):
        buf = add(buf, _items(100 * i, n))
        written += list(range(100 * i, 100 * i + n))
        assert int(buf.size) == min(len(written), cap)
        assert int(buf.index) == len(written) % cap
    expected = np.zeros(cap)
    for j, v in enumerate(written):  # reference: slot j % cap holds the latest write
        expected[j % cap] = v
    np.testing.assert_array_equal(np.asarray(buf.data["x"]), expected)
    np.testing.assert_array_equal(np.asarray(buf.data["pair"][:, 1]), -expected)


def test_add_too_many_raises():
    buf = ReplayBuffer.create({"x": jnp.zeros(())}, 4)
    with pytest.raises(ValueError, match="capacity"):
        buf.add({"x": jnp.zeros(5)})


def test_sample_only_filled_slots_and_uniform():
    buf = ReplayBuffer.create({"x": jnp.zeros(()), "pair": jnp.zeros(2)}, 100)
    buf = buf.add(_items(1, 5))  # slots 0..4 hold 1..5, the rest zeros
    sample = jax.jit(ReplayBuffer.sample, static_argnums=2)(buf, jax.random.PRNGKey(0), 5000)
    x = np.asarray(sample["x"])
    assert set(np.unique(x)) == {1.0, 2.0, 3.0, 4.0, 5.0}
    np.testing.assert_array_equal(np.asarray(sample["pair"][:, 1]), -x)  # items stay together
    counts = np.bincount(x.astype(int), minlength=6)[1:]
    assert np.all(np.abs(counts / 5000 - 0.2) < 0.03)


def test_vmapped_over_seeds_inside_jit():
    def one_seed(key):
        buf = ReplayBuffer.create({"x": jnp.zeros(())}, 8)
        buf = buf.add({"x": jax.random.uniform(key, (3,))})
        return buf, buf.sample(key, 16)

    bufs, samples = jax.jit(jax.vmap(one_seed))(jax.random.split(jax.random.PRNGKey(1), 4))
    assert bufs.data["x"].shape == (4, 8) and samples["x"].shape == (4, 16)
    for s in range(4):
        assert set(np.asarray(samples["x"][s])) <= set(np.asarray(bufs.data["x"][s, :3]))
