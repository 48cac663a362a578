"""The host loop and Gymnasium suite: same data as the JAX loop, learning, resume, video."""

import dataclasses
import json
import shutil

import imageio.v3 as iio
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from robojax.agents.ppo import PPO, PPOConfig
from robojax.checkpoint import list_checkpoints, read_checkpoint, restore_state
from robojax.config import CheckpointConfig
from robojax.envs import HostEnv, HostVectorEnv, make_env
from robojax.errors import ConfigError, EnvError
from robojax.loops import HostLoop, JaxLoop
from robojax.models import NetworkConfig

from conftest import assert_trees_equal, quiet
from test_loop import constant_policy


class _JaxVectorSim:
    """A Gymnasium-like vector env that steps a robojax JAX env on the host (for comparisons)."""

    def __init__(self, env, num_envs):
        self.env, self.num_envs = env, num_envs
        self._step = jax.jit(jax.vmap(env.step))

    def reset(self, seed):
        keys = jax.vmap(jax.random.PRNGKey)(jnp.arange(self.num_envs) + seed)
        self.state, ts = jax.vmap(self.env.reset)(keys)
        return jax.tree.map(np.asarray, ts.obs), {}

    def step(self, action):
        self.state, ts = self._step(self.state, jnp.asarray(action))
        info = {}
        done = np.asarray(ts.done)
        if done.any():  # per env, as Gymnasium gives it (also for dict observations)
            final = [jax.tree.map(lambda x: np.asarray(x[i]), ts.final_obs) for i in range(self.num_envs)]
            info = {"final_obs": final, "_final_obs": done}
        return jax.tree.map(np.asarray, ts.obs), np.asarray(ts.reward), np.asarray(ts.terminated), np.asarray(ts.truncated), info

    def close(self):
        pass


class JaxEnvOnHost(HostEnv):
    """Any robojax JAX env served through the host-loop interface."""

    def __init__(self, env):
        self.env = env
        self.observation_space, self.action_space = env.observation_space, env.action_space
        self.max_episode_steps = env.max_episode_steps

    def create(self, num_envs, render=False):
        return HostVectorEnv(_JaxVectorSim(self.env, num_envs))


def test_host_loop_data_matches_jax_loop():
    env = make_env("gymnax/Pendulum-v1", max_episode_steps=7)
    N, T, seed = 3, 16, 5
    host = HostLoop(JaxEnvOnHost(env), N)
    host_state = host.reset(jax.random.PRNGKey(0))
    host_state = host_state.replace(obs=jnp.asarray(host.sim.reset(seed)))
    jax_loop = JaxLoop(env, N)
    env_state, ts = jax.vmap(env.reset)(jax.vmap(jax.random.PRNGKey)(jnp.arange(N) + seed))
    jax_state = jax_loop.reset(jax.random.PRNGKey(0)).replace(env_state=env_state, obs=ts.obs)

    def noisy_policy(scale, obs, key):  # uses its key: both loops must hand out the same keys
        a = scale * jax.random.uniform(key, (obs.shape[0], 1), minval=-1.0, maxval=1.0)
        return a, a, {"zero": jnp.zeros(obs.shape[0])}

    _, h, h_key = host.rollout(host_state, noisy_policy, jnp.float32(2.0), jax.random.PRNGKey(1), T)
    _, j, j_key = jax_loop.rollout(jax_state, noisy_policy, jnp.float32(2.0), jax.random.PRNGKey(1), T)
    np.testing.assert_array_equal(jax.random.key_data(h_key), jax.random.key_data(j_key))
    assert np.unique(np.asarray(h.action)).size == T * N  # a fresh key every step and env
    for field in ("obs", "action", "reward", "terminated", "truncated", "next_obs"):
        a, b = np.asarray(getattr(h, field)), np.asarray(getattr(j, field))
        assert a.shape == b.shape and a.dtype == b.dtype, field
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5, err_msg=field)  # jit vs scan fusion
    np.testing.assert_allclose(h.extras["zero"], j.extras["zero"])
    np.testing.assert_allclose(h.info["episode_return"] * (h.truncated | h.terminated),
                               j.info["episode_return"] * (j.truncated | j.terminated), rtol=1e-5)
    np.testing.assert_array_equal(np.asarray(h.info["episode_length"])[6], 7)


def test_gymnasium_truncation_final_obs_and_seeds():
    env = make_env("gymnasium/Pendulum-v1", max_episode_steps=5)
    assert env.max_episode_steps == 5 and env.action_space.shape == (1,)
    loop = HostLoop(env, 4)
    state = loop.reset(jax.random.PRNGKey(0))
    assert len({tuple(np.round(o, 6)) for o in np.asarray(state.obs)}) == 4  # per-env seeds
    state, batch, _ = loop.rollout(state, constant_policy, jnp.zeros(1), jax.random.PRNGKey(1), 12)
    assert batch.obs.shape == (12, 4, 3) and batch.reward.shape == (12, 4)
    trunc = np.asarray(batch.truncated)
    assert trunc[4].all() and trunc[9].all() and trunc.sum() == 8 and not np.asarray(batch.terminated).any()
    obs, nxt = np.asarray(batch.obs), np.asarray(batch.next_obs)
    np.testing.assert_array_equal(nxt[:4], obs[1:5])
    assert not np.allclose(nxt[4], obs[5])  # final obs kept, obs is the reset one
    assert np.asarray(batch.info["episode_length"])[4].tolist() == [5] * 4


def test_termination_is_not_truncation():
    loop = HostLoop(make_env("gymnasium/CartPole-v1"), 2)
    state = loop.reset(jax.random.PRNGKey(0))
    _, batch, _ = loop.rollout(state, constant_policy, jnp.int32(1), jax.random.PRNGKey(1), 40)
    term = np.asarray(batch.terminated)
    assert term.any() and not np.asarray(batch.truncated).any()
    t, n = np.argwhere(term)[0]
    assert abs(float(batch.next_obs[t, n, 2])) > 0.2  # the pole fell in the final observation


def test_unknown_gymnasium_id_and_host_seed_sweeps():
    with pytest.raises(EnvError, match="unknown gymnasium env"):
        make_env("gymnasium/NoSuchEnv-v0")
    with pytest.raises(ConfigError, match="num_seeds=2: several seeds in one program need a JAX env"):
        PPO(PPOConfig(num_seeds=2), "gymnasium/CartPole-v1")


def test_ppo_learns_inverted_pendulum_on_the_host_loop_and_resumes_mid_run(tmp_path):
    ckpt = CheckpointConfig(interval=16_384, keep=5)
    config = quiet(PPOConfig(), total_steps=30_000, num_envs=4, rollout_length=64, log_interval=4096, checkpoint=ckpt)
    agent = PPO(config, "gymnasium/InvertedPendulum-v5")
    result = agent.train(run_dir=tmp_path / "full")
    assert result.summary["eval_return_mean"] > 100  # random policy: about 5-10; seeds 0-2 give 210-245
    assert result.summary["host_env_s"] > 0 and result.summary["host_policy_s"] > 0
    # a run stopped mid-way: only its config and its first checkpoint exist
    mid = list_checkpoints(tmp_path / "full" / "checkpoints")[0]
    mid_steps = int(mid.stem.split("_")[1])
    assert 0 < mid_steps < result.summary["env_steps"]
    partial = tmp_path / "partial"
    (partial / "checkpoints").mkdir(parents=True)
    shutil.copy(tmp_path / "full" / "config.yaml", partial / "config.yaml")
    shutil.copy(mid, partial / "checkpoints")
    resumed = PPO(config, "gymnasium/InvertedPendulum-v5").train(run_dir=partial, resume=True)
    # the learner and the MuJoCo simulators continued from the checkpoint: the same run, exactly
    assert_trees_equal(resumed.state, result.state)
    assert resumed.summary["eval_return_mean"] == result.summary["eval_return_mean"]
    logged = [json.loads(line)["env_steps"] for line in (partial / "metrics.jsonl").read_text().splitlines()]
    assert logged and min(logged) > mid_steps and max(logged) == result.summary["env_steps"]
    # and trained after loading: its parameters moved away from the checkpoint's
    _, raw = read_checkpoint(mid)
    saved = restore_state(raw, agent.checkpoint_view(resumed.state), mid)
    moved = [not np.array_equal(np.asarray(x), np.asarray(y))
             for x, y in zip(jax.tree.leaves(saved.params), jax.tree.leaves(resumed.state.params), strict=True)]
    assert all(moved)


def test_eval_video_is_a_playable_mp4(tmp_path):
    config = quiet(PPOConfig(), total_steps=512, num_envs=2, rollout_length=64, num_minibatches=2)
    config = dataclasses.replace(config, eval=dataclasses.replace(config.eval, episodes=2, video=True))
    result = PPO(config, make_env("gymnasium/InvertedPendulum-v5", max_episode_steps=30)).train(run_dir=tmp_path)
    frames = iio.imread(result.summary["video"])
    assert frames.ndim == 4 and frames.shape[1:] == (240, 320, 3)
    assert 2 <= frames.shape[0] <= 30 and frames.max() > 100  # the pendulum is drawn (black background)


def test_sac_improves_on_gymnasium_pendulum_through_the_host_loop(tmp_path):
    from robojax.agents.sac import SAC, SACConfig
    from robojax.config import load_yaml, split_experiment

    _, config = split_experiment(SACConfig, load_yaml("configs/sac_pendulum_fast.yaml"))
    config = quiet(config, total_steps=8000, log_interval=1000)
    result = SAC(config, "gymnasium/Pendulum-v1").train(run_dir=tmp_path)
    # seeds 0-4: -173, -149, -155, -192, -169 (benchmarks/RESULTS.md); random: about -1200 to -1500
    assert result.summary["eval_return_mean"] > -350


def test_host_chunk_fusion_matches_collect_then_update():
    """The host chunk's fused 'update + next action' call gives the plain collect/update result,
    wherever the chunks end (one chunk of 10 train steps, or chunks of 4 and 6)."""
    from robojax.agents.sac import SAC, SACConfig
    from robojax.host_runner import HostChunk

    config = SACConfig(num_envs=2, num_seed_steps=4, batch_size=8, buffer_size=64, network=NetworkConfig(hidden_sizes=(16,)))
    states, params = [], []
    agent = SAC(config, "gymnasium/Pendulum-v1")  # init resets its simulators: every variant starts alike
    chunk = HostChunk(agent)
    for chunks in ((10,), (4, 6), None):
        state = agent.init(jax.random.PRNGKey(3))
        if chunks:
            state = jax.tree.map(lambda x: x[None], state)
            for n in chunks:
                state = chunk(state, n)[0]
            state = jax.tree.map(lambda x: x[0], state)
        else:
            update = jax.jit(agent.update)
            for _ in range(10):
                state, _ = update(*agent.collect(state))
        states.append(state)
        params.append(state.params)
    for other in (1, 2):
        assert_trees_equal(params[0], params[other])
        assert_trees_equal(states[0].buffer, states[other].buffer)
        assert_trees_equal(states[0].key, states[other].key)
