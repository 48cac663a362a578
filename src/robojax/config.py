"""Typed configs: frozen dataclasses are the source of truth; YAML presets and ``key=value``
command-line overrides are checked against them, field by field.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import types
import typing
from pathlib import Path
from typing import Any, ClassVar

import yaml

from robojax.errors import ConfigError


def _check_min(name: str, value: float, minimum: float) -> None:
    if value < minimum:
        raise ConfigError(f"{name}={value!r}: must be >= {minimum}")


def check_divides(name: str, divisor: int, total_name: str, total: int) -> None:
    """Raise ``ConfigError`` unless ``divisor`` divides ``total`` (a global size split over devices)."""
    if total % divisor:
        raise ConfigError(f"{name}={divisor} must divide {total_name}={total} (each device takes an equal share)")


@dataclasses.dataclass(frozen=True)
class EvalConfig:
    """Evaluation on separate envs: ``episodes`` full episodes every ``interval`` env steps."""

    interval: int = 100_000  # env steps between evaluations; 0 = only at the end
    episodes: int = 16
    deterministic: bool = True  # greedy policy
    stochastic: bool = False  # also evaluate the sampling policy
    video: bool = False  # record one greedy episode (seed 0) to videos/ at each evaluation

    def __post_init__(self):
        _check_min("eval.interval", self.interval, 0)
        _check_min("eval.episodes", self.episodes, 1)


@dataclasses.dataclass(frozen=True)
class LogConfig:
    """Where metrics go; ``interval`` is the number of env steps between host visits."""

    interval: int = 25_000
    console: bool = True
    tensorboard: bool = True
    wandb: bool = False
    wandb_project: str = "robojax"
    wandb_mode: str = "offline"  # offline works without network; "online" syncs

    def __post_init__(self):
        _check_min("logging.interval", self.interval, 1)
        allowed = ("offline", "online", "disabled")
        if self.wandb_mode not in allowed:
            raise ConfigError(f"logging.wandb_mode={self.wandb_mode!r}: allowed values are {list(allowed)}")


@dataclasses.dataclass(frozen=True)
class CheckpointConfig:
    """Periodic checkpoints of the full train state; one is always written at the end."""

    interval: int = 250_000  # env steps; 0 = only at the end
    keep: int = 3  # most recent checkpoints kept on disk

    def __post_init__(self):
        _check_min("checkpoint.interval", self.interval, 0)
        _check_min("checkpoint.keep", self.keep, 1)


@dataclasses.dataclass(frozen=True)
class MeshConfig:
    """The device mesh the train program runs on: ``seeds`` x ``data`` devices (1 x 1: one device).

    ``seeds`` splits the ``num_seeds`` seeds over devices (no communication); ``data`` splits each
    seed's ``num_envs`` envs (and SAC's replay buffer and batch) over devices, which average their
    gradients and statistics every update.
    """

    seeds: int = 1
    data: int = 1

    def __post_init__(self):
        _check_min("mesh.seeds", self.seeds, 1)
        _check_min("mesh.data", self.data, 1)


@dataclasses.dataclass(frozen=True)
class DistributedConfig:
    """How this process joins a multi-process run (``jax.distributed``); not part of a run's config.

    Nothing set: one process. ``coordinator`` (``HOST:PORT`` of process 0), ``num_processes`` and
    ``process_id`` name the run explicitly; ``auto=true`` lets JAX read them from the cluster
    (SLURM, Open MPI, Kubernetes, ...). ``timeout``: seconds to wait for every process at start,
    and for a silent peer during the run.
    """

    coordinator: str | None = None
    num_processes: int | None = None
    process_id: int | None = None
    auto: bool = False
    timeout: int = 60

    def __post_init__(self):
        _check_min("distributed.timeout", self.timeout, 1)
        if self.num_processes is not None:
            _check_min("distributed.num_processes", self.num_processes, 1)
            if self.process_id is not None and not 0 <= self.process_id < self.num_processes:
                raise ConfigError(
                    f"distributed.process_id={self.process_id}: must be in [0, {self.num_processes - 1}] "
                    f"for distributed.num_processes={self.num_processes}"
                )

    @property
    def enabled(self) -> bool:
        return self.auto or any(v is not None for v in (self.coordinator, self.num_processes, self.process_id))


@dataclasses.dataclass(frozen=True)
class BaseConfig:
    """Fields every agent has. Agents subclass it with their hyper-parameters."""

    seed: int = 0
    total_steps: int = 500_000  # env steps per seed
    num_envs: int = 4
    num_seeds: int = 1  # independent seeds trained in one compiled program (vmap)
    eval: EvalConfig = EvalConfig()
    logging: LogConfig = LogConfig()
    checkpoint: CheckpointConfig = CheckpointConfig()
    on_nonfinite: str = "stop"  # NaN/inf parameters or metrics: "stop" before saving them, or "continue"
    # Hyper-parameter sweep: {field: [values]}; the cartesian product of settings x num_seeds
    # trains in one compiled program (vmap). Only fields in SWEEPABLE.
    sweep: dict[str, Any] = dataclasses.field(default_factory=dict)

    #: Fields that only enter the traced computation (no shapes, no Python control flow):
    #: the agent reads them from its train state's ``hparams`` when they are swept.
    SWEEPABLE: ClassVar[tuple[str, ...]] = ()
    mesh: MeshConfig = MeshConfig()

    def __post_init__(self):
        _check_min("total_steps", self.total_steps, 1)
        if self.on_nonfinite not in ("stop", "continue"):
            raise ConfigError(f"on_nonfinite={self.on_nonfinite!r}: allowed values are ['stop', 'continue']")
        _check_min("num_envs", self.num_envs, 1)
        _check_min("num_seeds", self.num_seeds, 1)
        check_divides("mesh.data", self.mesh.data, "num_envs", self.num_envs)
        check_divides("mesh.seeds", self.mesh.seeds, "num_seeds", self.num_seeds)
        if self.sweep:
            self._check_sweep()

    def _check_sweep(self) -> None:
        """Refuse fields that cannot be swept in one program; validate every setting's config."""
        hints = typing.get_type_hints(type(self))
        sweep = {}
        for name, values in self.sweep.items():
            if name not in self.SWEEPABLE:
                kind = "changes shapes or control flow" if name in hints else "is not a config field"
                raise ConfigError(
                    f"sweep.{name}: {name!r} {kind} and cannot be swept in one program; "
                    f"sweepable fields: {', '.join(self.SWEEPABLE) or 'none'}"
                )
            if not isinstance(values, (list, tuple)) or not values:
                raise ConfigError(f"sweep.{name}={values!r}: expected a non-empty list of values")
            sweep[name] = [_convert(v, hints[name], f"sweep.{name}[{i}]") for i, v in enumerate(values)]
        object.__setattr__(self, "sweep", sweep)  # canonical values (YAML reads 1e-3 as a string)
        for setting in self.sweep_settings():
            dataclasses.replace(self, sweep={}, **setting)  # each setting's own checks (ranges, ...)

    def sweep_settings(self) -> list[dict[str, Any]]:
        """The swept settings (cartesian product, last field fastest); ``[{}]`` without a sweep."""
        return sweep_settings(self.sweep)

    @property
    def num_runs(self) -> int:
        """Agents trained in one program: swept settings x seeds (run ``i`` is setting ``i // num_seeds``)."""
        return len(self.sweep_settings()) * self.num_seeds


def sweep_settings(sweep: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """``{a: [1, 2], b: [3]}`` -> ``[{a: 1, b: 3}, {a: 2, b: 3}]`` (cartesian product, last field fastest)."""
    names = list(sweep)
    return [dict(zip(names, values, strict=True)) for values in itertools.product(*sweep.values())]


def with_hparams(config: BaseConfig, hparams: dict[str, Any]) -> BaseConfig:
    """``config`` with its swept fields replaced by (traced) values from a train state's ``hparams``.

    The copy skips ``__post_init__``: tracers cannot be range-checked, and every swept value
    was checked as a concrete setting when the config was built.
    """
    if not hparams:
        return config
    traced = copy.copy(config)
    for name, value in hparams.items():
        object.__setattr__(traced, name, value)
    return traced


@dataclasses.dataclass(frozen=True)
class EnvConfig:
    """The env id ``SUITE/NAME`` and options for its adapter (e.g. ``backend`` for Brax)."""

    id: str = "gymnax/CartPole-v1"
    kwargs: dict[str, Any] = dataclasses.field(default_factory=dict)


def to_dict(config: Any) -> Any:
    """A dataclass config as plain YAML/JSON-friendly data (tuples become lists)."""
    if dataclasses.is_dataclass(config):
        return {f.name: to_dict(getattr(config, f.name)) for f in dataclasses.fields(config)}
    if isinstance(config, (tuple, list)):
        return [to_dict(v) for v in config]
    if isinstance(config, dict):
        return {k: to_dict(v) for k, v in config.items()}
    return config


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _convert(value: Any, tp: Any, key: str) -> Any:
    """Check ``value`` against the annotation ``tp`` and convert it (lists to tuples, ...)."""
    origin = typing.get_origin(tp)
    if tp is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _convert(value, arg, key)
            except ConfigError as e:
                errors.append(e)
        raise ConfigError(f"{key}={value!r}: expected {_type_name(tp)}")
    if dataclasses.is_dataclass(tp):
        if isinstance(value, tp):
            return value
        if not isinstance(value, dict):
            raise ConfigError(f"{key}={value!r}: expected a mapping of {tp.__name__} fields")
        return from_dict(tp, value, prefix=f"{key}.")
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key}={value!r}: expected a list of {_type_name(typing.get_args(tp)[0])}")
        item = typing.get_args(tp)[0]
        return tuple(_convert(v, item, f"{key}[{i}]") for i, v in enumerate(value))
    if origin is dict or tp is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{key}={value!r}: expected a mapping")
        return dict(value)
    if tp in (int, float) and isinstance(value, str):
        try:  # YAML reads "5e5" as a string
            value = float(value)
        except ValueError:
            pass
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():  # 5e5 parses as a float
            return int(value)
    elif tp in (bool, str):
        if isinstance(value, tp):
            return value
    else:
        raise TypeError(f"unsupported config annotation {tp!r} for {key}")
    raise ConfigError(f"{key}={value!r}: expected {_type_name(tp)}, got {type(value).__name__}")


def from_dict(cls: type, data: dict[str, Any], prefix: str = "") -> Any:
    """Build dataclass ``cls`` from ``data``; unknown keys and wrong types raise ``ConfigError``."""
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = [k for k in data if k not in names]
    if unknown:
        raise ConfigError(
            f"unknown config key '{prefix}{unknown[0]}'; allowed keys{' under ' + prefix[:-1] if prefix else ''}: "
            f"{', '.join(names)}"
        )
    defaults = cls()
    kwargs = {}
    for name in names:
        if name not in data:
            continue
        value = data[name]
        if dataclasses.is_dataclass(hints[name]) and isinstance(value, dict):
            # A partial mapping overrides only the fields it names.
            value = {**to_dict(getattr(defaults, name)), **value}
        kwargs[name] = _convert(value, hints[name], prefix + name)
    return cls(**kwargs)


def parse_overrides(overrides: list[str]) -> dict[str, Any]:
    """``["a.b=1", "c=[64, 64]"]`` -> ``{"a": {"b": 1}, "c": [64, 64]}`` (values parsed as YAML)."""
    result: dict[str, Any] = {}
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"override {item!r} is not of the form key=value")
        try:
            value = yaml.safe_load(raw) if raw else ""
        except yaml.YAMLError as e:
            raise ConfigError(f"override {item!r}: value is not valid YAML ({e})") from e
        node = result
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"override {item!r} conflicts with another override of {part!r}")
        node[parts[-1]] = value
    return result


def merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """Recursive dict merge; ``update`` wins."""
    out = dict(base)
    for k, v in update.items():
        out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def load_yaml(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {str(path)!r} does not exist")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as e:
        raise ConfigError(f"config file {str(path)!r} is not valid YAML: {e}") from e
    if not isinstance(data, dict):
        raise ConfigError(f"config file {str(path)!r} must hold a mapping of config keys")
    return data


def split_experiment(config_cls: type, data: dict[str, Any]) -> tuple[EnvConfig, Any]:
    """An experiment mapping (agent fields plus ``env`` and ``algo``) -> ``(EnvConfig, agent config)``."""
    data = dict(data)
    data.pop("algo", None)
    env = data.pop("env", {})
    if isinstance(env, str):
        env = {"id": env}
    env_config = _convert(env, EnvConfig, "env")
    return env_config, from_dict(config_cls, data)


def experiment_dict(algo: str, env: EnvConfig, config: Any) -> dict[str, Any]:
    """The resolved experiment as saved to ``config.yaml``."""
    return {"algo": algo, "env": to_dict(env), **to_dict(config)}
