"""The ``tabletop`` suite: Ravens-style pick-and-place tasks in MuJoCo, seen from above."""

from robojax.envs.tabletop.camera import Workspace
from robojax.envs.tabletop.env import TabletopEnv, make_task, task_name
from robojax.envs.tabletop.tasks import TASKS

__all__ = ["TASKS", "TabletopEnv", "Workspace", "make_task", "task_name"]
