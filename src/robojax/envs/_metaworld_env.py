"""The Gymnasium side of the MetaWorld adapter (imported only when MetaWorld envs are built)."""

from __future__ import annotations

from typing import Any

import gymnasium as gym


class MT1Task(gym.Wrapper):
    """Sets a random MT1 task (object and goal positions) of ``tasks`` on every reset.

    MetaWorld envs ignore ``reset(seed=...)``; here a seed re-seeds the env's own generator,
    which picks the task, so env ``i`` of a vector env reset with ``seed`` (seeded ``seed + i``)
    gets its own reproducible sequence of goals.
    """

    def __init__(self, env: gym.Env, tasks: list):
        super().__init__(env)
        self.tasks = list(tasks)
        env.unwrapped.set_task(self.tasks[0])
        # set_task makes the goal observable; the space built by the constructor has zero goal bounds
        self.observation_space = env.unwrapped.sawyer_observation_space

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        if seed is not None:
            self.env.unwrapped.seed(int(seed))
        task = self.tasks[int(self.env.unwrapped.np_random.integers(len(self.tasks)))]
        self.env.unwrapped.set_task(task)
        return self.env.reset(seed=seed, options=options)


def make_sub_env(env_cls: type, tasks: list, max_episode_steps: int, env_kwargs: dict[str, Any]) -> gym.Env:
    """One MT1 env: a task of ``tasks`` drawn on every reset, truncated after ``max_episode_steps``."""
    return gym.wrappers.TimeLimit(MT1Task(env_cls(**env_kwargs), tasks), max_episode_steps)


def make_vector_env(env_cls: type, tasks: list, max_episode_steps: int, env_kwargs: dict[str, Any],
                    num_envs: int, vectorization: str) -> gym.vector.VectorEnv:
    from functools import partial

    thunks = [partial(make_sub_env, env_cls, tasks, max_episode_steps, env_kwargs)] * int(num_envs)
    autoreset = gym.vector.AutoresetMode.SAME_STEP
    if vectorization == "sync":
        return gym.vector.SyncVectorEnv(thunks, autoreset_mode=autoreset)
    # spawn, not fork: forking a process that runs JAX's threads can deadlock
    return gym.vector.AsyncVectorEnv(thunks, autoreset_mode=autoreset, context="spawn")
