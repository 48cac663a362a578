"""The host loop: Python simulators stepped on the host, the policy one jitted call per step.

It produces the same ``Transition`` fields and ``(T, N, ...)`` layout as ``JaxLoop``, so an
agent cannot tell which loop feeds it. Per step, one observation batch goes to the device and
the policy's outputs come back in one copy; the rollout is stacked on the host and sent to the
device as NumPy arrays, which the jitted update takes in one call (``jax.device_put`` of a
pytree costs ~15 us per leaf in Python; a jitted function's NumPy arguments cost ~0.5 us).
"""

from __future__ import annotations

import functools
import time
from typing import Any

import jax
import numpy as np

from robojax.envs.host import HostEnv
from robojax.loops.core import LoopState, PolicyFn, PolicyOutputs, Transition, policy_step


class HostLoop:
    """Steps ``num_envs`` simulators of a ``HostEnv`` (not jittable: called from Python)."""

    jittable = False

    def __init__(self, env: HostEnv, num_envs: int):
        self.env = env
        self.num_envs = int(num_envs)
        self.sim = env.create(self.num_envs)
        self._compiled: dict[Any, Any] = {}
        #: Seconds in the simulator, waiting for and fetching the policy outputs (which includes
        #: the device finishing the previous update), and stacking the rollout.
        self.timers = {"env_s": 0.0, "policy_s": 0.0, "stack_s": 0.0}

    def reset(self, key: jax.Array) -> LoopState:
        """Reset all simulators; env ``i`` gets seed ``s + i`` with ``s`` drawn from ``key``."""
        seed = int(jax.random.randint(key, (), 0, 2**31 - 1 - self.num_envs))
        return LoopState(env_state=np.zeros((), np.int32), obs=self.sim.reset(seed))

    def _policy_step(self, policy: PolicyFn):
        if policy not in self._compiled:
            self._compiled[policy] = jax.jit(functools.partial(policy_step, policy))
        return self._compiled[policy]

    def rollout(
        self,
        state: LoopState,
        policy: PolicyFn,
        params: Any,
        key: jax.Array,
        num_steps: int,
        first: tuple[jax.Array, PolicyOutputs] | None = None,
    ) -> tuple[LoopState, Transition, jax.Array]:
        """``num_steps`` steps of all simulators; returns the new state, ``(T, N, ...)`` data and the next key.

        The data and the new state's observation are NumPy arrays (on the host). ``first``: the
        policy's first step, already computed from ``(params, state.obs, key)``, as ``(key after
        it, outputs)``; the host trainer computes it in the same jitted call as the update, which
        saves one dispatch and wake-up of the device per step.
        """
        step_fn = self._policy_step(policy)
        obs = jax.tree.map(np.asarray, state.obs)
        observations, actions, extras, sim_steps = [], [], [], []
        for i in range(num_steps):
            t = time.perf_counter()
            if i > 0 or first is None:
                key, outputs = step_fn(params, obs, key)
            else:
                key, outputs = first
            # Busy-wait rather than sleep in device_get: waking a thread that slept through
            # a SAC update cost 5-10% of the step rate on a 2-core VM (benchmarks/RESULTS.md).
            while not outputs[0].is_ready():
                pass
            env_action, action, extra = jax.device_get(outputs)  # one device -> host copy per step
            t2 = time.perf_counter()
            step = self.sim.step(env_action)
            self.timers["policy_s"] += t2 - t
            self.timers["env_s"] += time.perf_counter() - t2
            observations.append(obs)
            actions.append(action)
            extras.append(extra)
            sim_steps.append(step)
            obs = step.obs
        t = time.perf_counter()
        batch = Transition(
            obs=_stack(observations),
            action=np.stack(actions),
            reward=np.stack([s.reward for s in sim_steps]),
            terminated=np.stack([s.terminated for s in sim_steps]),
            truncated=np.stack([s.truncated for s in sim_steps]),
            next_obs=_stack([s.final_obs for s in sim_steps]),
            extras={k: np.stack([e[k] for e in extras]) for k in extras[0]},
            info={k: np.stack([s.info[k] for s in sim_steps]) for k in sim_steps[0].info},
        )
        self.timers["stack_s"] += time.perf_counter() - t
        return LoopState(state.env_state, obs), batch, key


def _stack(observations: list[Any]) -> Any:
    """Stack per-step observations (arrays or dicts of arrays) along a new leading time axis."""
    return jax.tree.map(lambda *xs: np.stack(xs), *observations)
