"""Adapters, wrappers and the env registry."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from robojax.envs import Box, Discrete, list_envs, make_env
from robojax.errors import EnvError


def run(env, actions, key=0):
    state, ts = env.reset(jax.random.PRNGKey(key))
    step = jax.jit(env.step)
    out = []
    for a in actions:
        state, ts = step(state, a)
        out.append(ts)
    return out


def test_unknown_ids_list_what_is_available():
    with pytest.raises(EnvError, match="available suites: gymnax, brax"):
        make_env("atari/Pong")
    with pytest.raises(EnvError, match="CartPole-v1"):
        make_env("gymnax/CartPol")
    with pytest.raises(EnvError, match="SUITE/NAME"):
        make_env("CartPole-v1")
    assert "gymnax/Pendulum-v1" in list_envs() and "brax/ant" in list_envs("brax")


def test_gymnax_spaces():
    cartpole, pendulum = make_env("gymnax/CartPole-v1"), make_env("gymnax/Pendulum-v1")
    assert cartpole.action_space == Discrete(2) and cartpole.observation_space.shape == (4,)
    assert isinstance(pendulum.action_space, Box) and pendulum.action_space.shape == (1,)
    np.testing.assert_allclose(pendulum.action_space.high, [2.0])
    assert pendulum.max_episode_steps == 200


def test_time_limit_truncates_and_never_terminates():
    env = make_env("gymnax/Pendulum-v1", max_episode_steps=5)
    steps = run(env, [jnp.zeros(1)] * 12)
    truncated = [bool(ts.truncated) for ts in steps]
    assert truncated == [False] * 4 + [True] + [False] * 4 + [True] + [False] * 2
    assert not any(bool(ts.terminated) for ts in steps)
    assert float(steps[4].info["episode_length"]) == 5
    np.testing.assert_allclose(float(steps[4].info["episode_return"]), sum(float(ts.reward) for ts in steps[:5]), rtol=1e-5)


def test_termination_autoreset_keeps_final_observation():
    env = make_env("gymnax/CartPole-v1")
    steps = run(env, [jnp.int32(1)] * 40)  # always pushing right topples the pole
    first_done = next(i for i, ts in enumerate(steps) if ts.done)
    ts = steps[first_done]
    assert bool(ts.terminated) and not bool(ts.truncated)
    # the final observation is out of bounds; the returned obs is a fresh start near zero
    assert np.abs(np.asarray(ts.final_obs)).max() > 0.2
    assert np.abs(np.asarray(ts.obs)).max() <= 0.05
    assert int(ts.info["episode_length"]) == first_done + 1
    # before the end, final_obs is just obs
    np.testing.assert_array_equal(steps[0].final_obs, steps[0].obs)


def test_autoreset_draws_fresh_initial_states():
    env = make_env("gymnax/CartPole-v1")
    state, ts = env.reset(jax.random.PRNGKey(0))
    starts = []
    step = jax.jit(env.step)
    for _ in range(200):
        state, ts = step(state, jnp.int32(1))
        if ts.done:
            starts.append(np.asarray(ts.obs))
    assert len(starts) >= 3
    assert len({tuple(np.round(s, 6)) for s in starts}) == len(starts)


def test_gymnax_step_key_split_only_for_random_dynamics():
    cartpole, acrobot = make_env("gymnax/CartPole-v1"), make_env("gymnax/Acrobot-v1")
    assert not cartpole.unwrapped._random_steps  # deterministic physics: no key split per step
    assert acrobot.unwrapped._random_steps  # torque noise draws from the key
    for env, splits in ((cartpole.unwrapped, False), (acrobot.unwrapped, True)):
        state, _ = env.reset(jax.random.PRNGKey(0))
        after, _ = jax.jit(env.step)(state, jnp.int32(1))
        changed = not np.array_equal(jax.random.key_data(state.key), jax.random.key_data(after.key))
        assert changed == splits


def test_brax_adapter_and_backend_choice():
    env = make_env("brax/inverted_pendulum", backend="generalized", max_episode_steps=3)
    assert env.action_space.shape == (1,) and env.observation_space.shape == (4,)
    steps = run(env, [jnp.zeros(1)] * 3)
    assert bool(steps[-1].truncated) and not bool(steps[-1].terminated)
    with pytest.raises(EnvError, match="backend 'bullet' is not one of mjx, generalized, positional, spring"):
        make_env("brax/ant", backend="bullet")
