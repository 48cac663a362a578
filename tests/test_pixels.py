"""Image and dict observations end to end: spaces, loops, replay, checkpoints, encoders,
frame stacking, random shift, the JAX-rendered pixel tasks, and pixel agents."""

import json
import shutil

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from robojax import PPO, SAC, PPOConfig, SACConfig
from robojax.augment import make_augmentation, random_shift
from robojax.checkpoint import list_checkpoints, read_checkpoint
from robojax.config import CheckpointConfig, load_yaml, split_experiment
from robojax.encoders.cnn import CNN, CNNConfig
from robojax.envs import Box, Dict, make_env
from robojax.envs.frame_stack import FrameStackVectorEnv
from robojax.errors import ConfigError
from robojax.loops import HostLoop, JaxLoop
from robojax.models import NetworkConfig, make_encoder
from robojax.normalization import create_obs_stats, normalize_obs, update_obs_stats
from robojax.replay import ReplayBuffer

from conftest import assert_trees_equal, quiet
from test_host_loop import JaxEnvOnHost

TINY_CNN = CNNConfig(channels=(4,), kernels=(3,), strides=(2,), features=16)
DICT_ENV = {"observation": "pixels_state", "size": 16, "max_episode_steps": 7}


def random_policy(scale, obs, key):
    n = jax.tree.leaves(obs)[0].shape[0]
    a = scale * jax.random.uniform(key, (n, 2), minval=-1.0, maxval=1.0)
    return a, a, {}


# -- observations through the loops -----------------------------------------------------------


def test_dict_observations_same_data_from_both_loops():
    env = make_env("pixels/PointMass", **DICT_ENV)
    N, T, seed = 2, 9, 5
    host = HostLoop(JaxEnvOnHost(env), N)
    host_state = host.reset(jax.random.PRNGKey(0)).replace(obs=host.sim.reset(seed))
    jax_loop = JaxLoop(env, N)
    env_state, ts = jax.vmap(env.reset)(jax.vmap(jax.random.PRNGKey)(jnp.arange(N) + seed))
    jax_state = jax_loop.reset(jax.random.PRNGKey(0)).replace(env_state=env_state, obs=ts.obs)

    _, h, _ = host.rollout(host_state, random_policy, jnp.float32(1.0), jax.random.PRNGKey(1), T)
    _, j, _ = jax_loop.rollout(jax_state, random_policy, jnp.float32(1.0), jax.random.PRNGKey(1), T)
    for field in ("obs", "next_obs"):
        hv, jv = getattr(h, field), getattr(j, field)
        assert set(hv) == {"pixels", "state"} and hv["pixels"].dtype == np.uint8 == jv["pixels"].dtype
        assert hv["pixels"].shape == (T, N, 16, 16, 3) and hv["state"].shape == (T, N, 2)
        np.testing.assert_array_equal(hv["pixels"], np.asarray(jv["pixels"]))
        np.testing.assert_allclose(hv["state"], np.asarray(jv["state"]), atol=1e-6)
    # Truncation after 7 steps: next_obs keeps the final frame, obs the new episode's first.
    assert np.asarray(j.truncated)[6].all()
    assert not np.array_equal(np.asarray(j.next_obs["pixels"][6]), np.asarray(j.obs["pixels"][7]))
    np.testing.assert_array_equal(np.asarray(j.next_obs["pixels"][5]), np.asarray(j.obs["pixels"][6]))


def test_rendered_image_follows_the_state():
    env = make_env("pixels/PointMass", observation="pixels_state", size=32)
    _, ts = env.reset(jax.random.PRNGKey(3))
    image, (x, y) = np.asarray(ts.obs["pixels"]), np.asarray(ts.obs["state"])
    red = image[..., 0].astype(float)
    rows, cols = np.nonzero(red > 128)
    # The disc's centre in pixels matches the position (x right, y up, [-1, 1] -> [0, 32]).
    assert abs(cols.mean() + 0.5 - (x + 1) * 16) < 1.0 and abs(rows.mean() + 0.5 - (1 - y) * 16) < 1.0


def test_replay_buffer_keeps_uint8_dict_observations():
    obs = {"pixels": jnp.zeros((8, 8, 3), jnp.uint8), "state": jnp.zeros(2)}
    buf = ReplayBuffer.create({"obs": obs, "reward": jnp.float32(0)}, capacity=5)
    assert buf.data["obs"]["pixels"].dtype == jnp.uint8 and buf.data["obs"]["pixels"].shape == (5, 8, 8, 3)
    items = {"obs": {"pixels": jnp.arange(3 * 192, dtype=jnp.uint8).reshape(3, 8, 8, 3), "state": jnp.ones((3, 2))},
             "reward": jnp.arange(3.0)}
    buf = buf.add(items).add(items)
    assert int(buf.size) == 5 and int(buf.index) == 1
    sample = buf.sample(jax.random.PRNGKey(0), 64)
    assert sample["obs"]["pixels"].dtype == jnp.uint8
    # Each sampled image is the one stored with its reward.
    np.testing.assert_array_equal(sample["obs"]["pixels"], items["obs"]["pixels"][sample["reward"].astype(int)])


def test_normaliser_skips_images():
    space = Dict({"pixels": Box.create(0, 255, (4, 4, 1), np.uint8), "state": Box.create(-1, 1, (2,))})
    stats = create_obs_stats(space)
    assert set(stats) == {"state"}
    batch = {"pixels": jnp.full((10, 4, 4, 1), 200, jnp.uint8), "state": 5.0 + jnp.arange(20.0).reshape(10, 2)}
    stats = update_obs_stats(stats, batch)
    out = normalize_obs(stats, batch)
    assert out["pixels"].dtype == jnp.uint8 and (out["pixels"] == 200).all()
    assert abs(float(out["state"].mean())) < 1e-3
    assert create_obs_stats(Box.create(0, 255, (4, 4, 1), np.uint8)) == {}


# -- frame stacking ----------------------------------------------------------------------------


def test_frame_stack_jax_env():
    env = make_env("pixels/PointMass", size=16, frame_stack=3, max_episode_steps=4)
    assert env.observation_space.shape == (16, 16, 9) and env.observation_space.dtype == np.uint8
    state, ts = env.reset(jax.random.PRNGKey(0))
    first = np.asarray(ts.obs)
    np.testing.assert_array_equal(first[..., :3], first[..., 6:])  # copies of the first frame
    step = jax.jit(env.step)
    frames = [first[..., 6:]]
    for t in range(4):
        state, ts = step(state, jnp.ones(2))
        final = np.asarray(ts.final_obs)
        np.testing.assert_array_equal(final[..., :6], np.concatenate(frames[-2:], -1) if t else first[..., 3:])
        frames.append(final[..., 6:])
    assert bool(ts.truncated)
    obs = np.asarray(ts.obs)  # auto-reset: a fresh stack of the new episode's first frame
    np.testing.assert_array_equal(obs[..., :3], obs[..., 3:6])
    assert not np.array_equal(obs, final)


def test_frame_stack_host_env_matches_jax_env():
    env = make_env("pixels/PointMass", **DICT_ENV)
    stacked = make_env("pixels/PointMass", **DICT_ENV, frame_stack=2)
    assert stacked.observation_space.shape == {"pixels": (16, 16, 6), "state": (4,)}
    sim = FrameStackVectorEnv(JaxEnvOnHost(env).create(2), 2)
    jax_sim = JaxEnvOnHost(stacked).create(2)
    assert_trees_equal(sim.reset(0), jax_sim.reset(0))
    for t in range(9):
        a = np.full((2, 2), 0.5 if t % 2 else -0.5, np.float32)
        h, j = sim.step(a), jax_sim.step(a)
        assert bool(h.truncated.all()) == (t == 6)
        assert_trees_equal(h.obs, j.obs)
        assert_trees_equal(h.final_obs, j.final_obs)


def test_frame_stack_zero_is_refused():
    with pytest.raises(ConfigError, match="env.kwargs.frame_stack=0"):
        make_env("pixels/PointMass", frame_stack=0)
    with pytest.raises(ConfigError, match="env.kwargs.frame_stack=0"):
        PPO(PPOConfig(), _env_config(frame_stack=0))


def _env_config(**kwargs):
    from robojax.config import EnvConfig

    return EnvConfig(id="pixels/PointMass", kwargs=kwargs)


# -- random shift ------------------------------------------------------------------------------


def test_random_shift_properties():
    key = jax.random.PRNGKey(0)
    images = jax.random.randint(key, (32, 12, 12, 3), 0, 256).astype(jnp.uint8)
    assert_trees_equal(random_shift(key, images, 0), images)
    shifted = jax.jit(random_shift, static_argnums=2)(key, images, 4)
    assert shifted.dtype == jnp.uint8 and shifted.shape == images.shape
    # Per sample: some images move, by different offsets; each is a window of the edge-padded image.
    padded = np.pad(np.asarray(images), ((0, 0), (4, 4), (4, 4), (0, 0)), mode="edge")
    offsets = []
    for i in range(32):
        found = [(dy, dx) for dy in range(9) for dx in range(9)
                 if np.array_equal(padded[i, dy : dy + 12, dx : dx + 12], np.asarray(shifted[i]))]
        assert found, i
        offsets.append(found[0])
    assert len(set(offsets)) > 12
    # Obs and next obs get independent shifts (different keys from one split).
    augment = make_augmentation("shift", 4, Dict({"pixels": Box.create(0, 255, (12, 12, 3), np.uint8),
                                                   "state": Box.create(-1, 1, (2,))}))
    k1, k2 = jax.random.split(key)
    obs = {"pixels": images, "state": jnp.ones((32, 2))}
    a, b = augment(k1, obs), augment(k2, obs)
    assert not np.array_equal(np.asarray(a["pixels"]), np.asarray(b["pixels"]))
    assert_trees_equal(a["state"], obs["state"])


# -- encoders ----------------------------------------------------------------------------------


@pytest.mark.parametrize("shape, kernel, stride, padding", [
    ((10, 10, 4), 3, 1, "VALID"), ((84, 84, 9), 3, 2, "VALID"), ((11, 9, 3), 3, 2, "SAME"), ((8, 8, 2), 4, 3, "SAME")])
def test_conv_matches_flax_conv(shape, kernel, stride, padding):
    """The CNN's convolution (window gather + matmul on CPU) computes what ``nn.Conv`` computes
    with the same parameters, values and gradients."""
    import flax.linen as nn

    from robojax.encoders.cnn import Conv2D

    x = jax.random.normal(jax.random.PRNGKey(0), (3, *shape))
    ours = Conv2D(5, kernel, stride, padding, nn.initializers.lecun_normal())
    flax_conv = nn.Conv(5, (kernel, kernel), (stride, stride), padding=padding)
    params = ours.init(jax.random.PRNGKey(1), x)
    params = {"params": {**params["params"], "bias": params["params"]["bias"] + 0.1}}
    np.testing.assert_allclose(ours.apply(params, x), flax_conv.apply(params, x), atol=1e-5)
    grad = [jax.grad(lambda p, m=m: jnp.sum(jnp.sin(m.apply(p, x))))(params) for m in (ours, flax_conv)]
    for a, b in zip(jax.tree.leaves(grad[0]), jax.tree.leaves(grad[1])):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)  # float32 sums over up to 84x84 pixels


@pytest.mark.parametrize("preset,features", [("minatar", 128), ("drq", 50)])
def test_cnn_presets_shapes_and_dtypes(preset, features):
    space = Box.create(0, 255, (84, 84, 9), np.uint8) if preset == "drq" else Box.create(0, 1, (10, 10, 4))
    net = make_encoder(NetworkConfig(encoder="cnn", hidden_sizes=(), cnn=CNNConfig(preset=preset)), space, "actor")
    x = jnp.zeros(space.shape, space.dtype)
    params = net.init(jax.random.PRNGKey(0), x)
    convs = [k for k in jax.tree_util.tree_flatten_with_path(params)[0] if "Conv" in jax.tree_util.keystr(k[0])]
    assert len(convs) == 2 * (4 if preset == "drq" else 1)  # kernel + bias per conv
    assert net.apply(params, x).shape == (features,)
    batch = jnp.zeros((2, 1, *space.shape), space.dtype)
    out = net.apply(params, batch)
    assert out.shape == (2, 1, features) and out.dtype == jnp.float32
    if preset == "drq":
        assert float(jnp.abs(out).max()) <= 1.0  # LayerNorm + tanh


def test_cnn_scales_uint8_to_unit_range():
    net = CNN(CNNConfig(channels=(2,), kernels=(1,), strides=(1,), features=0))
    params = net.init(jax.random.PRNGKey(0), jnp.zeros((1, 3, 3, 1), jnp.uint8))
    as_bytes = net.apply(params, jnp.full((1, 3, 3, 1), 255, jnp.uint8))
    as_float = net.apply(params, jnp.ones((1, 3, 3, 1), jnp.float32))
    np.testing.assert_allclose(as_bytes, as_float, rtol=1e-6)


def test_multi_input_asymmetric_parts():
    space = Dict({"pixels": Box.create(0, 255, (16, 16, 3), np.uint8), "state": Box.create(-1, 1, (2,)),
                  "privileged": Box.create(-1, 1, (5,))})
    cfg = NetworkConfig(encoder="multi", hidden_sizes=(), cnn=TINY_CNN, actor_parts=("pixels", "state"),
                        critic_parts=("pixels", "state", "privileged"))
    obs = {k: jnp.zeros((4, *s.shape), s.dtype) for k, s in space.spaces.items()}
    actor, critic = make_encoder(cfg, space, "actor"), make_encoder(cfg, space, "critic")
    assert actor.apply(actor.init(jax.random.PRNGKey(0), obs), obs).shape == (4, 16 + 2)
    assert critic.apply(critic.init(jax.random.PRNGKey(0), obs), obs).shape == (4, 16 + 2 + 5)


@pytest.mark.parametrize(
    "network,env_kwargs,match",
    [
        ({"encoder": "cnn"}, {"observation": "state"}, r"network.encoder=cnn needs image observations .* shape \(2,\)"),
        ({"encoder": "cnn"}, {"observation": "pixels_state"}, "network.encoder=cnn needs one image observation"),
        ({"encoder": "multi", "critic_parts": ["pixels", "privileged"]}, {"observation": "pixels_state"},
         "network.critic_parts names 'privileged'"),
        ({"encoder": "multi"}, {"observation": "pixels"}, "network.encoder=multi needs a dict observation"),
        ({"encoder": "cnn", "cnn": {"channels": [4, 4, 4], "kernels": [5, 5, 5], "strides": [2, 2, 2]}},
         {"observation": "pixels", "size": 16}, "network.cnn: the conv stack"),
    ],
)
@pytest.mark.parametrize("agent_cls", [PPO, SAC])
def test_bad_encoder_input_is_a_config_error_before_compiling(agent_cls, network, env_kwargs, match, monkeypatch):
    from robojax.config import from_dict

    compiled = []
    monkeypatch.setattr(jax, "jit", lambda *a, **k: compiled.append(a) or (lambda *x, **y: None))
    config = from_dict(agent_cls.config_cls, {"network": network})
    with pytest.raises(ConfigError, match=match):
        agent_cls(config, _env_config(**{"size": 16, **env_kwargs}))
    assert not compiled


def _pixel_config(cls, **overrides):
    network = NetworkConfig(encoder="multi", hidden_sizes=(32,), activation="relu", cnn=TINY_CNN,
                            **overrides.pop("network", {}))
    return quiet(cls.config_cls(), network=network, **overrides)


@pytest.mark.parametrize("cls,extra", [(PPO, {"rollout_length": 4, "num_envs": 2, "num_minibatches": 2}),
                                       (SAC, {"num_envs": 2, "num_seed_steps": 0, "batch_size": 4, "buffer_size": 16,
                                              "augmentation": "shift", "network": {"share_encoder": True}})])
def test_encoder_chosen_by_config_reaches_ppo_and_sac(cls, extra):
    """A cnn/multi encoder named in the config trains PPO and SAC on dict observations with uint8 images."""
    agent = cls(_pixel_config(cls, **extra), _env_config(**DICT_ENV))
    state = agent.init(jax.random.PRNGKey(0))
    names = [jax.tree_util.keystr(p) for p, _ in jax.tree_util.tree_flatten_with_path(state.params)[0]]
    assert any("Conv" in n for n in names), "the cnn encoder is in the parameters"
    new, metrics = jax.jit(agent.train_step)(state)
    assert new.loop.obs["pixels"].dtype == jnp.uint8
    assert all(np.isfinite(float(v)) for k, v in metrics.items() if not k.startswith("episode"))
    changed = jax.tree_util.tree_map(lambda a, b: bool((a != b).any()), state.params, new.params)
    assert any(jax.tree_util.tree_leaves(changed))
    if cls is SAC:  # uint8 in the buffer; the actor has no encoder of its own (it uses the critic's)
        assert new.buffer.data["obs"]["pixels"].dtype == jnp.uint8
        assert not any("Conv" in n and "actor" in n for n in names)


def test_pixel_sac_checkpoint_round_trip_and_exact_resume(tmp_path):
    """Checkpoints hold the uint8 images of the loop state and replay buffer; resuming from one
    ends bit-identical to the uninterrupted run."""
    extra = {"num_envs": 2, "num_seed_steps": 8, "batch_size": 8, "buffer_size": 64, "augmentation": "shift",
             "network": {"share_encoder": True}}
    config = _pixel_config(SAC, total_steps=48, **extra, checkpoint=CheckpointConfig(interval=24, keep=5),
                           log_interval=24)
    env = _env_config(**DICT_ENV)
    full = SAC(config, env).train(run_dir=tmp_path / "a")
    mid = [p for p in list_checkpoints(tmp_path / "a" / "checkpoints") if p.name.endswith("000000000024.ckpt")]
    _, raw = read_checkpoint(mid[0])
    images = {k: np.asarray(v) for k, v in raw.items() if "pixels" in k}
    assert images and all(v.dtype == np.uint8 for v in images.values())
    assert any("buffer" in k and v.any() for k, v in images.items())  # real frames, not zeros
    (tmp_path / "b" / "checkpoints").mkdir(parents=True)
    shutil.copy(mid[0], tmp_path / "b" / "checkpoints" / mid[0].name)
    shutil.copy(tmp_path / "a" / "config.yaml", tmp_path / "b" / "config.yaml")
    resumed = SAC(config, env).train(run_dir=tmp_path / "b", resume=True)
    assert_trees_equal(resumed.state, full.state)


def test_gymnasium_pixel_observations():
    env = make_env("gymnasium/InvertedPendulum-v5", pixels=16, pixels_state=True, frame_stack=2)
    assert env.observation_space.shape == {"pixels": (16, 16, 6), "state": (8,)}
    assert env.observation_space.spaces["pixels"].dtype == np.uint8
    sim = env.create(2)
    try:
        obs = sim.reset(0)
        assert obs["pixels"].dtype == np.uint8 and obs["pixels"].shape == (2, 16, 16, 6) and obs["pixels"].any()
        step = sim.step(np.zeros((2, 1), np.float32))
        assert step.obs["state"].dtype == np.float32 and step.obs["state"].shape == (2, 8)
    finally:
        sim.close()
    with pytest.raises(ConfigError, match="env.kwargs.pixels_state=true needs env.kwargs.pixels"):
        make_env("gymnasium/InvertedPendulum-v5", pixels_state=True)


@pytest.mark.slow
def test_ppo_learns_from_pixels(tmp_path):
    """PPO with a CNN on 16x16 RGB pixels/PointMass: the untrained greedy policy stays put
    (return about -25); after 20k steps it moves to the centre."""
    env, preset = split_experiment(PPOConfig, load_yaml("configs/ppo_pixels_pointmass.yaml"))
    config = quiet(preset, total_steps=20_480, log_interval=5_120)
    result = PPO(config, env).train(run_dir=tmp_path)
    lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
    first = json.loads(lines[0])["train/episode_return"]
    assert first < -12, first
    assert result.summary["eval_return_mean"] > -10, result.summary
