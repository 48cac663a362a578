"""Training pieces for host simulators: the collect/update chunk and the evaluator.

They have the same call signatures as the compiled JAX-env chunk and evaluation in
``trainer.py`` (train states carry a leading seed axis of size 1), so the trainer's schedule
of logs, evaluations and checkpoints is the same for both kinds of env.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import jax
import numpy as np

from robojax.evaluation import evaluate_host
from robojax.loops import PolicyOutputs, policy_step
from robojax.metrics import pack_metrics

if TYPE_CHECKING:  # the trainer (imported by agents/base.py) imports this module: annotations only
    from robojax.agents.base import Agent


def _unbatch(tree: Any) -> Any:
    return jax.tree.map(lambda x: x[0], tree)


def _batch(tree: Any) -> Any:
    return jax.tree.map(lambda x: x[None], tree)


class HostChunk:
    """``(state[1], n) -> (state[1], metrics[1, n])``: n x (collect in Python, jitted update).

    The update's jitted call also computes the first policy step of the next collect, without
    consuming the state's key: the collect takes it as it would have computed it. So where a chunk
    ends (logs, evaluations, checkpoints, a resume) does not change a run's random stream. The
    trainer averages the metrics (NaN-aware) as it does the compiled chunk's.
    """

    def __init__(self, agent: Agent, stop: Callable[[], bool] | None = None):
        self.agent = agent
        self.metric_names: list[str] = []
        #: Asked after every train step: a chunk ends early when it says so (Ctrl-C, SIGTERM), since
        #: a host chunk can last minutes. ``steps_done`` tells how many train steps the last call ran.
        self.stop = stop or (lambda: False)
        self.steps_done = 0
        # Donating the state lets XLA update it in place: without it every call would copy
        # the whole state, replay buffer included (168 MB for SAC on HalfCheetah).
        self.update_and_act = jax.jit(self._update_and_act, donate_argnums=0)

    def _update_and_act(self, state: Any, batch: Any) -> tuple[Any, jax.Array, tuple[jax.Array, PolicyOutputs]]:
        """The agent's update, then its behaviour policy's first step of the next rollout
        (``(key after it, outputs)``, as ``HostLoop.rollout`` takes it).

        One jitted call per train step instead of two. The metrics come packed in one vector:
        fetching a dozen scalars one by one would cost ~25 us each.
        """
        state, metrics = self.agent.update(state, batch)
        self.metric_names, packed = pack_metrics(metrics)
        return state, packed, policy_step(self.agent.behaviour, state, state.loop.obs, state.key)

    def __call__(self, state: Any, n: int) -> tuple[Any, dict[str, np.ndarray]]:
        single = _unbatch(state)
        history, first = [], None
        for _ in range(int(n)):
            single, batch = self.agent.collect(single, first=first)
            single, metrics, first = self.update_and_act(single, batch)
            history.append(metrics)
            if self.stop():
                break
        self.steps_done = len(history)
        values = np.stack(jax.device_get(history))  # (n, metrics)
        return _batch(single), _batch({k: values[:, i] for i, k in enumerate(self.metric_names)})


class HostEvaluator:
    """``(state[1], keys[1]) -> results[1, episodes]`` on a vector env kept for evaluations."""

    def __init__(self, agent: Agent, episodes: int, deterministic: bool):
        self.agent = agent
        self.sim = agent.env.create(episodes)
        self.act = jax.jit(lambda state, obs, key: agent.act(state, obs, key, deterministic))

    def __call__(self, state: Any, keys: jax.Array) -> dict[str, np.ndarray]:
        single = _unbatch(state)
        results = evaluate_host(
            self.sim, lambda obs, key: self.act(single, obs, key), keys[0], self.agent.env.max_episode_steps
        )
        return _batch(results)


def reset_host_loop(agent: Agent, state: Any, key: jax.Array) -> Any:
    """After a restore from a checkpoint without the simulators' state: restart their episodes."""
    single = _unbatch(state)
    return _batch(single.replace(loop=agent.loop.reset(key)))
