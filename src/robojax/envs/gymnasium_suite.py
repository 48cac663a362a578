"""Adapter for Gymnasium environments (``gymnasium/HalfCheetah-v5``, ``gymnasium/Pendulum-v1``, ...)."""

from __future__ import annotations

import functools
import warnings
from typing import Any

import numpy as np

from robojax.envs.host import HostEnv, HostVectorEnv, convert_gymnasium_space
from robojax.envs.spaces import Box
from robojax.errors import ConfigError, EnvError

VECTORIZATION = ("sync", "async")
VIDEO_SIZE = (320, 240)


def _gym():
    try:
        import gymnasium
    except ImportError as e:  # pragma: no cover - gymnasium comes with gymnax
        raise EnvError("Gymnasium is not installed: pip install 'robojax[gymnasium]'") from e
    return gymnasium


def available() -> list[str]:
    return sorted(_gym().envs.registry)


def _make(gym: Any, name: str, kwargs: dict[str, Any]) -> Any:
    """``gym.make``, with a missing simulator package (Box2D, mujoco-py, shimmy, ...) or an id that
    cannot be made (registered without an entry point, like MetaWorld's benchmark ids) as one
    ``EnvError`` line."""
    try:
        return gym.make(name, **kwargs)
    except (ImportError, gym.error.Error) as e:  # DependencyNotInstalled is a gym.error.Error
        raise EnvError(f"gymnasium/{name} cannot run here: {str(e).splitlines()[0]}") from e


@functools.cache
def missing(name: str) -> str | None:
    """What ``gymnasium/NAME`` lacks on this machine (``None``: nothing), found by making it once."""
    gym = _gym()
    try:
        with warnings.catch_warnings():  # deprecated versions warn when made
            warnings.simplefilter("ignore")
            _make(gym, name, {}).close()
    except EnvError as e:
        return str(e).split(": ", 1)[1]
    except Exception as e:  # ids that cannot be made without options (e.g. Meta-World/MT1 needs env_name)
        return f"cannot be made with default options ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})"
    return None


def _is_discrete(space: Any) -> bool:
    """A discrete observation space, or a tuple of them, that one-hot encoding presents as a vector."""
    from gymnasium import spaces

    if isinstance(space, spaces.Tuple):
        return all(_is_discrete(s) for s in space.spaces)
    return isinstance(space, (spaces.Discrete, spaces.MultiDiscrete, spaces.MultiBinary))
def _without_shadows(env: Any) -> Any:
    """Turn off shadows and reflections of a MuJoCo env's offscreen renderer.

    With Mesa's software renderer (EGL on a machine without a GPU) they cost ~98% of a frame:
    an 84x84 HalfCheetah frame took ~1 s with them and ~16 ms without (2 shared cores).
    """
    renderer = getattr(env.unwrapped, "mujoco_renderer", None)
    if renderer is not None:
        import mujoco

        scene = renderer._get_viewer("rgb_array").scn  # created here instead of on the first render
        scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = False
        scene.flags[mujoco.mjtRndFlag.mjRND_REFLECTION] = False
    return env


class GymnasiumEnv(HostEnv):
    """Any registered Gymnasium env, vectorised with Gymnasium's sync or async vector env.

    Gymnasium's ``TimeLimit`` (from the env's registration, or ``max_episode_steps``) sets
    ``truncated``; the vector env resets ended episodes in the same step. ``pixels=S`` observes
    uint8 ``(S, S, 3)`` frames rendered offscreen instead of the state (Gymnasium's
    ``AddRenderObservation``); with ``pixels_state=True`` the observation is the dict
    ``{"pixels", "state"}``.
    """

    def __init__(
        self,
        name: str,
        vectorization: str = "sync",
        max_episode_steps: int | None = None,
        pixels: int = 0,
        pixels_state: bool = False,
        **make_kwargs: Any,
    ):
        gym = _gym()
        if vectorization not in VECTORIZATION:
            raise EnvError(f"gymnasium vectorization {vectorization!r} is not one of {', '.join(VECTORIZATION)}")
        if isinstance(pixels, bool) or not isinstance(pixels, int) or pixels < 0:
            raise ConfigError(f"env.kwargs.pixels={pixels!r}: the image size in pixels (0 = state observations)")
        if pixels_state and not pixels:
            raise ConfigError("env.kwargs.pixels_state=true needs env.kwargs.pixels > 0 (the image size)")
        self.name = name
        self.vectorization = vectorization
        self.make_kwargs = dict(make_kwargs)
        if max_episode_steps is not None:
            self.make_kwargs["max_episode_steps"] = int(max_episode_steps)
        self.wrappers: list[Any] = []
        if pixels:
            # Rendered offscreen (MUJOCO_GL=egl without a display) at pixels x pixels.
            self.make_kwargs.update(render_mode="rgb_array", width=pixels, height=pixels)
            self.wrappers += [
                _without_shadows,
                functools.partial(gym.wrappers.AddRenderObservation, render_only=not pixels_state, obs_key="state"),
            ]
        probe = functools.reduce(lambda env, wrap: wrap(env), self.wrappers, _make(gym, name, self.make_kwargs))
        try:
            # Discrete and tuple-of-discrete observations (FrozenLake, Taxi, Blackjack) are
            # presented one-hot by Gymnasium's FlattenObservation on every env of the vector env.
            if _is_discrete(probe.observation_space):
                self.wrappers.append(gym.wrappers.FlattenObservation)
                probe = gym.wrappers.FlattenObservation(probe)
            obs_space = convert_gymnasium_space(probe.observation_space, f"gymnasium/{name} observation")
            self.observation_space = obs_space
            self.action_space = convert_gymnasium_space(probe.action_space, f"gymnasium/{name} action")
            if isinstance(self.action_space, Box) and not np.issubdtype(probe.action_space.dtype, np.floating):
                raise EnvError(f"gymnasium/{name}: integer Box actions ({probe.action_space}) are not supported")
            self.max_episode_steps = probe.spec.max_episode_steps if probe.spec else None
        finally:
            probe.close()

    def create(self, num_envs: int, render: bool = False) -> HostVectorEnv:
        gym = _gym()
        kwargs = dict(self.make_kwargs)
        if render and not self.wrappers:
            kwargs["render_mode"] = "rgb_array"

        def make(**extra: Any):
            return gym.make_vec(
                self.name,
                num_envs=num_envs,
                vectorization_mode=self.vectorization,
                vector_kwargs={"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP},
                wrappers=self.wrappers or None,
                **kwargs,
                **extra,
            )

        if render and not self.wrappers:  # pixel envs render videos at their observation size
            try:  # MuJoCo envs take a frame size; others do not
                return HostVectorEnv(make(width=VIDEO_SIZE[0], height=VIDEO_SIZE[1]))
            except TypeError:
                pass
        return HostVectorEnv(make())
