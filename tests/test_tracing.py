"""Each program traces its pieces once: a warm start loads the compiled programs from the cache
but still traces them, so a second trace of the train step, SAC's update, the init or the env's
step (for a shape query) would cost as much again."""

import functools
from collections import Counter

import jax
import jax.numpy as jnp
import pytest

from robojax import PPO, SAC, PPOConfig, SACConfig
from robojax.evaluation import evaluate
from robojax.models import NetworkConfig
from robojax.trainer import Trainer

from conftest import quiet

NET = NetworkConfig(hidden_sizes=(8,))


def counting(counts: Counter, name: str, fn):
    @functools.wraps(fn)
    def wrapped(*args, **kwargs):
        counts[name] += 1
        return fn(*args, **kwargs)

    return wrapped


@pytest.mark.parametrize("algo", ["ppo", "sac"])
def test_init_and_train_chunk_trace_each_piece_once(algo, monkeypatch, tmp_path):
    cls, config, env = {
        "ppo": (PPO, PPOConfig(num_envs=2, rollout_length=4, num_minibatches=1, network=NET), "gymnax/CartPole-v1"),
        "sac": (SAC, SACConfig(num_envs=2, batch_size=8, network=NET), "gymnax/Pendulum-v1"),
    }[algo]
    counts = Counter()
    for method in ("init", "train_step") + (("_update",) if algo == "sac" else ()):
        monkeypatch.setattr(cls, method, counting(counts, method, getattr(cls, method)))
    trainer = Trainer(cls(quiet(config), env), run_dir=tmp_path / "run")
    init, keys = trainer._init_fn(), trainer._seed_keys()
    like = jax.eval_shape(init, keys)  # as ``Trainer._prepare`` does; JAX shares this trace with the jit's
    jax.jit(init).trace(keys)
    trainer._chunk_fn(like).trace(like, jnp.int32(1))
    assert counts == Counter({"init": 1, "train_step": 1, **({"_update": 1} if algo == "sac" else {})})


def test_evaluation_traces_the_env_step_once(monkeypatch):
    agent = PPO(quiet(PPOConfig(num_envs=2, network=NET)), "gymnax/CartPole-v1")
    counts = Counter()
    monkeypatch.setattr(agent.env, "step", counting(counts, "step", agent.env.step))
    state = agent.init(jax.random.PRNGKey(0))
    jax.jit(lambda key: evaluate(agent.env, lambda obs, k: agent.act(state, obs, k, True), key, 2)).trace(
        jax.random.PRNGKey(1))
    assert counts["step"] == 1
