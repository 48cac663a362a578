"""The unrolled threefry lowering that robojax registers on CPU: one fused kernel, the same bits."""

import json
import subprocess
import sys

import jax
import numpy as np

import robojax  # noqa: F401  (registers the lowering)
from robojax.cpu_prng import use_unrolled_threefry_on_cpu

_DRAWS = """
import json, jax, jax.numpy as jnp
key = jax.random.PRNGKey(7)
draws = jax.jit(lambda k: (jax.random.key_data(jax.random.split(k, 5)), jax.random.normal(k, (3, 4)),
                            jax.random.categorical(k, jnp.log(jnp.arange(1.0, 7.0)), shape=(9,))))(key)
print(json.dumps([jnp.asarray(d).tolist() for d in draws]))
"""


def test_random_numbers_are_the_same_as_with_jax_default_lowering():
    plain = subprocess.run([sys.executable, "-c", _DRAWS], capture_output=True, text=True, check=True)
    ours = subprocess.run([sys.executable, "-c", "import robojax\n" + _DRAWS], capture_output=True, text=True, check=True)
    expected, got = json.loads(plain.stdout), json.loads(ours.stdout)
    for e, g in zip(expected, got):
        np.testing.assert_array_equal(np.asarray(g), np.asarray(e))


def _split_hlo() -> str:
    return jax.jit(lambda k: jax.random.split(k, 4)).lower(jax.random.PRNGKey(0)).compile().as_text()


def test_threefry_compiles_without_a_loop_on_cpu():
    assert " while(" not in _split_hlo()


def test_jax_rolled_lowering_can_be_put_back_for_comparisons():
    try:
        assert use_unrolled_threefry_on_cpu(False)
        assert " while(" in _split_hlo()
    finally:
        assert use_unrolled_threefry_on_cpu(True)
    assert " while(" not in _split_hlo()
