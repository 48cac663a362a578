"""The history and point-cloud observation wrappers."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from robojax.envs import make_env
from robojax.envs import pointcloud as pc
from robojax.errors import ConfigError, EnvError


def test_history_window_never_leaks_across_an_auto_reset():
    env = make_env("gymnax/CartPole-v1", history=3, max_episode_steps=4)
    assert env.observation_space.shape == (3, 5)
    state, ts = env.reset(jax.random.PRNGKey(0))

    def step(state, _):
        state, ts = env.step(state, jnp.int32(1))
        return state, ts

    _, traj = jax.jit(lambda s: jax.lax.scan(step, s, None, length=6))(state)
    obs, final, trunc = np.asarray(traj.obs), np.asarray(traj.final_obs), np.asarray(traj.truncated)
    first = np.asarray(ts.obs)
    np.testing.assert_array_equal(first[:, -1], [0, 0, 1])
    np.testing.assert_array_equal(first[:2], 0.0)  # empty slots are zeros
    np.testing.assert_array_equal(trunc, [False, False, False, True, False, False])
    np.testing.assert_array_equal(obs[:3, :, -1], [[0, 1, 1], [1, 1, 1], [1, 1, 1]])
    np.testing.assert_array_equal(obs[0, 1], first[2])  # the window slides by one row per step
    np.testing.assert_array_equal(obs[2, :2], obs[1, 1:])
    # At the auto-reset (step 4): the final obs is the old episode's window; the new one starts empty.
    np.testing.assert_array_equal(final[3, :2], obs[2, 1:])
    np.testing.assert_array_equal(final[3, :, -1], [1, 1, 1])
    np.testing.assert_array_equal(obs[3, :, -1], [0, 0, 1])
    np.testing.assert_array_equal(obs[3, :2], 0.0)
    np.testing.assert_array_equal(obs[4, :, -1], [0, 1, 1])
    np.testing.assert_array_equal(obs[4, 1], obs[3, 2])


@pytest.mark.parametrize("length", [0, -2, 1.5])
def test_history_length_must_be_positive(length):
    with pytest.raises(ConfigError, match=f"env.kwargs.history={length!r}"):
        make_env("gymnax/CartPole-v1", history=length)


def surface_distance(geom_type, size, p):
    """Unsigned distance of local points ``p`` (n, 3) to a primitive's surface."""
    r, h = size[0], size[1]
    if geom_type == pc.SPHERE:
        return np.abs(np.linalg.norm(p, axis=-1) - r)
    if geom_type == pc.CAPSULE:
        axis = np.stack([np.zeros(len(p)), np.zeros(len(p)), np.clip(p[:, 2], -h, h)], -1)
        return np.abs(np.linalg.norm(p - axis, axis=-1) - r)
    if geom_type == pc.CYLINDER:
        radial, height = np.linalg.norm(p[:, :2], axis=-1) - r, np.abs(p[:, 2]) - h
        inside = np.minimum(np.maximum(radial, height), 0.0)
        return np.abs(np.linalg.norm(np.maximum(np.stack([radial, height], -1), 0.0), axis=-1) + inside)
    if geom_type == pc.BOX:
        q = np.abs(p) - size
        return np.abs(np.linalg.norm(np.maximum(q, 0.0), axis=-1) + np.minimum(q.max(-1), 0.0))
    if geom_type == pc.ELLIPSOID:
        return np.abs(np.linalg.norm(p / size, axis=-1) - 1.0)
    assert geom_type == pc.PLANE
    return np.abs(p[:, 2]) + np.maximum(np.abs(p[:, :2]) - size[:2], 0.0).sum(-1)


@pytest.mark.parametrize("geom_type", [pc.SPHERE, pc.CAPSULE, pc.CYLINDER, pc.BOX, pc.ELLIPSOID, pc.PLANE])
def test_surface_samples_lie_on_each_primitive(geom_type):
    size = np.array([0.3, 0.5, 0.2], np.float32)
    pts = np.asarray(pc.sample_surface(jax.random.PRNGKey(geom_type), geom_type, size, 400, 2.0))
    assert pts.shape == (400, 3)
    assert surface_distance(geom_type, size, pts).max() < 1e-5
    assert np.ptp(pts, axis=0)[:2].min() > 0.3  # spread over the surface, not one spot
    if geom_type in (pc.BOX, pc.CYLINDER):  # every face/cap is hit
        assert len({tuple(np.sign(np.round(x, 5))) for x in pts[np.abs(pts[:, 2]) > size[2] - 1e-6][:, 2:]}) == 2


def test_point_cloud_of_a_brax_scene_lies_on_the_geoms_and_moves_with_the_bodies():
    env = make_env("brax/inverted_pendulum", backend="generalized", pointcloud={"num_points": 64})
    wrapper = env.env.env.env  # AutoReset(EpisodeStatistics(TimeLimit(PointCloud)))
    raw = wrapper.env
    assert isinstance(wrapper, pc.PointCloud) and env.observation_space.shape == (64, 7)
    keys = jax.random.split(jax.random.PRNGKey(0), 3)
    reset = jax.jit(jax.vmap(env.reset))
    step = jax.jit(jax.vmap(env.step))
    state, ts = reset(keys)
    assert ts.obs.shape == (3, 64, 7)
    np.testing.assert_array_equal(reset(keys)[1].obs, ts.obs)  # deterministic per key
    assert np.abs(np.asarray(ts.obs[0] - ts.obs[1])).max() > 1e-3  # other keys, other points
    np.testing.assert_array_equal(ts.obs[..., 3:6], 0.0)  # no velocity at reset
    for _ in range(5):
        prev = ts.obs
        state, ts = step(state, jnp.ones((3, 1)))
    obs = np.asarray(ts.obs)
    # Each point is on the surface of its geom at the geom's current pose.
    inner = state.inner.inner.inner.inner  # the brax state of each env
    xpos, xmat = jax.vmap(raw.geom_poses)(inner)
    g = wrapper._geom_of_point
    local = np.einsum("bnji,bnj->bni", np.asarray(xmat)[:, g], obs[..., :3] - np.asarray(xpos)[:, g])
    for i in range(64):
        gi = g[i]
        assert surface_distance(int(raw.geoms.type[gi]), raw.geoms.size[gi], local[:, i]).max() < 1e-4
    np.testing.assert_allclose(local, state.inner.inner.inner.local, atol=1e-4)
    # Segmentation = body id; the rail (world body) stays, the cart and pole points move.
    body = obs[0, :, 6].astype(int)
    assert set(body) == {0, 1, 2}
    moved = np.linalg.norm(obs[..., :3] - np.asarray(prev[..., :3]), axis=-1)
    assert moved[:, body == 0].max() < 1e-6 and moved[:, body == 1].min() > 1e-4
    np.testing.assert_allclose(obs[..., 3:6], (obs[..., :3] - np.asarray(prev[..., :3])) / raw.dt, atol=1e-3)


def test_point_clouds_need_a_mujoco_scene():
    with pytest.raises(EnvError, match="no MuJoCo scene"):
        make_env("gymnax/CartPole-v1", pointcloud=True)
    with pytest.raises(ConfigError, match="num_points=0"):
        make_env("brax/inverted_pendulum", backend="generalized", pointcloud={"num_points": 0})
    with pytest.raises(EnvError, match="bad pointcloud options"):
        make_env("brax/inverted_pendulum", backend="generalized", pointcloud={"points": 8})
