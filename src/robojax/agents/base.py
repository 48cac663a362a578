"""What every agent provides, and the shared ``train`` entry point.

An agent is a frozen config plus an env. Its whole state is one pytree (``init``), and
``train_step`` is ``update(collect(state))``: collect a rollout through the env loop (a
``JaxLoop`` for JAX envs, a ``HostLoop`` for Python simulators), then learn from it. The agent
never looks at which suite or loop it runs on.
"""

from __future__ import annotations

import abc
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import jax
import jax.numpy as jnp

from robojax.config import BaseConfig, EnvConfig, with_hparams
from robojax.envs import Env, HostEnv, make_env
from robojax.errors import ConfigError
from robojax.loops import HostLoop, JaxLoop, PolicyOutputs, Transition

if TYPE_CHECKING:
    from robojax.trainer import TrainResult


class Agent(abc.ABC):
    """Base class of ``PPO``, ``SAC``, ...: subclasses define ``init``, ``behaviour``, ``update`` and ``act``.

    Train states are flax struct dataclasses with (at least) a ``loop``, a ``key`` and an
    ``hparams`` field (``init_hparams()``). Fields listed in the config's ``SWEEPABLE`` must be
    read through ``hyperparams(state)`` so that a sweep can trace them.
    """

    #: Name used on the command line and in run directories.
    name: ClassVar[str]
    #: The agent's config dataclass (a subclass of ``BaseConfig``).
    config_cls: ClassVar[type[BaseConfig]]

    def __init__(self, config: BaseConfig, env: Env | HostEnv | str | EnvConfig):
        if not isinstance(config, self.config_cls):
            raise TypeError(f"{type(self).__name__} needs a {self.config_cls.__name__}, got {type(config).__name__}")
        if isinstance(env, str):
            env = EnvConfig(id=env)
        self.env_config = env if isinstance(env, EnvConfig) else None
        self.env = make_env(env.id, **env.kwargs) if isinstance(env, EnvConfig) else env
        self.config = config
        if isinstance(self.env, HostEnv):
            if config.num_seeds != 1:
                raise ConfigError(
                    f"num_seeds={config.num_seeds}: several seeds in one program need a JAX env "
                    "(gymnax, brax); host simulators train one seed per process"
                )
            if config.sweep:
                raise ConfigError(
                    f"sweep.{next(iter(config.sweep))}: sweeps in one program need a JAX env (gymnax, brax); "
                    "host simulators train one setting per process"
                )
            self.loop: JaxLoop | HostLoop = HostLoop(self.env, config.num_envs)
        else:
            self.loop = JaxLoop(self.env, config.num_envs)

    @abc.abstractmethod
    def init(self, key: jax.Array) -> Any:
        """The initial train state of one seed (a pytree with the loop state in a ``loop`` field)."""

    def init_hparams(self) -> dict[str, jax.Array]:
        """The ``hparams`` field of a fresh train state: the swept fields' first setting, as arrays.

        The trainer overwrites them with each run's setting; ``hyperparams`` reads them back.
        """
        return {name: jnp.asarray(values[0], jnp.float32) for name, values in self.config.sweep.items()}

    def hyperparams(self, state: Any) -> BaseConfig:
        """The config to compute with: swept fields are the traced values in ``state.hparams``."""
        return with_hparams(self.config, state.hparams)

    @property
    @abc.abstractmethod
    def rollout_length(self) -> int:
        """Env steps per env that one ``collect`` takes (``T`` of its ``(T, N, ...)`` data)."""

    @abc.abstractmethod
    def behaviour(self, state: Any, obs: jax.Array, key: jax.Array) -> PolicyOutputs:
        """The policy that collects data (a ``PolicyFn`` whose params are the whole train state)."""

    def collect(self, state: Any, first: tuple[jax.Array, PolicyOutputs] | None = None) -> tuple[Any, Transition]:
        """Step the env loop ``rollout_length`` times with ``behaviour``; returns the state (new loop
        state and RNG key) and ``(T, N, ...)`` data.

        Jittable on a ``JaxLoop``; on a ``HostLoop`` it runs in Python, one jitted policy call per
        step and no other device work (the update takes the NumPy data as it is). ``first``: see
        ``HostLoop.rollout``.
        """
        loop_state, batch, key = self.loop.rollout(
            state.loop, self.behaviour, state, state.key, self.rollout_length, first=first
        )
        return state.replace(loop=loop_state, key=key), batch

    @abc.abstractmethod
    def update(self, state: Any, batch: Transition) -> tuple[Any, dict[str, jax.Array]]:
        """Learn from ``batch`` (always jittable); returns scalar metrics (NaN where undefined)."""

    def train_step(self, state: Any) -> tuple[Any, dict[str, jax.Array]]:
        """One collect + update; pure and jittable on JAX envs."""
        return self.update(*self.collect(state))

    @abc.abstractmethod
    def act(self, state: Any, obs: jax.Array, key: jax.Array, deterministic: bool) -> jax.Array:
        """Env actions for a batch of observations, using the train state's current policy."""

    def guarded(self, state: Any) -> Any:
        """The part of ``state`` that must stay finite (checked at every host visit): the parameters."""
        return state.params

    def checkpoint_view(self, state: Any) -> Any:
        """The part of ``state`` written to checkpoints (all of it unless an agent drops e.g. a buffer)."""
        return state

    def from_checkpoint_view(self, view: Any, fresh: Any) -> Any:
        """Rebuild a full state from a restored ``checkpoint_view`` and a freshly initialised ``fresh``."""
        return view

    def data_sharded(self, state: Any) -> Any:
        """``state``'s structure with ``True`` where a leaf's leading axis is split over a data mesh.

        By default the envs (the loop state); an agent adds per-device parts such as a replay shard.
        """
        flags = jax.tree.map(lambda _: False, state)
        return flags.replace(loop=jax.tree.map(lambda _: True, state.loop))

    @property
    def steps_per_train_step(self) -> int:
        """Env steps (summed over the parallel envs) that one ``train_step`` collects."""
        return self.config.num_envs * self.rollout_length

    @property
    def num_train_steps(self) -> int:
        return math.ceil(self.config.total_steps / self.steps_per_train_step)

    def train(self, run_dir: str | Path | None = None, resume: bool = False) -> TrainResult:
        """Train for ``config.total_steps`` env steps with evaluation, logging and checkpoints.

        ``run_dir`` receives ``config.yaml``, ``metrics.jsonl``, ``summary.json``, TensorBoard
        events and ``checkpoints/``; by default ``runs/<algo>_<env>_<time>``. With
        ``resume=True`` training continues from the latest checkpoint in ``run_dir``.
        """
        from robojax.trainer import Trainer

        return Trainer(self, run_dir=run_dir, resume=resume).run()
