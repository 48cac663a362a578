"""Checkpoints: round trip, atomic writes, corrupt/mismatched files, resume equivalence."""

import shutil

import jax
import numpy as np
import pytest

from robojax.agents.ppo import PPO, PPOConfig
from robojax.checkpoint import list_checkpoints, read_checkpoint, restore_state, save_checkpoint
from robojax.config import CheckpointConfig, EnvConfig
from robojax.errors import CheckpointError
from robojax.runs import load_run

from conftest import assert_trees_equal, quiet

SMALL = dict(total_steps=8 * 32 * 6, num_envs=8, rollout_length=32, log_interval=8 * 32)


def small_agent(**overrides):
    return PPO(quiet(PPOConfig(), **{**SMALL, **overrides}), "gymnax/CartPole-v1")


def test_round_trip_restores_everything(tmp_path):
    agent = small_agent()
    state = agent.init(jax.random.PRNGKey(0))
    state, _ = jax.jit(agent.train_step)(state)
    path = save_checkpoint(tmp_path, 123, state, {"algo": "ppo"}, keep=2)
    meta, raw = read_checkpoint(path)
    assert meta == {"algo": "ppo"}
    restored = restore_state(raw, agent.init(jax.random.PRNGKey(1)))
    assert_trees_equal(restored, state)  # params, optimizer, normaliser, env state, RNG, counters


def test_keep_and_no_temp_files_left(tmp_path):
    state = {"x": np.arange(3)}
    for step in range(5):
        save_checkpoint(tmp_path, step, state, {}, keep=2)
    assert [p.name for p in list_checkpoints(tmp_path)] == ["step_000000000003.ckpt", "step_000000000004.ckpt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["step_000000000003.ckpt", "step_000000000004.ckpt"]


def test_corrupt_truncated_and_foreign_files(tmp_path):
    path = save_checkpoint(tmp_path, 1, {"x": np.arange(100)}, {}, keep=1)
    blob = bytearray(path.read_bytes())
    blob[-5] ^= 0xFF
    path.write_bytes(bytes(blob))
    with pytest.raises(CheckpointError, match="corrupt"):
        read_checkpoint(path)
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="not a robojax checkpoint"):
        read_checkpoint(path)
    with pytest.raises(CheckpointError, match="does not exist"):
        read_checkpoint(tmp_path / "missing.ckpt")


def test_mismatched_state_is_rejected(tmp_path):
    state = small_agent().init(jax.random.PRNGKey(0))
    path = save_checkpoint(tmp_path, 1, state, {}, keep=1)
    _, raw = read_checkpoint(path)
    other = PPO(quiet(PPOConfig(), **{**SMALL, "network": PPOConfig().network.__class__(hidden_sizes=(32,))}), "gymnax/CartPole-v1")
    with pytest.raises(CheckpointError, match="does not match"):
        restore_state(raw, other.init(jax.random.PRNGKey(0)))


def test_resume_gives_the_same_parameters_as_an_uninterrupted_run(tmp_path):
    ckpt = CheckpointConfig(interval=8 * 32 * 2, keep=10)
    full = small_agent(checkpoint=ckpt).train(run_dir=tmp_path / "full")
    checkpoints = list_checkpoints(tmp_path / "full" / "checkpoints")
    assert len(checkpoints) == 3  # after 2 and 4 train steps, and the final one
    # a run that was stopped after 2 train steps: only its config and first checkpoint exist
    partial = tmp_path / "partial"
    (partial / "checkpoints").mkdir(parents=True)
    shutil.copy(tmp_path / "full" / "config.yaml", partial / "config.yaml")
    shutil.copy(checkpoints[0], partial / "checkpoints")
    resumed = small_agent(checkpoint=ckpt).train(run_dir=partial, resume=True)
    assert_trees_equal(resumed.state, full.state)
    assert resumed.summary["eval_return_mean"] == full.summary["eval_return_mean"]


def test_resume_with_a_different_config_is_refused(tmp_path):
    small_agent().train(run_dir=tmp_path)
    with pytest.raises(CheckpointError, match="different config: learning_rate"):
        small_agent(learning_rate=1e-3).train(run_dir=tmp_path, resume=True)
    with pytest.raises(CheckpointError, match="no checkpoint"):
        small_agent().train(run_dir=tmp_path / "empty", resume=True)


def test_load_run_restores_latest(tmp_path):
    result = small_agent().train(run_dir=tmp_path)
    agent, state, meta = load_run(tmp_path)
    assert meta["env_steps"] == result.summary["env_steps"]
    assert_trees_equal(state, result.state)


def test_brax_physics_state_round_trip(tmp_path):
    # Brax/MJX states are pytrees that flax's serialization does not know: saved leaf by leaf.
    env = EnvConfig(id="brax/inverted_pendulum", kwargs={"backend": "generalized"})
    agent = PPO(quiet(PPOConfig(), num_envs=2, rollout_length=8, num_minibatches=2), env)
    state = agent.init(jax.random.PRNGKey(0))
    _, raw = read_checkpoint(save_checkpoint(tmp_path, 1, state, {}, keep=1))
    assert_trees_equal(restore_state(raw, agent.init(jax.random.PRNGKey(1))), state)
