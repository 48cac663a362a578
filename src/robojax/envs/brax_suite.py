"""Adapter for Brax environments (``brax/ant``, ``brax/halfcheetah``, ...), physics backend selectable."""

from __future__ import annotations

import contextlib
import io
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from robojax.envs.core import Env, TimeStep, first_timestep
from robojax.envs.pointcloud import Geoms
from robojax.envs.spaces import Box
from robojax.errors import EnvError

BACKENDS = ("mjx", "generalized", "positional", "spring")
DEFAULT_MAX_EPISODE_STEPS = 1000


def _import_brax():
    try:
        # mujoco.mjx prints "Failed to import warp" to stdout when the optional warp is absent;
        # keep stdout clean for machine-readable CLI output.
        with contextlib.redirect_stdout(io.StringIO()):
            from brax import envs
    except ImportError as e:  # pragma: no cover - depends on the installed extras
        raise EnvError("Brax is not installed: pip install 'robojax[brax]'") from e
    return envs


def available() -> list[str]:
    return sorted(_import_brax()._envs)


class BraxEnv(Env):
    """Wraps a Brax env. Brax's ``done`` is a termination; truncation comes from ``TimeLimit``."""

    def __init__(self, name: str, backend: str = "mjx", max_episode_steps: int | None = None, **env_kwargs: Any):
        envs = _import_brax()
        if backend not in BACKENDS:
            raise EnvError(f"brax backend {backend!r} is not one of {', '.join(BACKENDS)}")
        self.name = name
        self.backend = backend
        self._env = envs.get_environment(name, backend=backend, **env_kwargs)
        self.max_episode_steps = int(max_episode_steps or DEFAULT_MAX_EPISODE_STEPS)
        # From the traced reset: Brax's ``observation_size`` runs ``reset`` eagerly, which compiles
        # each of its hundreds of operations on its own (about 50 s for ant on MJX).
        obs = jax.eval_shape(self._env.reset, jax.ShapeDtypeStruct((2,), jnp.uint32)).obs
        self.observation_space = Box.create(-jnp.inf, jnp.inf, obs.shape)
        self.action_space = Box.create(-1.0, 1.0, (self._env.action_size,))
        self.dt = float(self._env.dt)
        sys = self._env.sys
        self.geoms = Geoms(np.asarray(sys.geom_type), np.asarray(sys.geom_size), np.asarray(sys.geom_bodyid))

    def geom_poses(self, state: Any) -> tuple[jax.Array, jax.Array]:
        """World positions ``(G, 3)`` and rotation matrices ``(G, 3, 3)`` of the scene's geoms.

        From the body poses every backend keeps in ``pipeline_state.x`` (all bodies but the
        world) and each geom's fixed offset in its body.
        """
        from brax import math

        sys, x = self._env.sys, state.pipeline_state.x
        body_pos = jnp.concatenate([jnp.zeros((1, 3)), x.pos])
        body_rot = jnp.concatenate([jnp.array([[1.0, 0.0, 0.0, 0.0]]), x.rot])
        pos, rot = body_pos[sys.geom_bodyid], body_rot[sys.geom_bodyid]
        xpos = pos + jax.vmap(math.rotate)(sys.geom_pos, rot)
        xmat = jax.vmap(math.quat_to_3x3)(jax.vmap(math.quat_mul)(rot, sys.geom_quat))
        return xpos, xmat

    @staticmethod
    def _typed(state: Any) -> Any:
        # Some Brax envs return Python floats for reward/done; fix dtypes so reset and step
        # states have the same structure (needed by auto-reset's select).
        return state.replace(
            reward=jnp.asarray(state.reward, jnp.float32), done=jnp.asarray(state.done, jnp.float32)
        )

    def reset(self, key: jax.Array) -> tuple[Any, TimeStep]:
        state = self._typed(self._env.reset(key))
        return state, first_timestep(state.obs)

    def render(self, states: list[Any], width: int = 320, height: int = 240) -> list[np.ndarray]:
        """Frames from MuJoCo's offscreen renderer (set ``MUJOCO_GL=egl`` on a headless machine)."""
        pipeline_states = [jax.tree.map(np.asarray, s.pipeline_state) for s in states]
        return [np.asarray(f) for f in self._env.render(pipeline_states, height=height, width=width)]

    def step(self, state: Any, action: jax.Array) -> tuple[Any, TimeStep]:
        state = self._typed(self._env.step(state, action))
        ts = TimeStep(
            obs=state.obs,
            reward=state.reward,
            terminated=state.done.astype(bool),
            truncated=jnp.zeros((), bool),
            final_obs=state.obs,
        )
        return state, ts
