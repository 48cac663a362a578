"""Evaluation protocol: ``episodes`` separate eval envs each play one full episode.

On JAX envs the whole evaluation is one jitted ``while_loop``; on host simulators the
policy is jitted and the simulators step in Python.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from robojax.envs.core import Env
from robojax.envs.host import HostVectorEnv

#: ``act(obs[N, ...], key) -> env_action[N, ...]``
ActFn = Callable[[jax.Array, jax.Array], jax.Array]

#: Episodes of envs without a time limit are cut here.
MAX_EVAL_STEPS = 100_000


def evaluate(env: Env, act: ActFn, key: jax.Array, episodes: int) -> dict[str, jax.Array]:
    """Play ``episodes`` episodes in parallel, each from its own random initial state.

    Returns per-episode ``return`` and ``length`` (and ``success`` if the env reports it),
    each of shape ``(episodes,)``. The loop stops as soon as every episode has ended.
    """
    reset_key, key = jax.random.split(key)
    state, ts = jax.vmap(env.reset)(jax.random.split(reset_key, episodes))
    max_steps = env.max_episode_steps or MAX_EVAL_STEPS
    zeros = jnp.zeros(episodes, jnp.float32)
    step = jax.jit(jax.vmap(env.step))  # jitted: the shape query and the loop share one trace of the env
    with_success = "success" in jax.eval_shape(step, state, act(ts.obs, key))[1].info

    def cond(carry):
        *_, done, _, t = carry
        return jnp.logical_and(~jnp.all(done), t < max_steps)

    def body(carry):
        state, obs, key, ret, length, done, success, t = carry
        key, act_key = jax.random.split(key)
        state, ts = step(state, act(obs, act_key))
        alive = ~done
        ret = ret + ts.reward * alive
        length = length + alive
        if with_success:
            success = jnp.logical_or(success, jnp.logical_and(ts.info["success"].astype(bool), alive))
        return state, ts.obs, key, ret, length, jnp.logical_or(done, ts.done), success, t + 1

    init = (state, ts.obs, key, zeros, zeros, jnp.zeros(episodes, bool), jnp.zeros(episodes, bool), 0)
    _, _, _, ret, length, _, success, _ = jax.lax.while_loop(cond, body, init)
    result = {"return": ret, "length": length}
    if with_success:
        result["success"] = success.astype(jnp.float32)
    return result


def summarize(results: dict[str, np.ndarray], prefix: str) -> dict[str, float]:
    """Mean/std/min/max of returns (over all seeds and episodes), mean length and success rate."""
    ret = np.asarray(results["return"], np.float64)
    out = {
        f"{prefix}_return_mean": float(ret.mean()),
        f"{prefix}_return_std": float(ret.std()),
        f"{prefix}_return_min": float(ret.min()),
        f"{prefix}_return_max": float(ret.max()),
        f"{prefix}_length_mean": float(np.mean(results["length"])),
    }
    if ret.ndim == 2:  # (seeds, episodes): per-seed means for confidence intervals over seeds
        out[f"{prefix}_return_per_seed"] = [float(x) for x in ret.mean(axis=1)]
    if "success" in results:
        out[f"{prefix}_success_rate"] = float(np.mean(results["success"]))
    return out


def evaluate_host(sim: HostVectorEnv, act: ActFn, key: jax.Array, max_steps: int | None) -> dict[str, np.ndarray]:
    """``evaluate`` for host simulators: each of ``sim.num_envs`` envs plays one full episode."""
    seed = int(jax.random.randint(key, (), 0, 2**31 - 1 - sim.num_envs))
    obs = sim.reset(seed)
    n = sim.num_envs
    ret, length = np.zeros(n), np.zeros(n)
    done, success = np.zeros(n, bool), np.zeros(n)
    for _ in range(max_steps or MAX_EVAL_STEPS):
        key, act_key = jax.random.split(key)
        step = sim.step(np.asarray(act(obs, act_key)))
        alive = ~done
        ret += step.reward * alive
        length += alive
        ended = alive & (step.terminated | step.truncated)
        if "success" in step.info:
            success[ended] = step.info["success"][ended]
        done |= ended
        obs = step.obs
        if done.all():
            break
    result = {"return": ret, "length": length}
    if sim.reports_success:
        result["success"] = success
    return result
