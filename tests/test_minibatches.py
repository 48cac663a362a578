import jax
import jax.numpy as jnp
import numpy as np
import pytest

from robojax.minibatches import permutation, shuffled_minibatches


@pytest.mark.parametrize("n", [1, 2, 7, 512, 1000, 70_000, 2**20 + 3])
def test_permutation_is_a_permutation(n):
    perm = np.asarray(permutation(jax.random.PRNGKey(n), n))
    assert perm.dtype == np.int32
    np.testing.assert_array_equal(np.sort(perm), np.arange(n))


def test_permutation_is_deterministic_per_key_and_differs_across_keys():
    a = permutation(jax.random.PRNGKey(0), 512)
    np.testing.assert_array_equal(a, permutation(jax.random.PRNGKey(0), 512))
    assert not np.array_equal(a, permutation(jax.random.PRNGKey(1), 512))


def test_permutation_is_uniform():
    """Every item lands in every position about equally often (chi-square over 4000 draws)."""
    n, draws = 8, 4000
    perms = np.asarray(jax.vmap(lambda k: permutation(k, n))(jax.random.split(jax.random.PRNGKey(3), draws)))
    counts = np.stack([(perms == i).sum(0) for i in range(n)])  # item x position
    expected = draws / n
    chi2 = ((counts - expected) ** 2 / expected).sum()
    # 49 degrees of freedom: the 99.9% quantile is about 86.
    assert chi2 < 86, chi2


def test_permutation_rejects_bad_sizes():
    with pytest.raises(ValueError, match="n=0"):
        permutation(jax.random.PRNGKey(0), 0)


def test_shuffled_minibatches_split_every_row_once():
    data = {"x": jnp.arange(12.0).reshape(12, 1), "y": jnp.arange(12)}
    mb = shuffled_minibatches(jax.random.PRNGKey(0), data, 3)
    assert mb["x"].shape == (3, 4, 1) and mb["y"].shape == (3, 4)
    np.testing.assert_array_equal(np.sort(np.asarray(mb["y"]).ravel()), np.arange(12))
    np.testing.assert_array_equal(np.asarray(mb["x"])[..., 0], np.asarray(mb["y"], np.float32))  # rows stay together
    with pytest.raises(ValueError, match="num_minibatches=5"):
        shuffled_minibatches(jax.random.PRNGKey(0), data, 5)
