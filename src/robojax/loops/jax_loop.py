"""The JAX loop: ``lax.scan`` over time of a ``vmap``-ed env step with the policy inside.

Every array in a rollout is laid out ``(T, N, ...)``: time first, then environment.
"""

from __future__ import annotations

from typing import Any

import jax

from robojax.envs.core import Env
from robojax.loops.core import LoopState, PolicyFn, Transition


class JaxLoop:
    """Steps ``num_envs`` copies of a JAX env, entirely on device (jittable)."""

    jittable = True

    def __init__(self, env: Env, num_envs: int):
        self.env = env
        self.num_envs = int(num_envs)

    def reset(self, key: jax.Array) -> LoopState:
        """Reset every env with its own key, so no two start from the same state."""
        env_state, ts = jax.vmap(self.env.reset)(jax.random.split(key, self.num_envs))
        return LoopState(env_state, ts.obs)

    def step(self, state: LoopState, policy: PolicyFn, params: Any, key: jax.Array) -> tuple[LoopState, Transition]:
        env_action, action, extras = policy(params, state.obs, key)
        env_state, ts = jax.vmap(self.env.step)(state.env_state, env_action)
        transition = Transition(
            obs=state.obs,
            action=action,
            reward=ts.reward,
            terminated=ts.terminated,
            truncated=ts.truncated,
            next_obs=ts.final_obs,
            extras=extras,
            info=ts.info,
        )
        return LoopState(env_state, ts.obs), transition

    def rollout(
        self, state: LoopState, policy: PolicyFn, params: Any, key: jax.Array, num_steps: int
    ) -> tuple[LoopState, Transition]:
        """``num_steps`` steps of all envs; returns the final state and ``(T, N, ...)`` data."""

        def body(carry: LoopState, step_key: jax.Array) -> tuple[LoopState, Transition]:
            return self.step(carry, policy, params, step_key)

        return jax.lax.scan(body, state, jax.random.split(key, num_steps))
