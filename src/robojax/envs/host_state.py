"""Snapshots of host simulators, so that a resumed run continues their episodes exactly.

A Gymnasium env keeps its state in the Python attributes of its wrapper layers (time-limit
counters, random generators, task variables such as a goal or the previous observation) and,
for MuJoCo envs, in its ``MjData`` and in whatever of its ``MjModel`` it changes (MetaWorld
moves bodies and sites at every reset). A snapshot holds, for every env of a sync vector env:

- the plain-data attributes of every layer (numbers, strings, NumPy arrays, NumPy random
  generators, enums and lists, tuples and dicts of these);
- for each ``MjData`` (once, however many layers refer to it): every array of it and of its
  model, and the integration state (derived arrays too: some envs read body positions before
  they step);

and the vector env's own attributes. Left out, as holding no episode state: spaces, env specs,
classes, modules, functions (and partials, generators), MuJoCo models and renderers (the arrays
of a model are saved with its data), and NumPy views of MuJoCo's memory (restored with their
owner). Any other attribute (a Box2D world, a pygame screen, a handle to another process)
makes the env unsaveable: ``snapshot`` raises ``SimulatorStateError`` naming it, and the trainer
then says that a resume restarts the episodes. Not saved either: Python's and NumPy's global
random state, which Gymnasium envs do not use (they draw from their own ``np_random``).
"""

from __future__ import annotations

import copy
import enum
import functools
import pickle
import sys
import types
import zlib
from typing import Any

import numpy as np

from robojax.errors import SimulatorStateError

_SCALARS = (type(None), bool, int, float, complex, str, bytes, np.generic, np.random.Generator, enum.Enum)
# Callables, and the (spent) generator of env factories a vector env was made from.
_FUNCTIONS = (types.FunctionType, types.MethodType, types.BuiltinFunctionType, functools.partial, types.GeneratorType)


def _mujoco_view(array: np.ndarray) -> bool:
    """Whether ``array`` views memory that a C extension owns (MuJoCo's ``MjData``/``MjModel``
    arrays): it must keep pointing there, and what it shows is restored with its owner."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return type(array.base).__name__ == "PyCapsule"


def _is_plain(value: Any) -> bool:
    if isinstance(value, _SCALARS):
        return True
    if isinstance(value, np.ndarray):
        return value.dtype != object and not _mujoco_view(value)
    if isinstance(value, (list, tuple)):
        return all(_is_plain(v) for v in value)
    if isinstance(value, dict):
        return all(_is_plain(k) and _is_plain(v) for k, v in value.items())
    return False


def _stateless(value: Any) -> bool:
    """Objects that hold no episode state (or whose state is saved through another attribute)."""
    import gymnasium

    if isinstance(value, (gymnasium.spaces.Space, gymnasium.envs.registration.EnvSpec, type, types.ModuleType,
                          *_FUNCTIONS)):
        return True
    if isinstance(value, np.ndarray):
        return value.dtype != object and _mujoco_view(value)
    if isinstance(value, (list, tuple)):  # e.g. the env factories of a vector env
        return all(_stateless(v) for v in value)
    module = type(value).__module__ or ""
    # MjModel (its arrays are saved with the MjData), and renderers, which draw from the MjData.
    return module.startswith("mujoco") or "mujoco_rendering" in module


def _layers(env: Any) -> list[Any]:
    """An env's wrapper layers, outermost first, down to the unwrapped env."""
    layers = [env]
    while hasattr(layers[-1], "env"):
        layers.append(layers[-1].env)
    return layers


def _model_of(layer: Any, env: Any) -> Any:
    """The ``MjModel`` of a layer's ``MjData``: the layer's own, or the unwrapped env's."""
    return getattr(layer, "model", None) or env.unwrapped.model


def _arrays(struct: Any) -> dict[str, np.ndarray]:
    """Copies of the writeable array fields of an ``MjModel`` or ``MjData``."""
    fields = {}
    for field in dir(struct):
        if not field.startswith("_"):
            value = getattr(struct, field)
            if isinstance(value, np.ndarray) and value.flags.writeable:
                fields[field] = value.copy()
    return fields


def _save_physics(data: Any, model: Any) -> dict[str, Any]:
    import mujoco

    spec = mujoco.mjtState.mjSTATE_INTEGRATION
    state = np.empty(mujoco.mj_stateSize(model, spec))
    mujoco.mj_getState(model, data, state, spec)
    return {"model": _arrays(model), "data": _arrays(data), "integration": state}


def _load_physics(data: Any, model: Any, saved: dict[str, Any]) -> None:
    """Into the live ``MjModel``/``MjData`` (renderers and views keep pointing to them)."""
    import mujoco

    for struct, arrays in ((model, saved["model"]), (data, saved["data"])):
        for field, value in arrays.items():
            target = getattr(struct, field)
            if target.shape == value.shape:  # arrays in MjData's arena are sized by the contacts
                target[...] = value
    mujoco.mj_setState(model, data, saved["integration"], mujoco.mjtState.mjSTATE_INTEGRATION)


def _check_picklable(value: Any, where: str, name: str) -> None:
    try:
        pickle.dumps(value)
    except Exception as e:  # noqa: BLE001 - pickle raises many kinds (AttributeError for a local lambda, TypeError, ...)
        raise SimulatorStateError(f"{where}: attribute {name!r} cannot be saved ({e})") from e


def _layer_state(layer: Any, env: Any, where: str, physics: dict[int, dict]) -> tuple[dict, dict]:
    """``(plain attributes, {attribute: id of its MjData})`` of one layer; an ``MjData`` goes into
    ``physics`` once, under its id. Raises for an attribute of any other kind."""
    mjdata = getattr(sys.modules.get("mujoco"), "MjData", ())  # no MjData unless MuJoCo was imported
    plain, refs = {}, {}
    for name, value in vars(layer).items():
        if name in ("env", "envs"):  # the next layer, and a vector env's envs: saved on their own
            continue
        if isinstance(value, mjdata):
            if id(value) not in physics:
                physics[id(value)] = _save_physics(value, _model_of(layer, env))
            refs[name] = id(value)
        elif _is_plain(value):
            if not isinstance(value, (np.ndarray, str, bytes, int, float, bool, type(None))):
                _check_picklable(value, where, name)  # a container of a local class, a defaultdict of a lambda
            plain[name] = value
        elif not _stateless(value):
            raise SimulatorStateError(
                f"{where}: attribute {name!r} ({type(value).__module__}.{type(value).__name__}) cannot be saved"
            )
    return plain, refs


def snapshot(vector_env: Any, name: str) -> tuple:
    """The state of a Gymnasium sync vector env and of its envs (picklable: see ``encode``)."""
    if not hasattr(vector_env, "envs"):
        raise SimulatorStateError(f"{name}: only sync vector envs can be saved (async ones run in other processes)")
    vector = _layer_state(vector_env, vector_env, f"{name} vector env", {})[0]
    envs = []
    for i, env in enumerate(vector_env.envs):
        physics: dict[int, dict] = {}
        layers = [(type(layer).__name__, *_layer_state(layer, env, f"{name} env {i} {type(layer).__name__}", physics))
                  for layer in _layers(env)]
        envs.append((layers, physics))
    # Copied (in one go, so attributes that share an object still do): the envs step on.
    return copy.deepcopy((vector, envs))


def restore(vector_env: Any, saved: tuple, name: str) -> None:
    """Put a ``snapshot`` back into a vector env made the same way (same env, same number);
    checks that they match before changing anything."""
    vector, envs = saved
    if len(envs) != len(getattr(vector_env, "envs", ())):
        raise SimulatorStateError(f"{name}: the snapshot has {len(envs)} envs, this vector env is not the same")
    for env, (layers, _) in zip(vector_env.envs, envs, strict=True):
        kinds = [type(layer).__name__ for layer in _layers(env)]
        if kinds != [kind for kind, _, _ in layers]:
            raise SimulatorStateError(f"{name}: the snapshot's wrappers {[k for k, _, _ in layers]} are not {kinds}")
    for env, (layers, physics) in zip(vector_env.envs, envs, strict=True):
        for layer, (_, plain, refs) in zip(_layers(env), layers, strict=True):
            for key, value in plain.items():
                setattr(layer, key, value)
            for key, data_id in refs.items():
                _load_physics(getattr(layer, key), _model_of(layer, env), physics[data_id])
    for key, value in vector.items():
        setattr(vector_env, key, value)


def encode(state: Any) -> bytes:
    """A host vector env's ``get_state()`` as compressed bytes, for a checkpoint."""
    return zlib.compress(pickle.dumps(state), 1)


def decode(blob: bytes) -> Any:
    """The inverse of ``encode`` (a pickle: only for checkpoints one trusts)."""
    return pickle.loads(zlib.decompress(blob))
