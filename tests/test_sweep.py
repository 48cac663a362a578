"""Hyper-parameter sweeps in one compiled program, and the plots/tables of their results."""

import dataclasses
import json
import shutil
import sys

import jax
import numpy as np
import pytest

from robojax.agents.ppo import PPO, PPOConfig
from robojax.agents.sac import SAC, SACConfig
from robojax.checkpoint import list_checkpoints
from robojax.cli import main
from robojax.config import CheckpointConfig, EvalConfig, parse_overrides, split_experiment
from robojax.errors import ConfigError
from robojax.models import NetworkConfig
from robojax.results import label_series, load_series
from robojax.sharding import map_seeds
from robojax.trainer import sweep_hparams

from conftest import assert_trees_equal, quiet

TINY = dict(
    total_steps=4 * 16 * 4, num_envs=4, rollout_length=16, num_minibatches=2, log_interval=64,
    network=NetworkConfig(hidden_sizes=(16, 16)), eval=EvalConfig(interval=128, episodes=2),
    checkpoint=CheckpointConfig(interval=128, keep=10),
)
SWEEP = {"learning_rate": [1e-2, 3e-4], "ent_coef": [0.0, 0.05]}


def tiny(**overrides):
    return quiet(PPOConfig(), **{**TINY, **overrides})


@pytest.fixture(scope="module")
def sweep_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("sweep") / "run"
    return PPO(tiny(sweep=SWEEP, num_seeds=2)).train(run_dir=run_dir)


def test_sweep_config_is_checked_up_front():
    experiment = parse_overrides(["sweep.learning_rate=[1e-3, 3e-4]", "sweep.clip_eps=[0.1,0.2,0.3]", "num_seeds=2"])
    _, config = split_experiment(PPOConfig, experiment)
    assert config.sweep == {"learning_rate": [1e-3, 3e-4], "clip_eps": [0.1, 0.2, 0.3]}  # YAML's "1e-3" is a float
    assert config.num_runs == 12
    assert config.sweep_settings()[:2] == [{"learning_rate": 1e-3, "clip_eps": 0.1}, {"learning_rate": 1e-3, "clip_eps": 0.2}]
    with pytest.raises(ConfigError, match=r"sweep.num_envs: 'num_envs' changes shapes or control flow .*sweepable fields: learning_rate"):
        PPOConfig(sweep={"num_envs": [4, 8]})
    with pytest.raises(ConfigError, match="sweep.network: 'network' changes shapes"):
        PPOConfig(sweep={"network": [{"hidden_sizes": [8]}]})
    with pytest.raises(ConfigError, match="sweep.lr: 'lr' is not a config field"):
        PPOConfig(sweep={"lr": [1e-3]})
    with pytest.raises(ConfigError, match="sweep.gamma=0.5: expected a non-empty list"):
        PPOConfig(sweep={"gamma": 0.5})
    with pytest.raises(ConfigError, match=r"gamma=1.5: must be in \[0, 1\]"):
        PPOConfig(sweep={"gamma": [0.9, 1.5]})  # every setting is validated
    with pytest.raises(ConfigError, match=r"sweep.tau\[0\]='x': expected float"):
        SACConfig(sweep={"tau": ["x"]})
    with pytest.raises(ConfigError, match="sweep.learning_rate: sweeps in one program need a JAX env"):
        PPO(PPOConfig(sweep={"learning_rate": [1e-3]}), "gymnasium/CartPole-v1")


def test_each_setting_trains_like_a_separate_run(sweep_run, tmp_path):
    """Run 3 (setting 1: lr 1e-2, ent_coef 0.05; seed 1) against a 2-seed run of that setting alone."""
    setting = {"learning_rate": 1e-2, "ent_coef": 0.05}
    alone = PPO(tiny(num_seeds=2, **setting)).train(run_dir=tmp_path / "alone")
    pick = lambda tree, i: jax.tree.map(lambda x: np.asarray(x)[i], tree)  # noqa: E731
    for x, y in zip(jax.tree.leaves(pick(sweep_run.state.params, 3)), jax.tree.leaves(pick(alone.state.params, 1)), strict=True):
        np.testing.assert_allclose(x, y, rtol=1e-4, atol=1e-5)  # batched vs unbatched matmuls round differently
    first, second = (jax.tree.leaves(pick(sweep_run.state.params, i))[-1] for i in (1, 3))
    assert not np.allclose(first, second)  # same seed, different setting: different result
    assert sweep_run.summary["sweep"][1]["setting"] == setting
    assert sweep_run.summary["sweep"][1]["eval_return_per_seed"] == sweep_run.summary["eval_return_per_seed"][2:4]
    assert len(sweep_run.summary["eval_return_per_seed"]) == 8

    # metrics.jsonl: per-seed evaluation of every run; plot/compare split it by setting
    records = [json.loads(line) for line in (sweep_run.run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [len(r["eval/return_per_seed"]) for r in records if "eval/return_per_seed" in r] == [8]
    series = label_series(load_series(sweep_run.run_dir) + load_series(alone.run_dir))
    assert [s.values.shape for s in series] == [(2, 2)] * 5  # (eval at 128 steps + final, seeds)
    assert series[1].label == "run: ent_coef=0.05, learning_rate=0.01"  # same config as `alone`: run dir added
    assert series[0].label == "ent_coef=0.0, learning_rate=0.01"
    np.testing.assert_array_equal(series[1].final, sweep_run.summary["eval_return_per_seed"][2:4])


def test_resume_of_a_sweep_is_exact(sweep_run, tmp_path):
    partial = tmp_path / "partial"
    (partial / "checkpoints").mkdir(parents=True)
    shutil.copy(sweep_run.run_dir / "config.yaml", partial / "config.yaml")
    shutil.copy(list_checkpoints(sweep_run.run_dir / "checkpoints")[0], partial / "checkpoints")
    resumed = PPO(tiny(sweep=SWEEP, num_seeds=2)).train(run_dir=partial, resume=True)
    assert_trees_equal(resumed.state, sweep_run.state)
    assert resumed.summary["sweep"] == sweep_run.summary["sweep"]


def test_plot_and_compare_commands(sweep_run, tmp_path, capsys, monkeypatch):
    out = tmp_path / "curves.svg"
    assert main(["plot", str(sweep_run.run_dir), "--out", str(out), "--x", "wall_s"]) == 0
    svg = out.read_text()
    assert svg.startswith("<?xml") and svg.count("learning_rate=0.0003") == 2  # one legend entry per setting
    assert main(["compare", str(sweep_run.run_dir)]) == 0
    table = capsys.readouterr().out
    assert table.count("learning_rate=") == 4 and "IQM" in table
    assert main(["plot", str(sweep_run.run_dir), "--metric", "train/episode_return"]) == 2
    assert "cannot be split by swept setting" in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if the plot extra were not installed
    assert main(["plot", str(sweep_run.run_dir), "--out", str(tmp_path / "x.png")]) == 2
    assert capsys.readouterr().err.strip() == "robojax: error: robojax plot needs matplotlib: pip install 'robojax[plot]'"


def test_sac_reads_swept_values_from_the_train_state():
    config = SACConfig(num_envs=2, batch_size=8, buffer_size=64, num_seed_steps=0, network=NetworkConfig(hidden_sizes=(8,)),
                       sweep={"tau": [0.01, 1.0], "learning_rate": [1e-4, 1e-2]})
    agent = SAC(config, "gymnax/Pendulum-v1")
    keys = jax.numpy.stack([jax.random.PRNGKey(0)] * config.num_runs)  # same seed: only the setting differs
    state = jax.vmap(agent.init)(keys).replace(hparams=sweep_hparams(config))
    state, _ = jax.jit(map_seeds(agent.train_step, config.num_runs))(state)  # one gradient update
    critic, target = (np.asarray(jax.tree.leaves(state.params[k])[0]) for k in ("critic", "target_critic"))
    # runs: (tau 0.01, lr 1e-4), (0.01, 1e-2), (1.0, 1e-4), (1.0, 1e-2)
    np.testing.assert_array_equal(critic[0], critic[2])  # tau does not change the first critic update
    assert not np.allclose(critic[0], critic[1], rtol=0, atol=1e-4)  # the learning rate does
    np.testing.assert_array_equal(target[2], critic[2])  # tau 1: the target copies the critic
    assert not np.allclose(target[0], critic[0], rtol=0, atol=1e-6)
