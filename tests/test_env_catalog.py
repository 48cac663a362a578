"""Every env id ``robojax envs`` lists trains a few steps (PPO; SAC too where actions are
continuous), and every id it leaves out refuses with one clear ``EnvError`` line.

gymnax is walked completely; Gymnasium by one listed id of each (observation kind, action kind)
it has (so a new kind is covered as soon as it is registered); Brax by one id (all its envs have
the same kinds). A new id that breaks fails here.
"""

from __future__ import annotations

import warnings

import gymnasium as gym
import jax
import numpy as np
import pytest

from robojax import PPO, SAC, PPOConfig, SACConfig
from robojax.cli import main
from robojax.envs import Box, HostEnv, list_envs, make_env, missing_envs
from robojax.errors import EnvError
from robojax.models import NetworkConfig, make_encoder

TINY = NetworkConfig(hidden_sizes=(8,))
PPO_TINY = PPOConfig(num_envs=2, rollout_length=4, epochs=1, num_minibatches=1, network=TINY)
SAC_TINY = SACConfig(num_envs=2, batch_size=4, buffer_size=16, num_seed_steps=2, network=TINY)
TRAIN_STEPS = 2
# Compiling is most of this file's time; the programs are tiny, so XLA's optimiser gains nothing.
FAST_COMPILE = {"xla_backend_optimization_level": 0, "xla_llvm_disable_expensive_passes": True}


def _space_kind(space) -> str:
    """A Gymnasium space's class, and dtype for a Box (``Box:float64``, ``Discrete``, ``Tuple``, ...)."""
    name = type(space).__name__
    return f"{name}:{np.dtype(space.dtype).name}" if name == "Box" else name


def _gymnasium_sample() -> list[str]:
    """Per (observation kind, action kind) of the listed Gymnasium ids, the one with the
    smallest flattened observation (the cheapest to simulate, as a rule)."""
    best: dict[tuple[str, str], tuple[int, str]] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for env_id in list_envs("gymnasium"):
            env = gym.make(env_id.split("/", 1)[1])
            kind = (_space_kind(env.observation_space), _space_kind(env.action_space))
            size = gym.spaces.flatdim(env.observation_space)
            best[kind] = min(best.get(kind, (size, env_id)), (size, env_id))
            env.close()
    return sorted(env_id for _, env_id in best.values())


def _trained(before, state) -> None:
    """Assert that training changed the parameters (``before``: the initial ones)."""
    changed = [not np.array_equal(a, b) for a, b in zip(jax.tree.leaves(before), jax.tree.leaves(state.params))]
    assert any(changed), "no parameter changed in training"


def _check_jax(agent) -> None:
    """Init and ``TRAIN_STEPS`` train steps as one compiled program; observations keep their space."""

    def run(key):
        state = agent.init(key)
        return state.params, *jax.lax.scan(lambda s, _: agent.train_step(s), state, None, length=TRAIN_STEPS)

    key = jax.random.PRNGKey(0)
    before, state, metrics = jax.jit(run).lower(key).compile(FAST_COMPILE)(key)
    space = agent.env.observation_space
    assert state.loop.obs.shape == (agent.config.num_envs, *space.shape)
    assert state.loop.obs.dtype == space.dtype
    _check_metrics(metrics)
    _trained(before, state)


def _check_host(agent) -> None:
    """``TRAIN_STEPS`` host-loop collections, each followed by a jitted update."""
    state = before = agent.init(jax.random.PRNGKey(0))
    update = jax.jit(agent.update)
    try:
        for _ in range(TRAIN_STEPS):
            state, batch = agent.collect(state)
            assert batch.obs.shape[2:] == agent.env.observation_space.shape
            state, metrics = update(state, batch)
    finally:
        agent.loop.sim.close()
    _check_metrics(metrics)
    _trained(before.params, state)


def _check_metrics(metrics: dict) -> None:
    losses = {k: v for k, v in metrics.items() if "loss" in k}
    assert losses, sorted(metrics)
    for k, v in losses.items():
        assert np.all(np.isfinite(np.asarray(v))), (k, v)


def _check_trains(env_id: str, **kwargs) -> None:
    env = make_env(env_id, **kwargs)
    assert isinstance(env.observation_space, Box), "agents see Box observations (discrete ones one-hot)"
    agents = [PPO(PPO_TINY, env)]
    if not env.discrete_actions:
        agents.append(SAC(SAC_TINY, env))
    for agent in agents:
        (_check_host if isinstance(env, HostEnv) else _check_jax)(agent)


@pytest.mark.parametrize("env_id", list_envs("gymnax"))
def test_every_gymnax_env_trains(env_id):
    _check_trains(env_id)


@pytest.mark.parametrize("env_id", _gymnasium_sample())
def test_gymnasium_env_of_each_space_kind_trains_or_refuses(env_id):
    try:
        env = make_env(env_id)
    except EnvError as e:  # a kind robojax does not take (integer Box actions): one clear line
        assert "\n" not in str(e) and "not supported" in str(e)
        return
    _check_trains(env_id)


def test_brax_env_trains():
    _check_trains("brax/inverted_pendulum", backend="generalized")  # the quickest backend to compile


def test_discrete_observations_are_one_hot():
    jax_env = make_env("gymnax/FrozenLake-misc")
    _, ts = jax_env.reset(jax.random.PRNGKey(0))
    assert jax_env.observation_space.shape == (16,) and float(ts.obs.sum()) == 1.0
    host = make_env("gymnasium/Blackjack-v1")  # Tuple(Discrete(32), Discrete(11), Discrete(2))
    assert host.observation_space.shape == (45,)
    vec = host.create(2)
    obs = vec.reset(0)
    vec.close()
    assert obs.shape == (2, 45) and np.all(obs.sum(1) == 3)


@pytest.mark.parametrize("env_id", sorted(missing_envs()))
def test_left_out_ids_refuse_with_one_line(env_id, capsys, tmp_path):
    """What ``robojax envs`` leaves out fails before training with one line, exit code 2."""
    assert env_id not in list_envs()
    tiny = ["num_envs=1", "rollout_length=8", "total_steps=8", "eval.episodes=1", "network.hidden_sizes=[8]"]
    code = main(["train", "ppo", "--env", env_id, "--run-dir", str(tmp_path / "run"), *tiny])
    err = capsys.readouterr().err
    if code == 0:  # only MNISTBandit can, where it can download MNIST
        assert env_id == "gymnax/MNISTBandit-bsuite"
        return
    assert code == 2 and err.count("\n") == 1 and err.startswith(f"robojax: error: {env_id}"), err


def test_envs_command_reports_what_it_leaves_out(capsys):
    assert main(["envs", "gymnasium"]) == 0
    out, err = capsys.readouterr()
    listed = set(out.split())
    assert listed == set(list_envs("gymnasium"))
    for env_id, why in missing_envs("gymnasium").items():
        assert env_id not in listed and f"left out: {env_id}: {why}" in err


def test_mlp_flattens_each_observation_and_keeps_batch_axes():
    space = Box.create(0.0, 1.0, (1, 1))  # SimpleBandit-bsuite: a trailing 1 is no feature axis
    encoder = make_encoder(TINY, space)
    params = encoder.init(jax.random.PRNGKey(0), np.zeros(space.shape, np.float32))
    obs = jax.random.uniform(jax.random.PRNGKey(1), (3, 2, *space.shape))
    features = encoder.apply(params, obs)
    assert features.shape == (3, 2, 8)
    np.testing.assert_allclose(features[2, 1], encoder.apply(params, obs[2, 1]), rtol=1e-6)
