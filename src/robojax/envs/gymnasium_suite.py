"""Adapter for Gymnasium environments (``gymnasium/HalfCheetah-v5``, ``gymnasium/Pendulum-v1``, ...)."""

from __future__ import annotations

from typing import Any

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
        try:
            probe = gym.make(name, **self.make_kwargs)
        except gym.error.DependencyNotInstalled as e:
            raise EnvError(f"gymnasium/{name} needs extra packages: {e}") from e
        try:
            obs_space = convert_gymnasium_space(probe.observation_space, f"gymnasium/{name} observation")
            if not isinstance(obs_space, Box):
                raise NotImplementedError(f"gymnasium/{name}: discrete observation spaces are not supported")
            self.observation_space = obs_space
            self.action_space = convert_gymnasium_space(probe.action_space, f"gymnasium/{name} action")
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
                **kwargs,
                **extra,
            )

        if render:
            try:  # MuJoCo envs take a frame size; others do not
                return HostVectorEnv(make(width=VIDEO_SIZE[0], height=VIDEO_SIZE[1]))
            except TypeError:
                pass
        return HostVectorEnv(make())
