"""``PointCloud``: observations as points on the surfaces of a MuJoCo scene's geoms.

At each reset, ``num_points`` points are drawn uniformly on the surfaces of the scene's
primitive geoms (sphere, capsule, ellipsoid, cylinder, box, and optionally planes within
``plane_half_extent``), in each geom's own frame, with a fixed number of points per geom
(proportional to its area). Every observation places them with the geoms' poses of the
current simulator state, so the points move with the bodies. Per point the channels are
``x, y, z`` (world frame), optionally ``vx, vy, vz`` (the point's velocity, by finite
difference over one env step: a single cloud cannot show motion), and the body id of its
geom (a segmentation label). Jittable and vmappable; the points depend only on the reset key.

The wrapped env provides the scene: ``geoms`` (a ``Geoms``) and ``geom_poses(state)`` (the
Brax adapter does, on every backend).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from robojax.envs.core import Env, TimeStep
from robojax.envs.spaces import Box, Dict
from robojax.envs.wrappers import Wrapper
from robojax.errors import ConfigError, EnvError

# MuJoCo's mjtGeom values.
PLANE, HFIELD, SPHERE, CAPSULE, ELLIPSOID, CYLINDER, BOX, MESH = range(8)
SUPPORTED = {PLANE: "plane", SPHERE: "sphere", CAPSULE: "capsule", ELLIPSOID: "ellipsoid", CYLINDER: "cylinder", BOX: "box"}


@dataclasses.dataclass(frozen=True)
class Geoms:
    """The static part of a scene: MuJoCo geom types, sizes and body ids (NumPy, one row per geom)."""

    type: np.ndarray
    size: np.ndarray  # (G, 3), MuJoCo's convention per type (radius, half-length, half-extents)
    body: np.ndarray


def surface_area(geom_type: int, size: np.ndarray, plane_half_extent: float) -> float:
    """Area of one geom's surface (ellipsoids approximated by Knud Thomsen's formula)."""
    r, h = size[0], size[1]
    if geom_type == SPHERE:
        return 4 * np.pi * r**2
    if geom_type == CAPSULE:
        return 4 * np.pi * r**2 + 4 * np.pi * r * h
    if geom_type == CYLINDER:
        return 2 * np.pi * r**2 + 4 * np.pi * r * h
    if geom_type == BOX:
        a, b, c = size
        return 8 * (a * b + b * c + a * c)
    if geom_type == ELLIPSOID:
        p = 1.6075
        a, b, c = size**p
        return 4 * np.pi * ((a * b + a * c + b * c) / 3) ** (1 / p)
    return 4 * _plane_extent(size, plane_half_extent).prod()


def _plane_extent(size: np.ndarray, default: float) -> np.ndarray:
    # A plane of size 0 is infinite in MuJoCo; sample it within the default half extent.
    return np.where(size[:2] > 0, size[:2], default)


def _directions(key: jax.Array, n: int) -> jax.Array:
    v = jax.random.normal(key, (n, 3))
    return v / jnp.linalg.norm(v, axis=-1, keepdims=True)


def _round(key: jax.Array, n: int, r: float, h: float, sphere_caps: bool) -> jax.Array:
    """Capsule (``sphere_caps``) or cylinder of radius ``r``, half-length ``h`` along z."""
    k_part, k_angle, k_z, k_cap, k_side = jax.random.split(key, 5)
    side_area = 4 * np.pi * r * h
    cap_area = 4 * np.pi * r**2 if sphere_caps else 2 * np.pi * r**2
    on_side = jax.random.uniform(k_part, (n,)) < side_area / (side_area + cap_area)
    angle = jax.random.uniform(k_angle, (n,), maxval=2 * np.pi)
    side = jnp.stack([r * jnp.cos(angle), r * jnp.sin(angle), jax.random.uniform(k_z, (n,), minval=-h, maxval=h)], -1)
    if sphere_caps:
        d = _directions(k_cap, n)
        cap = d * r + jnp.sign(d[:, 2:]) * jnp.array([0.0, 0.0, h])
    else:
        radius = r * jnp.sqrt(jax.random.uniform(k_cap, (n,)))
        sign = jnp.where(jax.random.bernoulli(k_side, 0.5, (n,)), 1.0, -1.0)
        cap = jnp.stack([radius * jnp.cos(angle), radius * jnp.sin(angle), sign * h], -1)
    return jnp.where(on_side[:, None], side, cap)


def _box(key: jax.Array, n: int, half: np.ndarray) -> jax.Array:
    k_face, k_sign, k_pos = jax.random.split(key, 3)
    a, b, c = half
    face_area = np.array([b * c, a * c, a * b])  # the faces normal to x, y, z
    axis = jax.random.choice(k_face, 3, (n,), p=jnp.asarray(face_area / face_area.sum()))
    sign = jnp.where(jax.random.bernoulli(k_sign, 0.5, (n,)), 1.0, -1.0)
    pts = jax.random.uniform(k_pos, (n, 3), minval=-1.0, maxval=1.0) * half
    on_face = jax.nn.one_hot(axis, 3, dtype=bool)
    return jnp.where(on_face, sign[:, None] * jnp.asarray(half, jnp.float32), pts)


def sample_surface(key: jax.Array, geom_type: int, size: np.ndarray, n: int, plane_half_extent: float) -> jax.Array:
    """``n`` points on one geom's surface, in the geom's frame."""
    if geom_type == SPHERE:
        return _directions(key, n) * size[0]
    if geom_type == ELLIPSOID:  # on the surface, not area-uniform
        return _directions(key, n) * size
    if geom_type in (CAPSULE, CYLINDER):
        return _round(key, n, float(size[0]), float(size[1]), geom_type == CAPSULE)
    if geom_type == BOX:
        return _box(key, n, np.asarray(size, np.float32))
    extent = _plane_extent(size, plane_half_extent)
    xy = jax.random.uniform(key, (n, 2), minval=-1.0, maxval=1.0) * extent
    return jnp.concatenate([xy, jnp.zeros((n, 1))], -1)


@struct.dataclass
class PointCloudState:
    inner: Any
    local: jax.Array  # (N, 3) points in their geoms' frames, drawn at reset
    world: jax.Array  # (N, 3) their world positions at the last observation


class PointCloud(Wrapper):
    """Replaces the observation by ``num_points`` points on the scene's geoms: ``(N, 3 [+3] + 1)``.

    ``velocities`` adds each point's velocity (zero at reset); ``planes`` includes plane geoms
    (floors), sampled within ``plane_half_extent`` of their origin. With ``state`` the
    observation is a dict ``{"points": cloud, "state": the wrapped env's observation}`` (a
    robot's proprioception next to what its camera sees; ``network.encoder=multi`` with
    ``network.multi.parts={points: pointnet}`` encodes it).
    """

    def __init__(
        self,
        env: Env,
        num_points: int = 128,
        velocities: bool = True,
        planes: bool = False,
        plane_half_extent: float = 2.0,
        state: bool = False,
    ):
        super().__init__(env)
        if not hasattr(env, "geoms") or not hasattr(env, "geom_poses"):
            raise EnvError(f"{env!r} has no MuJoCo scene to sample points from; point clouds need a brax env")
        if not isinstance(num_points, int) or num_points < 1:
            raise ConfigError(f"env.kwargs.pointcloud.num_points={num_points!r}: must be an int >= 1")
        geoms: Geoms = env.geoms
        keep = []
        for g, t in enumerate(geoms.type):
            if int(t) not in SUPPORTED:
                raise EnvError(f"geom {g} of {env!r} is a {'mesh' if t == MESH else 'height field'}; point clouds "
                               f"support only {', '.join(SUPPORTED.values())}")
            if int(t) != PLANE or planes:
                keep.append(g)
        if not keep:
            raise EnvError(f"{env!r} has no geom to sample points from (planes={planes})")
        area = np.array([surface_area(int(geoms.type[g]), geoms.size[g], plane_half_extent) for g in keep])
        # Largest-remainder split of num_points in proportion to the areas: a fixed count per geom.
        share = num_points * area / area.sum()
        counts = np.floor(share).astype(int)
        counts[np.argsort(counts - share)[: num_points - counts.sum()]] += 1
        self._parts = [(g, int(c)) for g, c in zip(keep, counts) if c > 0]
        self._geom_of_point = np.repeat([g for g, _ in self._parts], [c for _, c in self._parts])
        self._types, self._sizes, self.plane_half_extent = geoms.type, geoms.size, plane_half_extent
        self._segment = jnp.asarray(geoms.body[self._geom_of_point], jnp.float32)[:, None]
        self.velocities = velocities
        self.dt = float(getattr(env, "dt", 1.0))
        channels = 3 + 3 * velocities + 1
        points = Box.create(-np.inf, np.inf, (num_points, channels))
        self.keep_state = state
        self.observation_space = Dict({"points": points, "state": env.observation_space}) if state else points

    def _world(self, inner: Any, local: jax.Array) -> jax.Array:
        xpos, xmat = self.env.geom_poses(inner)
        g = self._geom_of_point
        return xpos[g] + jnp.einsum("nij,nj->ni", xmat[g], local)

    def _observe(self, world: jax.Array, prev: jax.Array, inner_obs: Any) -> Any:
        parts = [world, (world - prev) / self.dt] if self.velocities else [world]
        points = jnp.concatenate([*parts, self._segment], -1)
        return {"points": points, "state": inner_obs} if self.keep_state else points

    def reset(self, key: jax.Array) -> tuple[PointCloudState, TimeStep]:
        key, sample_key = jax.random.split(key)
        inner, ts = self.env.reset(key)
        keys = jax.random.split(sample_key, len(self._parts))
        local = jnp.concatenate([
            sample_surface(k, int(self._types[g]), self._sizes[g], n, self.plane_half_extent)
            for k, (g, n) in zip(keys, self._parts)
        ]).astype(jnp.float32)
        world = self._world(inner, local)
        obs = self._observe(world, world, ts.obs)
        return PointCloudState(inner, local, world), ts.replace(obs=obs, final_obs=obs)

    def step(self, state: PointCloudState, action: jax.Array) -> tuple[PointCloudState, TimeStep]:
        inner, ts = self.env.step(state.inner, action)
        world = self._world(inner, state.local)
        obs = self._observe(world, state.world, ts.obs)
        return PointCloudState(inner, state.local, world), ts.replace(obs=obs, final_obs=obs)
