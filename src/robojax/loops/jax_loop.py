"""The JAX loop: ``lax.scan`` over time of a ``vmap``-ed env step with the policy inside.

Every array in a rollout is laid out ``(T, N, ...)``: time first, then environment.
"""

from __future__ import annotations

from typing import Any

import jax

from robojax.envs.core import Env
from robojax.loops.core import LoopState, PolicyFn, PolicyOutputs, Transition, policy_step


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

    def step(
        self, state: LoopState, policy: PolicyFn, params: Any, key: jax.Array
    ) -> tuple[LoopState, Transition, jax.Array]:
        """One step of every env; returns the new state, the transitions and the next key."""
        key, (env_action, action, extras) = policy_step(policy, params, state.obs, key)
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
        return LoopState(env_state, ts.obs), transition, key

    def rollout(
        self,
        state: LoopState,
        policy: PolicyFn,
        params: Any,
        key: jax.Array,
        num_steps: int,
        first: tuple[jax.Array, PolicyOutputs] | None = None,
    ) -> tuple[LoopState, Transition, jax.Array]:
        """``num_steps`` steps of all envs; returns the final state, ``(T, N, ...)`` data and the next key.

        Each step splits ``key`` into the policy's key and the next step's (``policy_step``).
        ``first`` (a precomputed first policy step, a host-loop optimisation) is not supported here.
        """
        if first is not None:
            raise NotImplementedError("JaxLoop.rollout computes every policy step itself; pass first=None")

        def body(carry: tuple[LoopState, jax.Array], _) -> tuple[tuple[LoopState, jax.Array], Transition]:
            loop_state, key = carry
            loop_state, transition, key = self.step(loop_state, policy, params, key)
            return (loop_state, key), transition

        (state, key), batch = jax.lax.scan(body, (state, key), None, length=num_steps)
        return state, batch, key
