"""PointNet and transformer encoders: invariances, masking, gradients and config errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from robojax import PPO, PPOConfig
from robojax.config import from_dict, parse_overrides
from robojax.encoders.pointnet import PointNetConfig
from robojax.encoders.transformer import TransformerConfig
from robojax.envs.spaces import Box
from robojax.errors import ConfigError
from robojax.models import NetworkConfig, make_encoder


class Jitted:
    """An encoder whose ``apply`` is jitted (one compile per input shape instead of op by op)."""

    def __init__(self, module):
        self.apply = jax.jit(module.apply)


def build(encoder, x, hidden_sizes=(32,), **sub):
    cfg = NetworkConfig(encoder=encoder, hidden_sizes=hidden_sizes, **sub)
    module = make_encoder(cfg, Box.create(-np.inf, np.inf, x.shape))
    return Jitted(module), jax.jit(module.init)(jax.random.PRNGKey(0), x)


def cloud(key, n=24, channels=3):
    """Points with a validity 4th channel (xyzw): the last 6 are padding."""
    pts = jax.random.normal(key, (n, channels))
    valid = jnp.arange(n) < n - 6
    return jnp.concatenate([pts, valid[:, None].astype(jnp.float32)], -1)


def test_pointnet_is_invariant_to_point_order_and_padding():
    x = cloud(jax.random.PRNGKey(1))
    net, params = build("pointnet", x, pointnet=PointNetConfig(point_sizes=(16, 32), validity_channel=3))
    out = net.apply(params, x)
    perm = jax.random.permutation(jax.random.PRNGKey(2), x.shape[0])
    np.testing.assert_allclose(net.apply(params, x[perm]), out, atol=1e-5)
    # Padding points with any content, and more of them, change nothing.
    junk = jnp.concatenate([100 * jax.random.normal(jax.random.PRNGKey(3), (10, 3)), jnp.zeros((10, 1))], -1)
    np.testing.assert_allclose(net.apply(params, jnp.concatenate([x, junk])), out, atol=1e-5)
    np.testing.assert_allclose(net.apply(params, x.at[-6:, :3].set(50.0)), out, atol=1e-5)
    # A batch gives the same as single clouds; the separate mask argument acts like the channel.
    np.testing.assert_allclose(net.apply(params, jnp.stack([x, x[perm]]))[1], out, atol=1e-5)
    net2, params2 = build("pointnet", x[:, :3], pointnet=PointNetConfig(point_sizes=(16, 32)))
    np.testing.assert_allclose(
        net2.apply(params2, x[:, :3], mask=x[:, 3] > 0), net2.apply(params2, x[:-6, :3]), atol=1e-5
    )


def test_pointnet_gradient_reaches_only_valid_points():
    x = cloud(jax.random.PRNGKey(4))
    net, params = build("pointnet", x, pointnet=PointNetConfig(point_sizes=(16, 32), validity_channel=3))
    grad = jax.jit(jax.grad(lambda p: net.apply(params, p).sum()))(x)
    assert np.all(np.asarray(grad[-6:]) == 0.0)
    assert np.abs(np.asarray(grad[:-6, :3])).sum(-1).min() >= 0.0 and np.abs(np.asarray(grad[:-6, :3])).sum() > 0
    # No valid point at all: a finite (zero-pooled) output, no NaN.
    assert np.all(np.isfinite(net.apply(params, x.at[:, 3].set(0.0))))


def test_pointnet_centroid_makes_it_translation_invariant():
    x = cloud(jax.random.PRNGKey(5))
    net, params = build("pointnet", x, pointnet=PointNetConfig(point_sizes=(16,), validity_channel=3, center="centroid"))
    shifted = x.at[:, :3].add(jnp.array([3.0, -2.0, 1.0]))
    np.testing.assert_allclose(net.apply(params, shifted), net.apply(params, x), atol=1e-4)


def tokens(key, n=7, d=5):
    x = jax.random.normal(key, (n, d))
    return jnp.concatenate([x, (jnp.arange(n) >= 2)[:, None].astype(jnp.float32)], -1)  # first 2 padding


@pytest.mark.parametrize("pool", ["cls", "mean"])
def test_transformer_set_tokens_are_order_free_and_masked_tokens_change_nothing(pool):
    x = tokens(jax.random.PRNGKey(6))
    cfg = TransformerConfig(tokens="set", width=16, heads=2, depth=2, pool=pool, validity_channel=-1)
    net, params = build("transformer", x, transformer=cfg)
    out = net.apply(params, x)
    perm = jax.random.permutation(jax.random.PRNGKey(7), x.shape[0])
    np.testing.assert_allclose(net.apply(params, x[perm]), out, atol=1e-5)
    np.testing.assert_allclose(net.apply(params, x.at[:2, :-1].set(9.0)), out, atol=1e-5)
    np.testing.assert_allclose(net.apply(params, x[2:]), out, atol=1e-5)  # padding removed
    np.testing.assert_allclose(net.apply(params, jnp.stack([x, x]))[0], out, atol=1e-5)


def test_transformer_history_tokens_see_time_order():
    x = tokens(jax.random.PRNGKey(8))
    cfg = TransformerConfig(tokens="history", width=16, heads=2, validity_channel=-1)
    net, params = build("transformer", x, transformer=cfg)
    out = net.apply(params, x)
    np.testing.assert_allclose(net.apply(params, x.at[:2, :-1].set(9.0)), out, atol=1e-5)  # padding ignored
    assert np.abs(np.asarray(net.apply(params, x.at[2:].set(x[2:][::-1])) - out)).max() > 1e-3


def test_transformer_grid_tokens_with_patches():
    x = jax.random.uniform(jax.random.PRNGKey(9), (10, 10, 4))
    cfg = TransformerConfig(tokens="grid", width=16, heads=4, patch_size=2)
    net, params = build("transformer", x, transformer=cfg)
    assert params["params"]["layers_0"]["row_embed"].shape == (5, 1, 16)  # the encoder (before the trunk): 5 x 5 patches
    assert net.apply(params, jnp.stack([x, x])).shape == (2, 32)
    # 2-D positions: moving a cell changes the output.
    moved = x.at[0, 0].set(x[9, 9]).at[9, 9].set(x[0, 0])
    assert np.abs(np.asarray(net.apply(params, moved) - net.apply(params, x))).max() > 1e-4


@pytest.mark.parametrize("patch, kernel", [(1, 3), (2, 4)])
def test_transformer_conv_token_embedding_sees_the_neighbouring_cells(patch, kernel):
    x = jax.random.uniform(jax.random.PRNGKey(11), (10, 10, 4))
    cfg = TransformerConfig(tokens="grid", width=16, heads=2, depth=1, patch_size=patch, embed_kernel=kernel, pool="flatten")
    net, params = build("transformer", x, hidden_sizes=(), transformer=cfg)
    encoder = params["params"]["layers_0"]
    assert encoder["Conv2D_0"]["kernel"].shape == (kernel, kernel, 4, 16)
    assert encoder["row_embed"].shape == (10 // patch, 1, 16)
    # Token 0's embedding alone (attention and MLP zeroed: each block is then the identity):
    # a cell just outside its patch, in its k x k window, changes it; the linear embedding would not.
    quiet = jax.tree_util.tree_map_with_path(
        lambda path, v: jnp.zeros_like(v) if "Block" in jax.tree_util.keystr(path) and "LayerNorm" not in
        jax.tree_util.keystr(path) else v, params)
    token0 = lambda obs: np.asarray(net.apply(quiet, obs)).reshape(-1, 16)[0]
    assert np.abs(token0(x.at[patch, patch].add(1.0)) - token0(x)).max() > 1e-4
    assert np.abs(token0(x.at[patch + kernel, patch + kernel].add(1.0)) - token0(x)).max() == 0.0  # outside the window


def test_transformer_flatten_pool_keeps_positions_and_zeroes_padding():
    x = tokens(jax.random.PRNGKey(10))
    cfg = TransformerConfig(tokens="set", width=16, heads=2, pool="flatten", validity_channel=-1)
    net, params = build("transformer", x, transformer=cfg, hidden_sizes=())
    out = np.asarray(net.apply(params, x)).reshape(x.shape[0], 16)
    np.testing.assert_array_equal(out[:2], 0.0)  # the two padding tokens
    assert np.abs(out[2:]).min(axis=1).max() > 0
    np.testing.assert_allclose(net.apply(params, x.at[:2, :-1].set(9.0)), out.reshape(-1), atol=1e-5)
    # Order matters: swapping two valid tokens swaps their slots.
    swapped = np.asarray(net.apply(params, x.at[2].set(x[3]).at[3].set(x[2]))).reshape(x.shape[0], 16)
    np.testing.assert_allclose(swapped[[3, 2]], out[[2, 3]], atol=1e-5)


@pytest.mark.parametrize(
    "overrides, message",
    [
        (["network.transformer.heads=3"], "network.transformer.heads=3 must divide network.transformer.width=64"),
        (["network.transformer.tokens=seq"], "network.transformer.tokens='seq'"),
        (["network.transformer.embed_kernel=0", "network.transformer.tokens=grid"],
         "network.transformer.embed_kernel=0: must be >= 1"),
        (["network.transformer.embed_kernel=3"], "network.transformer.embed_kernel=3 applies to tokens='grid' only"),
        (["network.pointnet.center=origin"], "network.pointnet.center='origin'"),
        (["network.pointnet.point_sizes=[]"], "network.pointnet.point_sizes=()"),
    ],
)
def test_bad_encoder_settings_are_config_errors(overrides, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        from_dict(PPOConfig, parse_overrides(overrides))


@pytest.mark.parametrize(
    "encoder, message",
    [("pointnet", r"network.encoder=pointnet needs observations of shape \(N, C\) .*has shape \(4,\)"),
     ("transformer", r"network.transformer.tokens='set' needs observations of shape \(L, D\)")],
)
def test_encoder_on_a_flat_observation_is_a_config_error(encoder, message):
    with pytest.raises(ConfigError, match=message):  # when the agent is built, before anything compiles
        PPO(PPOConfig(num_envs=2, network=NetworkConfig(encoder=encoder)), "gymnax/CartPole-v1")


def test_multi_gives_each_named_part_its_own_encoder():
    """A point cloud next to a state vector: ``multi.parts`` sends the cloud to pointnet, the rest by rank."""
    from robojax.encoders.multi import MultiInputConfig
    from robojax.envs.spaces import Dict

    space = Dict({"points": Box.create(-np.inf, np.inf, (24, 4)), "state": Box.create(-1, 1, (3,))})
    cfg = NetworkConfig(encoder="multi", hidden_sizes=(), pointnet=PointNetConfig((8,), validity_channel=3),
                        multi=MultiInputConfig(parts={"points": "pointnet"}))
    module = make_encoder(cfg, space)
    obs = {"points": cloud(jax.random.PRNGKey(1)), "state": jnp.arange(3.0)}
    params = module.init(jax.random.PRNGKey(0), obs)
    out = module.apply(params, obs)
    assert out.shape == (8 + 3,)  # pooled point features, then the state as it is
    np.testing.assert_allclose(out[8:], obs["state"])
    shuffled = {**obs, "points": obs["points"][jax.random.permutation(jax.random.PRNGKey(2), 24)]}
    np.testing.assert_allclose(module.apply(params, shuffled), out, atol=1e-5)


@pytest.mark.parametrize(
    "parts, message",
    [({"cloud": "pointnet"}, r"network.multi.parts names 'cloud', .* its parts are \['points', 'state'\]"),
     ({"state": "pointnet"}, r"network.multi.parts.state='pointnet' for the part 'state' of shape \(4,\): "
                             r"network.encoder=pointnet needs observations of shape \(N, C\)"),
     ({"points": "vit"}, r"network.multi.parts.points='vit': allowed values are")],
)
def test_bad_multi_parts_are_config_errors_naming_the_part(parts, message):
    from robojax.config import EnvConfig

    network = from_dict(NetworkConfig, {"encoder": "multi", "multi": {"parts": parts}})
    env = EnvConfig("brax/inverted_pendulum", {"backend": "generalized", "pointcloud": {"num_points": 8, "state": True}})
    with pytest.raises(ConfigError, match=message):
        PPO(PPOConfig(num_envs=2, network=network), env)


def test_multi_parts_may_name_a_part_only_the_critic_sees():
    from robojax.envs.spaces import Dict

    space = Dict({"points": Box.create(-np.inf, np.inf, (8, 4)), "state": Box.create(-1, 1, (3,))})
    cfg = from_dict(NetworkConfig, {"encoder": "multi", "hidden_sizes": [], "actor_parts": ["state"],
                                    "critic_parts": ["points", "state"], "multi": {"parts": {"points": "pointnet"}}})
    obs = {k: jnp.zeros(s.shape) for k, s in space.spaces.items()}
    for role, size in (("actor", 3), ("critic", 128 + 3)):
        module = make_encoder(cfg, space, role)
        assert module.apply(module.init(jax.random.PRNGKey(0), obs), obs).shape == (size,)


def test_ppo_trains_on_a_point_cloud_next_to_the_state():
    from robojax.config import EnvConfig

    network = from_dict(NetworkConfig, {"encoder": "multi", "hidden_sizes": [16], "pointnet": {"point_sizes": [8]},
                                        "multi": {"parts": {"points": "pointnet"}}})
    env = EnvConfig("brax/inverted_pendulum", {"backend": "generalized", "pointcloud": {"num_points": 8, "state": True}})
    agent = PPO(PPOConfig(num_envs=2, rollout_length=4, num_minibatches=2, normalize_obs=True, network=network), env)
    assert agent.env.observation_space.shape == {"points": (8, 7), "state": (4,)}
    state = agent.init(jax.random.PRNGKey(0))
    new, metrics = jax.jit(agent.train_step)(state)
    assert all(np.isfinite(float(v)) for k, v in metrics.items() if not k.startswith("episode"))
    changed = jax.tree.map(lambda a, b: bool(jnp.any(a != b)), state.params, new.params)
    assert all(jax.tree.leaves(changed))  # every parameter, point MLP included, got a gradient step
