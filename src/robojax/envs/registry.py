"""Env ids ``SUITE/NAME`` and the factory that builds a wrapped, ready-to-train env."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from robojax.envs import brax_suite, gymnasium_suite, gymnax_suite, maniskill_suite, metaworld_suite
from robojax.envs.core import Env
from robojax.envs.history import History
from robojax.envs.host import HostEnv
from robojax.envs.pointcloud import PointCloud
from robojax.envs.wrappers import AutoReset, EpisodeStatistics, TimeLimit
from robojax.errors import EnvError

# suite -> (list names, build the raw env): JAX envs (Env) or host simulators (HostEnv).
# Adapters import their simulator lazily; without it, listing names raises EnvError naming the extra.
SUITES: dict[str, tuple[Callable[[], list[str]], Callable[..., Env | HostEnv]]] = {
    "gymnax": (gymnax_suite.available, gymnax_suite.GymnaxEnv),
    "brax": (brax_suite.available, brax_suite.BraxEnv),
    "gymnasium": (gymnasium_suite.available, gymnasium_suite.GymnasiumEnv),
    "metaworld": (metaworld_suite.available, metaworld_suite.MetaWorldEnv),
    "maniskill": (maniskill_suite.available, maniskill_suite.ManiSkillEnv),
}


def parse_env_id(env_id: str) -> tuple[str, str]:
    suite, sep, name = env_id.partition("/")
    if not sep or not name:
        raise EnvError(f"env id {env_id!r} is not of the form SUITE/NAME (suites: {', '.join(SUITES)})")
    if suite not in SUITES:
        raise EnvError(f"unknown env suite {suite!r} in {env_id!r}; available suites: {', '.join(SUITES)}")
    return suite, name


def list_envs(suite: str | None = None) -> list[str]:
    """All env ids of the installed suites, or those of one suite (an error naming the extra
    to install if its simulator is missing)."""
    if suite is not None:
        if suite not in SUITES:
            raise EnvError(f"unknown env suite {suite!r}; available suites: {', '.join(SUITES)}")
        return [f"{suite}/{name}" for name in SUITES[suite][0]()]
    ids = []
    for s, (names, _) in SUITES.items():
        try:
            ids += [f"{s}/{name}" for name in names()]
        except EnvError:  # optional simulator not installed
            continue
    return ids


def make_env(env_id: str, **kwargs: Any) -> Env | HostEnv:
    """Build ``SUITE/NAME``: a JAX env with a time limit, episode statistics and auto-reset, or
    a ``HostEnv`` for a host-side simulator (which its vector env auto-resets).

    ``kwargs`` go to the suite adapter, e.g. ``max_episode_steps=200``, for Brax
    ``backend="generalized"``, for Gymnasium ``vectorization="async"``, except two observation
    wrappers of JAX envs: ``pointcloud`` (a mapping of ``PointCloud`` options, or ``True``) and
    ``history`` (a window length K for ``History``), applied in that order under the time limit.
    """
    pointcloud, history = kwargs.pop("pointcloud", None), kwargs.pop("history", None)
    suite, name = parse_env_id(env_id)
    names, build = SUITES[suite]
    known = names()
    if name not in known:
        raise EnvError(f"unknown {suite} env {name!r}; available: {', '.join(known)}")
    try:
        raw = build(name, **kwargs)
    except TypeError as e:
        raise EnvError(f"bad options {kwargs} for {env_id}: {e}") from e
    if isinstance(raw, HostEnv):
        if pointcloud is not None or history is not None:
            raise EnvError(f"{env_id}: the pointcloud and history options are for JAX envs (gymnax, brax)")
        return raw
    if pointcloud is not None and pointcloud is not False:
        try:
            raw = PointCloud(raw, **(pointcloud if isinstance(pointcloud, dict) else {}))
        except TypeError as e:
            raise EnvError(f"bad pointcloud options {pointcloud} for {env_id}: {e}") from e
    if history is not None:
        raw = History(raw, history)
    env = TimeLimit(raw, raw.max_episode_steps) if raw.max_episode_steps else raw
    return AutoReset(EpisodeStatistics(env))
