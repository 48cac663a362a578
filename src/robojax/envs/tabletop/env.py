"""``TabletopEnv``: one tabletop task episode at a time, observed as top-down maps."""

from __future__ import annotations

from typing import Any

import numpy as np

from robojax.envs.tabletop.camera import Workspace, render
from robojax.envs.tabletop.sim import Scene
from robojax.envs.tabletop.tasks import TASKS, Goal, Task, score
from robojax.errors import EnvError


def make_task(name: str, pixel_size: float = Workspace.pixel_size) -> Task:
    """The task ``name`` (without the ``tabletop/`` prefix) on a workspace of ``pixel_size``."""
    if name not in TASKS:
        raise EnvError(f"unknown tabletop task {name!r}; available: {', '.join(TASKS)}")
    return TASKS[name](Workspace(pixel_size=pixel_size))


def task_name(env_id: str) -> str:
    """``tabletop/NAME`` -> ``NAME``, with a clear error for other ids."""
    suite, sep, name = env_id.partition("/")
    if suite != "tabletop" or not sep:
        raise EnvError(f"env id {env_id!r}: this agent needs a tabletop task, tabletop/NAME with NAME in {', '.join(TASKS)}")
    if name not in TASKS:
        raise EnvError(f"unknown tabletop task {name!r}; available: {', '.join(TASKS)}")
    return name


class TabletopEnv:
    """Pick-and-place episodes of one task. Observation: ``{"color": (H, W, 3) uint8,
    "height": (H, W) float32}``; action: ``pick`` (x, y) and ``place`` (x, y, yaw) in metres and
    radians; reward: the change in score; the episode ends when solved or after ``max_steps``."""

    def __init__(self, task: str | Task, pixel_size: float = Workspace.pixel_size):
        self.task = make_task(task, pixel_size) if isinstance(task, str) else task
        self.ws = self.task.ws
        self.scene: Scene | None = None
        self.goal: Goal | None = None

    def reset(self, seed: int) -> dict[str, np.ndarray]:
        self.rng = np.random.default_rng(seed)
        bodies, self.goal = self.task.layout(self.rng)
        self.scene = Scene(bodies)
        self.steps, self.last_score = 0, self.score()
        return self.observe()

    def observe(self) -> dict[str, np.ndarray]:
        color, height = render(self.scene.model, self.scene.data, self.ws)
        return {"color": color, "height": height}

    def score(self) -> float:
        return score(self.goal, {n: self.scene.pose(n) for n in self.goal.bodies})

    def step(self, pick: np.ndarray, place: np.ndarray) -> tuple[dict[str, np.ndarray], float, bool, dict[str, Any]]:
        self.scene.pick_and_place(np.asarray(pick, np.float64), np.asarray(place, np.float64))
        self.steps += 1
        new = self.score()
        reward, self.last_score = new - self.last_score, new
        done = new >= 1.0 or self.steps >= self.task.max_steps
        return self.observe(), reward, done, {"score": new}

    def oracle(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The scripted demonstrator's next (pick, place), or None when nothing is left to do."""
        return self.task.oracle(self.scene, self.goal, self.rng)
