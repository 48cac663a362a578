"""Adapter for Gymnasium environments (``gymnasium/HalfCheetah-v5``, ``gymnasium/Pendulum-v1``, ...)."""

from __future__ import annotations

import functools
import warnings
from typing import Any

import numpy as np

from robojax.envs.host import HostEnv, HostVectorEnv, convert_gymnasium_space
from robojax.envs.spaces import Box
from robojax.errors import EnvError

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
    """``gym.make``, with a missing simulator package (Box2D, mujoco-py, shimmy, ...) as one ``EnvError`` line."""
    try:
        return gym.make(name, **kwargs)
    except (ImportError, gym.error.DependencyNotInstalled) as e:
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
    return None


def _is_discrete(space: Any) -> bool:
    """A discrete observation space, or a tuple of them, that one-hot encoding presents as a vector."""
    from gymnasium import spaces

    if isinstance(space, spaces.Tuple):
        return all(_is_discrete(s) for s in space.spaces)
    return isinstance(space, (spaces.Discrete, spaces.MultiDiscrete, spaces.MultiBinary))


class GymnasiumEnv(HostEnv):
    """Any registered Gymnasium env, vectorised with Gymnasium's sync or async vector env.

    Gymnasium's ``TimeLimit`` (from the env's registration, or ``max_episode_steps``) sets
    ``truncated``; the vector env resets ended episodes in the same step.
    """

    def __init__(self, name: str, vectorization: str = "sync", max_episode_steps: int | None = None, **make_kwargs: Any):
        gym = _gym()
        if vectorization not in VECTORIZATION:
            raise EnvError(f"gymnasium vectorization {vectorization!r} is not one of {', '.join(VECTORIZATION)}")
        self.name = name
        self.vectorization = vectorization
        self.make_kwargs = dict(make_kwargs)
        if max_episode_steps is not None:
            self.make_kwargs["max_episode_steps"] = int(max_episode_steps)
        probe = _make(gym, name, self.make_kwargs)
        try:
            # Discrete and tuple-of-discrete observations (FrozenLake, Taxi, Blackjack) are
            # presented one-hot by Gymnasium's FlattenObservation on every env of the vector env.
            self.wrappers = [gym.wrappers.FlattenObservation] if _is_discrete(probe.observation_space) else []
            for wrapper in self.wrappers:
                probe = wrapper(probe)
            obs_space = convert_gymnasium_space(probe.observation_space, f"gymnasium/{name} observation")
            if not isinstance(obs_space, Box):
                raise EnvError(f"gymnasium/{name}: observation space {probe.observation_space} is not supported")
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
        if render:
            kwargs["render_mode"] = "rgb_array"

        def make(**extra: Any):
            return gym.make_vec(
                self.name,
                num_envs=num_envs,
                vectorization_mode=self.vectorization,
                vector_kwargs={"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP},
                wrappers=self.wrappers,
                **kwargs,
                **extra,
            )

        if render:
            try:  # MuJoCo envs take a frame size; others do not
                return HostVectorEnv(make(width=VIDEO_SIZE[0], height=VIDEO_SIZE[1]))
            except TypeError:
                pass
        return HostVectorEnv(make())
