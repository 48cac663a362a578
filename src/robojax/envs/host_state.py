"""Snapshots of host simulators, so that a resumed run continues their episodes exactly.

A Gymnasium env keeps its state in the Python attributes of its wrapper layers (time-limit
counters, random generators, task variables such as a goal or the previous observation) and,
for MuJoCo envs, in its ``MjData``. A snapshot holds, for every env of a sync vector env, the
plain-data attributes of every layer (numbers, strings, NumPy arrays that own their memory,
NumPy random generators, and containers of these) and a copy of each ``MjData`` (derived
fields included: some envs read body positions before stepping); it also holds the vector
env's own attributes. Attributes known to carry no episode state (spaces, specs, MuJoCo models
and renderers, callables) are left out. Any other attribute (a Box2D world, a handle to another
process) makes the env unsaveable: ``snapshot`` raises ``SimulatorStateError`` naming it, and the
trainer then restarts the episodes on resume, as it says.
"""

from __future__ import annotations

import enum
import functools
import pickle
import sys
import types
from typing import Any

import numpy as np

from robojax.errors import SimulatorStateError


_PLAIN = (type(None), bool, int, float, complex, str, bytes, np.generic, np.random.Generator, enum.Enum)
# Callables, and the (spent) generator of env factories a vector env was made from.
_FUNCTIONS = (types.FunctionType, types.MethodType, types.BuiltinFunctionType, functools.partial, types.GeneratorType)


def _is_plain(value: Any) -> bool:
    if isinstance(value, _PLAIN):
        return True
    if isinstance(value, np.ndarray):
        return _numpy_memory(value) and value.dtype != object
    if isinstance(value, (list, tuple)):
        return all(_is_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_plain(v) for k, v in value.items())
    return False


def _numpy_memory(array: np.ndarray) -> bool:
    """Whether ``array`` lives in NumPy's memory (it or the array it views owns it). A view of
    other memory (MjData's) must keep pointing where it points, so it is never replaced."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array.base is None


def _stateless(value: Any) -> bool:
    """Objects that hold no episode state (or whose state is restored through another attribute)."""
    import gymnasium

    if isinstance(value, (gymnasium.spaces.Space, gymnasium.envs.registration.EnvSpec, type, types.ModuleType,
                          *_FUNCTIONS)):
        return True
    if isinstance(value, np.ndarray):  # a view of MjData: what it shows is restored with its owner
        return True
    if isinstance(value, (list, tuple)):  # e.g. the env factories of a vector env
        return all(_stateless(v) for v in value)
    module = type(value).__module__ or ""
    # MuJoCo models are fixed; renderers draw from the (restored) MjData they point to.
    return module.startswith("mujoco") or "mujoco_rendering" in module


def _layers(env: Any) -> list[Any]:
    """An env's wrapper layers, outermost first, down to the unwrapped env."""
    layers = [env]
    while hasattr(layers[-1], "env"):
        layers.append(layers[-1].env)
    return layers


def _attributes(obj: Any, where: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(plain attributes, MjData attributes)`` of one layer; raises for anything else."""
    mjdata = getattr(sys.modules.get("mujoco"), "MjData", ())  # no MjData unless MuJoCo was imported
    plain, physics = {}, {}
    for name, value in vars(obj).items():
        if name in ("env", "envs"):  # the next layer, and a vector env's envs: saved on their own
            continue
        if isinstance(value, mjdata):
            physics[name] = value
        elif _is_plain(value):
            plain[name] = value
        elif not _stateless(value):
            raise SimulatorStateError(
                f"{where}: attribute {name!r} ({type(value).__module__}.{type(value).__name__}) cannot be saved"
            )
    return plain, physics


def snapshot(vector_env: Any, name: str) -> tuple:
    """The state of a Gymnasium sync vector env and of its envs (picklable)."""
    if not hasattr(vector_env, "envs"):
        raise SimulatorStateError(f"{name}: only sync vector envs can be saved (async ones run in other processes)")
    vector = _attributes(vector_env, f"{name} vector env")[0]
    envs = []
    for i, env in enumerate(vector_env.envs):
        layers = []
        for layer in _layers(env):
            plain, physics = _attributes(layer, f"{name} env {i} {type(layer).__name__}")
            layers.append((type(layer).__name__, plain, {k: pickle.dumps(v) for k, v in physics.items()}))
        envs.append(layers)
    return vector, envs


def _copy_mjdata(dst: Any, model: Any, src: Any) -> None:
    """Make ``dst`` a copy of ``src`` (same model) in place."""
    import mujoco

    if hasattr(mujoco, "mj_copyData"):
        mujoco.mj_copyData(dst, model, src)
        return
    # Older bindings (MetaWorld pins mujoco 3.3): the integration state, from which the next step
    # computes everything, then every array of the same shape, for derived values an env reads
    # before it steps (body positions).
    spec = mujoco.mjtState.mjSTATE_INTEGRATION
    state = np.empty(mujoco.mj_stateSize(model, spec))
    mujoco.mj_getState(model, src, state, spec)
    mujoco.mj_setState(model, dst, state, spec)
    for field in dir(src):
        value = getattr(src, field)
        if isinstance(value, np.ndarray) and not field.startswith("_"):
            target = getattr(dst, field)
            if target.shape == value.shape and target.flags.writeable:
                target[...] = value


def restore(vector_env: Any, saved: tuple, name: str) -> None:
    """Put a ``snapshot`` back into a vector env made the same way (same env, same number)."""
    vector, envs = saved
    if len(envs) != len(vector_env.envs):
        raise SimulatorStateError(f"{name}: the snapshot has {len(envs)} envs, this vector env {len(vector_env.envs)}")
    for env, env_saved in zip(vector_env.envs, envs, strict=True):
        layers = _layers(env)
        kinds = [type(layer).__name__ for layer in layers]
        if kinds != [kind for kind, _, _ in env_saved]:
            raise SimulatorStateError(f"{name}: the snapshot's wrappers {[k for k, _, _ in env_saved]} are not {kinds}")
        for layer, (_, plain, physics) in zip(layers, env_saved, strict=True):
            for key, value in plain.items():
                setattr(layer, key, value)
            for key, data in physics.items():
                # Copied into the live MjData, which renderers and views keep pointing to.
                _copy_mjdata(getattr(layer, key), getattr(layer, "model"), pickle.loads(data))
    for key, value in vector.items():
        setattr(vector_env, key, value)
