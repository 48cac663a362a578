"""``pixels/...``: continuous-control tasks observed through images drawn by a renderer in JAX.

The renderer is jittable and vmaps over envs, so pixel agents run fully on the device (and in
CI). Each task has a state twin, the same task with state observations
(``env.kwargs.observation=state``; for ``pixels/Pendulum`` also ``gymnax/Pendulum-v1``):

- ``pixels/PointMass``: a point in ``[-1, 1]^2`` moved by velocity actions ``[-1, 1]^2``
  (0.1 per step), reward ``-|position|``, 50 steps; drawn as a disc.
- ``pixels/Pendulum``: gymnax's ``Pendulum-v1`` (swing up, 200 steps); drawn as a rod from the
  pivot. One frame has no angular velocity: stack frames (``env.kwargs.frame_stack=3``).

Options (``env.kwargs.*``): ``size`` (image height = width, default 32), ``channels`` (3 = RGB,
1 = gray), ``observation`` (``pixels``: uint8 ``(size, size, channels)``; ``state``: the float
state; ``pixels_state``: a dict ``{"pixels", "state"}``), ``max_episode_steps``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from robojax.envs.core import Env, TimeStep, first_timestep
from robojax.envs.gymnax_suite import GymnaxEnv
from robojax.envs.spaces import Box, Dict
from robojax.errors import ConfigError

OBSERVATIONS = ("pixels", "state", "pixels_state")

#: ``draw(state, height, width) -> (height, width, 3)`` float colours in ``[0, 1]``.
DrawFn = Callable[[Any, int, int], jax.Array]


def _grid(height: int, width: int) -> tuple[jax.Array, jax.Array]:
    """Pixel-centre coordinates in ``[-1, 1]`` (x to the right, y up)."""
    xs = (jnp.arange(width) + 0.5) / width * 2.0 - 1.0
    ys = 1.0 - (jnp.arange(height) + 0.5) / height * 2.0
    return jnp.meshgrid(xs, ys)


def _coverage(distance: jax.Array, radius: float, height: int) -> jax.Array:
    """Anti-aliased coverage of a shape whose points lie within ``radius`` (one pixel of blur)."""
    pixel = 2.0 / height
    return jnp.clip((radius - distance) / pixel + 0.5, 0.0, 1.0)


def draw_disc(center: jax.Array, radius: float, height: int, width: int) -> jax.Array:
    x, y = _grid(height, width)
    return _coverage(jnp.hypot(x - center[0], y - center[1]), radius, height)


def draw_segment(start: jax.Array, end: jax.Array, radius: float, height: int, width: int) -> jax.Array:
    """A segment of thickness ``2 * radius`` with round ends."""
    x, y = _grid(height, width)
    d = end - start
    t = jnp.clip(((x - start[0]) * d[0] + (y - start[1]) * d[1]) / jnp.maximum(d @ d, 1e-9), 0.0, 1.0)
    return _coverage(jnp.hypot(x - start[0] - t * d[0], y - start[1] - t * d[1]), radius, height)


def paint(layers: list[tuple[jax.Array, tuple[float, float, float]]]) -> jax.Array:
    """Composite coverage maps with RGB colours over a black background: ``(H, W, 3)`` in [0, 1]."""
    image = 0.0
    for coverage, colour in layers:
        image = image * (1.0 - coverage[..., None]) + coverage[..., None] * jnp.asarray(colour)
    return image


# -- tasks -------------------------------------------------------------------------------------


@struct.dataclass
class PointMassState:
    position: jax.Array
    key: jax.Array


class PointMass(Env):
    """A point moved by velocity actions towards the origin; state observation = its position."""

    speed = 0.1

    def __init__(self, max_episode_steps: int = 50):
        self.max_episode_steps = int(max_episode_steps)
        self.observation_space = Box.create(-1.0, 1.0, (2,))
        self.action_space = Box.create(-1.0, 1.0, (2,))

    def reset(self, key: jax.Array) -> tuple[PointMassState, TimeStep]:
        key, sub = jax.random.split(key)
        position = jax.random.uniform(sub, (2,), jnp.float32, -0.8, 0.8)
        return PointMassState(position, key), first_timestep(position)

    def step(self, state: PointMassState, action: jax.Array) -> tuple[PointMassState, TimeStep]:
        position = jnp.clip(state.position + self.speed * jnp.clip(action, -1.0, 1.0), -1.0, 1.0)
        reward = -jnp.linalg.norm(position)
        false = jnp.zeros((), bool)
        return PointMassState(position, state.key), TimeStep(position, reward, false, false, position)


def draw_point_mass(state: PointMassState, height: int, width: int) -> jax.Array:
    target = draw_disc(jnp.zeros(2), 0.08, height, width)
    return paint([(target, (0.0, 0.6, 0.0)), (draw_disc(state.position, 0.15, height, width), (1.0, 0.3, 0.1))])


def draw_pendulum(state: Any, height: int, width: int) -> jax.Array:
    # gymnax Pendulum: theta = 0 is upright; the rod is drawn from the pivot to its tip.
    theta = state.env_state.theta
    tip = 0.8 * jnp.stack([jnp.sin(theta), jnp.cos(theta)])
    rod = draw_segment(jnp.zeros(2), tip, 0.12, height, width)
    return paint([(rod, (0.9, 0.45, 0.2)), (draw_disc(jnp.zeros(2), 0.06, height, width), (0.8, 0.8, 0.8))])


class RenderedEnv(Env):
    """A JAX env whose observation is an image drawn from its state (optionally with the state).

    ``inner`` must not auto-reset (``make_env`` adds ``AutoReset`` outside), so the image of
    the state a step ends in is also the final observation.
    """

    def __init__(self, inner: Env, draw: DrawFn, size: int, channels: int, with_state: bool):
        self.inner, self.draw = inner, draw
        self.size, self.channels, self.with_state = size, channels, with_state
        self.action_space = inner.action_space
        self.max_episode_steps = inner.max_episode_steps
        pixels = Box.create(0, 255, (size, size, channels), np.uint8)
        self.observation_space = Dict({"pixels": pixels, "state": inner.observation_space}) if with_state else pixels

    def image(self, state: Any) -> jax.Array:
        """The uint8 observation image of one env state."""
        rgb = self.draw(state, self.size, self.size)
        rgb = rgb if self.channels == 3 else rgb.max(-1, keepdims=True)
        return jnp.round(rgb * 255.0).astype(jnp.uint8)

    def _observe(self, state: Any, ts: TimeStep) -> TimeStep:
        image = self.image(state)
        obs = {"pixels": image, "state": ts.obs} if self.with_state else image
        return ts.replace(obs=obs, final_obs=obs)

    def reset(self, key: jax.Array) -> tuple[Any, TimeStep]:
        state, ts = self.inner.reset(key)
        return state, self._observe(state, ts)

    def step(self, state: Any, action: jax.Array) -> tuple[Any, TimeStep]:
        state, ts = self.inner.step(state, action)
        return state, self._observe(state, ts)

    def render(self, states: list[Any], width: int = 320, height: int = 240) -> list[np.ndarray]:
        draw = jax.jit(lambda s: jnp.round(self.draw(s, height, width) * 255.0).astype(jnp.uint8))
        return [np.asarray(draw(s)) for s in states]


TASKS: dict[str, tuple[Callable[..., Env], DrawFn]] = {
    "PointMass": (PointMass, draw_point_mass),
    "Pendulum": (lambda **kw: GymnaxEnv("Pendulum-v1", **kw), draw_pendulum),
}


def available() -> list[str]:
    return list(TASKS)


def make_pixels_env(
    name: str, size: int = 32, channels: int = 3, observation: str = "pixels", max_episode_steps: int | None = None
) -> Env:
    """The task ``name`` observed as ``observation`` (see the module docstring)."""
    if observation not in OBSERVATIONS:
        raise ConfigError(f"env.kwargs.observation={observation!r}: allowed values are {list(OBSERVATIONS)}")
    if channels not in (1, 3):
        raise ConfigError(f"env.kwargs.channels={channels!r}: allowed values are [1, 3]")
    if not isinstance(size, int) or size < 8:
        raise ConfigError(f"env.kwargs.size={size!r}: must be an integer >= 8")
    build, draw = TASKS[name]
    inner = build(**({} if max_episode_steps is None else {"max_episode_steps": max_episode_steps}))
    if observation == "state":
        return inner
    return RenderedEnv(inner, draw, size, channels, with_state=observation == "pixels_state")
