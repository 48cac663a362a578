"""Adapter for MetaWorld MT1 tasks (``metaworld/reach-v3``, ``metaworld/pick-place-v3``, ...).

MetaWorld pins its own MuJoCo (``mujoco==3.3.0``), which conflicts with Brax's ``mujoco-mjx``,
so it lives in a virtualenv of its own: ``pip install 'robojax[metaworld]'`` (``make test-metaworld``
builds ``.venv-metaworld``).
"""

from __future__ import annotations

from typing import Any

from robojax.envs.gymnasium_suite import VECTORIZATION, VIDEO_SIZE
from robojax.envs.host import HostEnv, HostVectorEnv, convert_gymnasium_space
from robojax.envs.spaces import Box
from robojax.errors import EnvError

INSTALL_HINT = "pip install 'robojax[metaworld]' (in a virtualenv without Brax: MetaWorld pins mujoco==3.3.0)"


def _import_metaworld():
    # Offscreen rendering without a display needs MUJOCO_GL=egl, set by robojax/__init__.py
    # before MuJoCo is imported (EGL also works with Mesa's software renderer, no GPU needed).
    try:
        import metaworld
    except ImportError as e:
        raise EnvError(f"MetaWorld is not installed: {INSTALL_HINT}") from e
    return metaworld


def available() -> list[str]:
    """The MT1 task names (MetaWorld's v3 environments)."""
    return sorted(_import_metaworld().MT1.ENV_NAMES)


class MetaWorldEnv(HostEnv):
    """One MetaWorld MT1 task, vectorised with Gymnasium's sync or async vector env.

    MT1 gives a task 50 goal variations (object and goal positions), drawn with ``task_seed``;
    every reset of a sub-env picks one of them with that sub-env's own generator (seeded by
    ``reset(seed)`` of the vector env, ``seed + i`` for env ``i``). Episodes are truncated after
    ``max_episode_steps`` (MetaWorld's 500 by default, the most it allows); they never terminate.
    ``info["success"]`` is reported at every step.
    """

    def __init__(
        self,
        name: str,
        vectorization: str = "sync",
        max_episode_steps: int | None = None,
        task_seed: int = 0,
        **env_kwargs: Any,
    ):
        metaworld = _import_metaworld()
        if vectorization not in VECTORIZATION:
            raise EnvError(f"metaworld vectorization {vectorization!r} is not one of {', '.join(VECTORIZATION)}")
        if name not in metaworld.MT1.ENV_NAMES:
            raise EnvError(f"unknown metaworld task {name!r}; available: {', '.join(available())}")
        self.name = name
        self.vectorization = vectorization
        self.task_seed = int(task_seed)
        self.env_kwargs = dict(env_kwargs)
        benchmark = metaworld.MT1(name, seed=self.task_seed)
        self._env_cls = benchmark.train_classes[name]
        self._tasks = list(benchmark.train_tasks)
        limit = int(self._env_cls.max_path_length)
        if max_episode_steps is not None and not 0 < int(max_episode_steps) <= limit:
            raise EnvError(
                f"metaworld max_episode_steps must be in 1..{limit} (MetaWorld's own limit), got {max_episode_steps}"
            )
        self.max_episode_steps = int(max_episode_steps) if max_episode_steps is not None else limit
        from robojax.envs._metaworld_env import make_sub_env

        probe = make_sub_env(self._env_cls, self._tasks, self.max_episode_steps, self.env_kwargs)
        try:
            obs_space = convert_gymnasium_space(probe.observation_space, f"metaworld/{name} observation")
            assert isinstance(obs_space, Box)
            self.observation_space = obs_space
            self.action_space = convert_gymnasium_space(probe.action_space, f"metaworld/{name} action")
        finally:
            probe.close()

    def create(self, num_envs: int, render: bool = False) -> HostVectorEnv:
        from robojax.envs._metaworld_env import make_vector_env

        kwargs = dict(self.env_kwargs)
        if render:
            kwargs["render_mode"] = "rgb_array"
            kwargs.setdefault("width", VIDEO_SIZE[0])
            kwargs.setdefault("height", VIDEO_SIZE[1])
        env = make_vector_env(self._env_cls, self._tasks, self.max_episode_steps, kwargs, num_envs, self.vectorization)
        return HostVectorEnv(env, reports_success=True)
