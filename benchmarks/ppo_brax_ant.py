#!/usr/bin/env python
"""PPO on Brax ant: training throughput against the env's raw random-action stepping rate.

    python benchmarks/ppo_brax_ant.py [--num-envs 128] [--total-steps 200000] [--backend mjx]

Three numbers, same number of parallel envs, same machine:
- raw Brax: ``lax.scan`` over ``vmap(env.step)`` with uniform random actions (no wrappers);
- robojax env stack: the same through robojax's JAX loop (time limit, statistics, auto-reset);
- robojax PPO: ``robojax train ppo --config configs/ppo_brax_ant.yaml`` (compilation excluded).
The ratio PPO / raw is the fraction of the simulator's speed that training keeps.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import time

import jax

from common import machine, run_robojax, save, table


def steps_per_second(fn, *args, steps: int, repeats: int = 3) -> tuple[float, float]:
    t = time.perf_counter()
    compiled = jax.jit(fn).lower(*args).compile()
    compile_s = time.perf_counter() - t
    jax.block_until_ready(compiled(*args))
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        jax.block_until_ready(compiled(*args))
        best = min(best, time.perf_counter() - t)
    return steps / best, compile_s


def raw_brax(backend: str, num_envs: int, horizon: int, env_name: str = "ant") -> tuple[float, float]:
    with contextlib.redirect_stdout(io.StringIO()):
        from brax import envs
    env = envs.get_environment(env_name, backend=backend)

    def run(key):
        state = jax.vmap(env.reset)(jax.random.split(key, num_envs))

        def body(state, k):
            action = jax.random.uniform(k, (num_envs, env.action_size), minval=-1.0, maxval=1.0)
            return jax.vmap(env.step)(state, action), None

        return jax.lax.scan(body, state, jax.random.split(key, horizon))[0].obs

    return steps_per_second(run, jax.random.PRNGKey(0), steps=num_envs * horizon)


def robojax_stack(backend: str, num_envs: int, horizon: int) -> tuple[float, float]:
    from robojax.envs import make_env
    from robojax.loops import JaxLoop

    loop = JaxLoop(make_env("brax/ant", backend=backend), num_envs)

    def policy(params, obs, key):
        a = jax.random.uniform(key, (obs.shape[0], 8), minval=-1.0, maxval=1.0)
        return a, a, {}

    def run(key):
        return loop.rollout(loop.reset(key), policy, None, key, horizon)[1].reward

    return steps_per_second(run, jax.random.PRNGKey(0), steps=num_envs * horizon)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--num-envs", type=int, default=128)
    parser.add_argument("--horizon", type=int, default=100, help="steps per env in the stepping measurement")
    parser.add_argument("--total-steps", type=int, default=200_000, help="PPO training steps")
    parser.add_argument("--backend", default="mjx")
    args = parser.parse_args()
    raw_sps, raw_compile = raw_brax(args.backend, args.num_envs, args.horizon)
    stack_sps, stack_compile = robojax_stack(args.backend, args.num_envs, args.horizon)
    ppo = run_robojax("ppo", "--config", "configs/ppo_brax_ant.yaml", f"num_envs={args.num_envs}",
                      f"total_steps={args.total_steps}", f"env.kwargs.backend={args.backend}",
                      "logging.console=false", "eval.interval=0")
    rows = [
        {"what": f"raw brax ant ({args.backend}), random actions", "sps": raw_sps, "compile_s": raw_compile, "ratio_vs_raw": 1.0},
        {"what": "robojax env stack, random actions", "sps": stack_sps, "compile_s": stack_compile,
         "ratio_vs_raw": stack_sps / raw_sps},
        {"what": "robojax PPO training", "sps": ppo["train_sps"], "compile_s": ppo["compile_s"],
         "ratio_vs_raw": ppo["train_sps"] / raw_sps, "eval_return": ppo["eval_return_mean"], "wall_s": ppo["wall_s"]},
    ]
    print(f"machine: {machine()}, {args.num_envs} envs")
    print(table(rows, ["what", "sps", "ratio_vs_raw", "compile_s", "wall_s", "eval_return"]))
    print(f"saved {save('ppo_brax_ant', {'args': vars(args), 'rows': rows})}")


if __name__ == "__main__":
    main()
