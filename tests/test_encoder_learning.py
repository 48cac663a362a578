"""Short PPO learning tests of the pointnet and transformer encoders (sized for CI)."""

import jax
import jax.numpy as jnp
import numpy as np

from robojax import PPO, PPOConfig
from robojax.config import EvalConfig
from robojax.encoders.pointnet import PointNetConfig
from robojax.encoders.transformer import TransformerConfig
from robojax.envs import Box, Discrete, Env, make_env
from robojax.envs.core import TimeStep, first_timestep
from robojax.envs.wrappers import AutoReset, EpisodeStatistics
from robojax.models import NetworkConfig

from conftest import quiet

POINTS, PADDING = 12, 4


class WhichSide(Env):
    """One-step episodes: a cloud of points lies left or right of the origin; say which side.

    The cloud has xyzw points; the padding points (w = 0) lie on the other side, so a policy that
    looked at them would be misled.
    """

    observation_space = Box.create(-np.inf, np.inf, (POINTS + PADDING, 4))
    action_space = Discrete(2)
    max_episode_steps = 1

    def reset(self, key):
        k_side, k_pts, k_pad = jax.random.split(key, 3)
        side = jax.random.bernoulli(k_side).astype(jnp.int32)
        sign = 2.0 * side - 1.0
        pts = jax.random.normal(k_pts, (POINTS, 3)) * 0.3 + jnp.array([1.0, 0.0, 0.0]) * sign
        pad = jax.random.normal(k_pad, (PADDING, 3)) * 0.3 - jnp.array([3.0, 0.0, 0.0]) * sign
        obs = jnp.concatenate([jnp.concatenate([pts, pad]), (jnp.arange(POINTS + PADDING) < POINTS)[:, None]], -1)
        return side, first_timestep(obs.astype(jnp.float32))

    def step(self, side, action):
        reward = jnp.where(action == side, 1.0, 0.0)
        _, ts = self.reset(jax.random.PRNGKey(0))  # the next obs is replaced by the auto-reset
        return side, TimeStep(ts.obs, reward, jnp.ones((), bool), jnp.zeros((), bool), ts.obs)


def test_ppo_pointnet_learns_which_side_the_valid_points_are(tmp_path):
    network = NetworkConfig(encoder="pointnet", hidden_sizes=(16,), pointnet=PointNetConfig((16, 16), validity_channel=3))
    config = quiet(PPOConfig(total_steps=6_000, num_envs=16, rollout_length=8, num_minibatches=2,
                             learning_rate=3e-3, network=network), log_interval=6_000)
    result = PPO(config, AutoReset(EpisodeStatistics(WhichSide()))).train(run_dir=tmp_path)
    assert result.summary["eval_return_mean"] >= 0.95


def test_ppo_transformer_over_a_history_solves_memory_chain(tmp_path):
    """MemoryChain shows the context bit only at the start and asks for it 5 steps later."""
    network = NetworkConfig(
        encoder="transformer", hidden_sizes=(32,),
        transformer=TransformerConfig(tokens="history", width=16, heads=2, depth=1, validity_channel=-1),
    )
    config = quiet(PPOConfig(total_steps=60_000, num_envs=32, rollout_length=16, num_minibatches=4,
                             learning_rate=3e-3, network=network), log_interval=60_000,
                   eval=EvalConfig(interval=0, episodes=32))
    env = make_env("gymnax/MemoryChain-bsuite", history=6)
    result = PPO(config, env).train(run_dir=tmp_path)
    assert result.summary["eval_return_mean"] >= 0.9
