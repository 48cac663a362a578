"""Env ids ``SUITE/NAME`` and the factory that builds a wrapped, ready-to-train env."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from robojax.envs import brax_suite, gymnasium_suite, gymnax_suite, maniskill_suite, metaworld_suite, pixels_suite
from robojax.envs.core import Env
from robojax.envs.frame_stack import FrameStack, FrameStackHostEnv, check_frame_stack
from robojax.envs.history import History
from robojax.envs.host import HostEnv
from robojax.envs.pointcloud import PointCloud
from robojax.envs.spaces import Discrete
from robojax.envs.wrappers import AutoReset, EpisodeStatistics, OneHotObservation, TimeLimit
from robojax.errors import EnvError

# suite -> (list names, build the raw env): JAX envs (Env) or host simulators (HostEnv).
# Adapters import their simulator lazily; without it, listing names raises EnvError naming the extra.
SUITES: dict[str, tuple[Callable[[], list[str]], Callable[..., Env | HostEnv]]] = {
    "gymnax": (gymnax_suite.available, gymnax_suite.GymnaxEnv),
    "brax": (brax_suite.available, brax_suite.BraxEnv),
    "gymnasium": (gymnasium_suite.available, gymnasium_suite.GymnasiumEnv),
    "metaworld": (metaworld_suite.available, metaworld_suite.MetaWorldEnv),
    "maniskill": (maniskill_suite.available, maniskill_suite.ManiSkillEnv),
    "pixels": (pixels_suite.available, pixels_suite.make_pixels_env),
}


# suite -> what an id lacks on this machine (a missing package or download), or None. ``list_envs``
# leaves such ids out; ``make_env`` still tries them and fails with one ``EnvError`` line.
MISSING: dict[str, Callable[[str], str | None]] = {
    "gymnax": gymnax_suite.missing,
    "gymnasium": gymnasium_suite.missing,
}


#: Tasks learned from demonstrations (pick and place poses from a top-down image), not RL envs.
DEMO_SUITE, DEMO_AGENTS = "tabletop", "transporter, conv_mlp"


def demo_tasks() -> list[str]:
    """``tabletop/NAME`` ids, for the demonstration agents."""
    from robojax.envs.tabletop import TASKS

    return [f"{DEMO_SUITE}/{name}" for name in TASKS]


def parse_env_id(env_id: str) -> tuple[str, str]:
    suite, sep, name = env_id.partition("/")
    if not sep or not name:
        raise EnvError(f"env id {env_id!r} is not of the form SUITE/NAME (suites: {', '.join(SUITES)})")
    if suite == DEMO_SUITE:
        raise EnvError(
            f"{env_id!r} is a pick-and-place task for the demonstration agents ({DEMO_AGENTS}: robojax train "
            f"transporter --env {env_id}), not an env with steps and rewards for RL agents"
        )
    if suite not in SUITES:
        raise EnvError(f"unknown env suite {suite!r} in {env_id!r}; available suites: {', '.join(SUITES)}")
    return suite, name


def _suite_names(suite: str) -> list[str]:
    if suite not in SUITES:
        raise EnvError(f"unknown env suite {suite!r}; available suites: {', '.join(SUITES)}")
    return SUITES[suite][0]()


def list_envs(suite: str | None = None) -> list[str]:
    """The ids that can run here, of the installed suites or of one suite (an error naming the
    extra to install if its simulator is missing). ``missing_envs`` has the ones left out."""
    left_out = missing_envs(suite)
    return [env_id for env_id in _all_ids(suite) if env_id not in left_out]


def missing_envs(suite: str | None = None) -> dict[str, str]:
    """Registered ids that cannot run on this machine, with what each lacks."""
    out = {}
    for env_id in _all_ids(suite):
        s, name = parse_env_id(env_id)
        why = MISSING[s](name) if s in MISSING else None
        if why is not None:
            out[env_id] = why
    return out


def _all_ids(suite: str | None) -> list[str]:
    if suite is not None:
        return [f"{suite}/{name}" for name in _suite_names(suite)]
    ids = []
    for s in SUITES:
        try:
            ids += [f"{s}/{name}" for name in _suite_names(s)]
        except EnvError:  # optional simulator not installed
            continue
    return ids


def make_env(env_id: str, **kwargs: Any) -> Env | HostEnv:
    """Build ``SUITE/NAME``: a JAX env with a time limit, episode statistics and auto-reset, or
    a ``HostEnv`` for a host-side simulator (which its vector env auto-resets). Discrete
    observations are presented one-hot (``OneHotObservation``; Gymnasium's ``FlattenObservation``
    on host simulators).

    ``kwargs`` go to the suite adapter, e.g. ``max_episode_steps=200``, for Brax
    ``backend="generalized"``, for Gymnasium ``vectorization="async"``; except the observation
    wrappers: ``frame_stack=k`` stacks the last ``k`` observations along channels (any suite);
    for JAX envs ``pointcloud`` (a mapping of ``PointCloud`` options, or ``True``) and ``history``
    (a window length K for ``History``), applied in that order under the time limit.
    """
    kwargs = dict(kwargs)
    frame_stack = check_frame_stack(kwargs.pop("frame_stack", 1))
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
        return FrameStackHostEnv(raw, frame_stack) if frame_stack > 1 else raw
    if isinstance(raw.observation_space, Discrete):
        raw = OneHotObservation(raw)
    if pointcloud is not None and pointcloud is not False:
        try:
            raw = PointCloud(raw, **(pointcloud if isinstance(pointcloud, dict) else {}))
        except TypeError as e:
            raise EnvError(f"bad pointcloud options {pointcloud} for {env_id}: {e}") from e
    if history is not None:
        raw = History(raw, history)
    raw = FrameStack(raw, frame_stack) if frame_stack > 1 else raw
    env = TimeLimit(raw, raw.max_episode_steps) if raw.max_episode_steps else raw
    return AutoReset(EpisodeStatistics(env))
