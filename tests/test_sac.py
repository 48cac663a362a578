"""SAC: squashed-Gaussian log-probs, soft targets, critic ensemble, checkpoints, resume, learning."""

import dataclasses
import shutil

import distrax
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from robojax import AGENTS, SAC, SACConfig
from robojax.checkpoint import latest_checkpoint, list_checkpoints, read_checkpoint, restore_state, save_checkpoint
from robojax.config import CheckpointConfig, EvalConfig, LogConfig, from_dict
from robojax.errors import ConfigError
from robojax.models import Flatten, NetworkConfig
from robojax.agents.sac.losses import critic_target, sample_squashed
from robojax.agents.sac.networks import Critic
from robojax.envs.spaces import Box
from robojax.config import load_yaml, split_experiment

from conftest import assert_trees_equal

ENV = "gymnax/Pendulum-v1"
QUIET = LogConfig(interval=100, console=False, tensorboard=False)


def tiny(**kw) -> SACConfig:
    base = dict(
        total_steps=200,
        num_envs=2,
        num_seed_steps=50,
        batch_size=16,
        buffer_size=128,
        network=NetworkConfig(hidden_sizes=(16, 16), activation="relu"),
        logging=QUIET,
        eval=EvalConfig(interval=0, episodes=2),
        checkpoint=CheckpointConfig(interval=0, keep=3),
    )
    base.update(kw)
    return SACConfig(**base)


# -- the squashed Gaussian ---------------------------------------------------------------------


def _reference_log_prob(u, mean, std):
    """Change of variables in float64: N(u; mean, std) - sum log(1 - tanh(u)^2), with
    log(1 - tanh(u)^2) = -2 log cosh(u), exact in float64 for |u| < 700."""
    u, mean, std = (np.asarray(x, np.float64) for x in (u, mean, std))
    gauss = -0.5 * ((u - mean) / std) ** 2 - np.log(std) - 0.5 * np.log(2 * np.pi)
    return np.sum(gauss + 2.0 * np.log(np.cosh(u)), axis=-1)


@pytest.mark.parametrize("center", [0.0, 3.0, -9.0, 20.0])
def test_tanh_gaussian_log_prob_matches_change_of_variables(center):
    mean = jnp.array([[center, -center * 0.5], [0.3, center]], jnp.float32)
    std = jnp.array([[0.5, 1.0], [0.1, 2.0]], jnp.float32)
    dist = distrax.MultivariateNormalDiag(mean, std)
    key = jax.random.PRNGKey(3)
    action, log_prob = jax.jit(sample_squashed)(dist, key)
    u = dist.sample(seed=key)  # the pre-tanh sample the squashed one was built from
    np.testing.assert_allclose(np.asarray(action), np.tanh(np.asarray(u)), atol=1e-6)
    ref = _reference_log_prob(u, mean, std)
    assert np.all(np.isfinite(np.asarray(log_prob)))
    np.testing.assert_allclose(np.asarray(log_prob), ref, rtol=1e-5, atol=1e-3)
    if abs(center) >= 9:  # where the naive float32 formula breaks down
        naive = dist.log_prob(u) - jnp.sum(jnp.log(1.0 - jnp.tanh(u) ** 2), -1)
        assert not np.all(np.isfinite(np.asarray(naive)))


# -- targets -----------------------------------------------------------------------------------


def test_critic_target_bootstraps_truncation_not_termination():
    # Three transitions: ordinary, truncated (time limit: terminated=0), terminated.
    reward = jnp.array([1.0, 2.0, 3.0])
    terminated = jnp.array([0.0, 0.0, 1.0])  # the truncated one is stored with terminated=0
    q_next = jnp.array([[10.0, 20.0, 30.0], [12.0, 18.0, 40.0]])  # (critics, B)
    log_prob = jnp.array([-1.0, 0.5, 2.0])
    alpha, gamma = 0.2, 0.9
    t = critic_target(q_next, log_prob, reward, terminated, alpha, gamma, backup_entropy=True)
    expected = [1.0 + 0.9 * (10.0 + 0.2), 2.0 + 0.9 * (18.0 - 0.1), 3.0]
    np.testing.assert_allclose(np.asarray(t), expected, rtol=1e-6)
    t = critic_target(q_next, log_prob, reward, terminated, alpha, gamma, backup_entropy=False)
    np.testing.assert_allclose(np.asarray(t), [1.0 + 9.0, 2.0 + 0.9 * 18.0, 3.0], rtol=1e-6)


def test_critic_target_random_subset():
    q_next = jnp.array([[1.0], [2.0], [3.0], [4.0]])
    zeros = jnp.zeros(1)
    seen = set()
    for i in range(20):
        t = critic_target(q_next, zeros, zeros, zeros, 0.0, 1.0, True, jax.random.PRNGKey(i), num_subset=1)
        seen.add(float(t[0]))
    assert seen <= {1.0, 2.0, 3.0, 4.0} and len(seen) > 1
    t = critic_target(q_next, zeros, zeros, zeros, 0.0, 1.0, True, jax.random.PRNGKey(0), num_subset=4)
    assert float(t[0]) == 1.0


@pytest.fixture(scope="module")
def trained():
    """A tiny agent's fresh state and its state after 201 train steps (2 envs; Pendulum truncates at 200)."""
    agent = SAC(tiny(num_envs=2), ENV)
    fresh = jax.jit(agent.init)(jax.random.PRNGKey(0))
    step = jax.jit(agent.train_step)
    state, first_metrics = step(fresh)
    for _ in range(200):
        state, metrics = step(state)
    return agent, fresh, state, first_metrics, metrics


def test_buffer_holds_true_final_obs_and_termination_flags(trained):
    _, _, state, _, _ = trained
    buf = state.buffer
    assert int(buf.size) == 128 and float(buf.data["terminated"].max()) == 0.0  # never terminates
    # Transition 199 of each env (items 398, 399 -> slots 398 % 128 = 14, 15) was truncated: its next_obs
    # is the true final obs, not the reset obs the following transition starts from.
    for slot in (14, 15):
        assert not np.allclose(buf.data["next_obs"][slot], buf.data["obs"][slot + 2])
    for slot in (12, 13):  # ordinary transitions chain
        np.testing.assert_allclose(buf.data["next_obs"][slot], buf.data["obs"][slot + 2], rtol=1e-5, atol=1e-6)


def test_metrics_are_scalars_and_nan_during_warmup(trained):
    _, _, state, first, last = trained
    assert all(v.shape == () for v in first.values())
    assert np.isnan(float(first["critic_loss"])) and float(first["alpha"]) == pytest.approx(1.0)
    for k in ("critic_loss", "actor_loss", "entropy", "q_mean", "log_prob", "alpha"):
        assert np.isfinite(float(last[k])), k
    assert int(state.updates) == 201 - 25 + 1  # updates from the step that brought the buffer to 50


# -- networks ----------------------------------------------------------------------------------


def test_critic_ensemble_is_vmapped():
    net = Critic(Flatten(Box.create(-1, 1, (4,))), NetworkConfig(hidden_sizes=(8,), activation="relu"), num_critics=3)
    obs, act = jnp.ones((5, 4)), jnp.ones((5, 2))
    params = net.init(jax.random.PRNGKey(0), obs, act)
    leaves = jax.tree.leaves(params)
    assert all(leaf.shape[0] == 3 for leaf in leaves)  # one stacked parameter set, not 3 modules
    q = net.apply(params, obs, act)
    assert q.shape == (3, 5) and len(np.unique(np.asarray(q[:, 0]))) == 3


# -- config and env checks ---------------------------------------------------------------------


def test_registry_and_defaults():
    assert AGENTS["sac"] is SAC
    cfg = SACConfig()
    assert cfg.num_critics == 2 and cfg.backup_entropy and cfg.network.hidden_sizes == (256, 256)
    assert from_dict(SACConfig, {"num_critic_subset": 2, "tau": 0.01}).num_critic_subset == 2


@pytest.mark.parametrize(
    "kw, field",
    [
        ({"tau": 0.0}, "tau"),
        ({"num_critics": 0}, "num_critics"),
        ({"num_critics": 2, "num_critic_subset": 3}, "num_critic_subset"),
        ({"batch_size": 0}, "batch_size"),
        ({"grad_updates_per_step": 0}, "grad_updates_per_step"),
        ({"num_seed_steps": -1}, "num_seed_steps"),
        ({"gamma": 1.5}, "gamma"),
    ],
)
def test_config_validation_names_field(kw, field):
    with pytest.raises(ConfigError, match=field):
        SACConfig(**kw)


def test_discrete_action_space_rejected():
    with pytest.raises(ConfigError, match="continuous"):
        SAC(tiny(), "gymnax/CartPole-v1")


# -- checkpoints and resume --------------------------------------------------------------------


@pytest.mark.parametrize("save_buffer", [True, False])
def test_checkpoint_round_trip(tmp_path, trained, save_buffer):
    _, fresh, state, _, _ = trained
    agent = SAC(tiny(num_envs=2, save_buffer=save_buffer), ENV)
    path = save_checkpoint(tmp_path, 402, agent.checkpoint_view(state), {"algo": "sac"}, keep=1)
    _, raw = read_checkpoint(path)
    restored = agent.from_checkpoint_view(restore_state(raw, agent.checkpoint_view(fresh), path), fresh)
    for name in ("params", "opt_state", "loop", "key", "step", "updates"):
        assert_trees_equal(getattr(restored, name), getattr(state, name))
    # raw keys are paths such as "['buffer']['data']..." (or ".buffer.data..." for the full state)
    buffer_keys = [k for k in raw if "buffer" in k]
    assert any("params" in k for k in raw)
    if save_buffer:
        assert_trees_equal(restored.buffer, state.buffer)
        assert int(restored.buffer.size) == 128
        assert buffer_keys
    else:
        assert_trees_equal(restored.buffer, fresh.buffer)
        assert int(restored.buffer.size) == 0
        assert not buffer_keys


def test_resume_equivalence(tmp_path):
    cfg = tiny(total_steps=400, checkpoint=CheckpointConfig(interval=200, keep=3))
    full = SAC(cfg, ENV).train(run_dir=tmp_path / "a")
    mid = [p for p in list_checkpoints(tmp_path / "a" / "checkpoints") if p.name.endswith("000000000200.ckpt")]
    assert mid, list_checkpoints(tmp_path / "a" / "checkpoints")
    (tmp_path / "b" / "checkpoints").mkdir(parents=True)
    shutil.copy(mid[0], tmp_path / "b" / "checkpoints" / mid[0].name)
    shutil.copy(tmp_path / "a" / "config.yaml", tmp_path / "b" / "config.yaml")
    resumed = SAC(cfg, ENV).train(run_dir=tmp_path / "b", resume=True)
    assert int(resumed.state.step[0]) == 200 and int(resumed.state.updates[0]) == int(full.state.updates[0])
    assert_trees_equal(resumed.state.params, full.state.params)
    assert_trees_equal(resumed.state.buffer, full.state.buffer)
    assert latest_checkpoint(tmp_path / "b" / "checkpoints").name.endswith("000000000400.ckpt")


def test_resume_without_buffer_refills_before_updating(tmp_path):
    cfg = tiny(total_steps=200, save_buffer=False, checkpoint=CheckpointConfig(interval=100, keep=3))
    SAC(cfg, ENV).train(run_dir=tmp_path / "a")
    ckpts = list_checkpoints(tmp_path / "a" / "checkpoints")
    (tmp_path / "b" / "checkpoints").mkdir(parents=True)
    shutil.copy(ckpts[0], tmp_path / "b" / "checkpoints" / ckpts[0].name)
    shutil.copy(tmp_path / "a" / "config.yaml", tmp_path / "b" / "config.yaml")
    resumed = SAC(cfg, ENV).train(run_dir=tmp_path / "b", resume=True)
    # 50 train steps (2 envs) after the resume put 100 transitions in the empty buffer. Updates need
    # >= num_seed_steps = 50 of them: train steps 25..50 of each half update (26 + 26 updates).
    assert int(resumed.state.buffer.size[0]) == 100
    assert int(resumed.state.updates[0]) == 26 + 26


# -- learning ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_learns_pendulum(tmp_path):
    # The fast preset: 4 envs x 4 updates per step, 64x64, 6,000 steps (~8 s on 2 cores).
    env, preset = split_experiment(SACConfig, load_yaml("configs/sac_pendulum_fast.yaml"))
    cfg = dataclasses.replace(preset, logging=LogConfig(interval=3_000, console=False, tensorboard=False))
    assert env.id == ENV
    result = SAC(cfg, ENV).train(run_dir=tmp_path / "run")
    # seeds 0-2: -155, -231, -133 (benchmarks/RESULTS.md); random about -1,200
    assert result.summary["eval_return_mean"] > -350, result.summary
    assert np.isfinite(result.summary["train_sps"])
