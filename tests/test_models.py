"""The model interface's initialiser: orthogonal, and free of LAPACK calls (see models.orthogonal)."""

import jax
import numpy as np
import pytest

from robojax.agents.ppo import PPO, PPOConfig
from robojax.agents.sac import SAC, SACConfig
from robojax.models import orthogonal


@pytest.mark.parametrize("shape", [(4, 64), (256, 256), (64, 2), (1, 256), (3, 5, 7)])
def test_orthogonal_columns_or_rows(shape):
    w = np.asarray(orthogonal(2.0)(jax.random.PRNGKey(0), shape), np.float64).reshape(-1, shape[-1]) / 2.0
    gram = w.T @ w if w.shape[0] >= w.shape[1] else w @ w.T
    np.testing.assert_allclose(gram, np.eye(len(gram)), atol=1e-5)


def test_orthogonal_is_random_and_unbiased():
    ws = np.stack([np.asarray(orthogonal()(jax.random.PRNGKey(s), (8, 8))) for s in range(200)])
    assert abs(ws.mean()) < 0.02 and not np.allclose(ws[0], ws[1])


@pytest.mark.parametrize("agent", [PPO(PPOConfig(num_seeds=3)), SAC(SACConfig(num_seeds=3, buffer_size=100))])
def test_vmapped_init_has_no_lapack_call(agent):
    # Batched LAPACK QR kernels running at once deadlocked XLA's 2-thread CPU pool.
    keys = jax.random.split(jax.random.PRNGKey(0), 3)
    hlo = jax.jit(jax.vmap(agent.init)).lower(keys).as_text()
    assert "lapack" not in hlo.lower() and "geqrf" not in hlo.lower()
