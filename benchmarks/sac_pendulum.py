#!/usr/bin/env python
"""Benchmark: robojax SAC on gymnax Pendulum-v1 (optionally side by side with sbx).

Default mode (configs/sac_pendulum.yaml): 20,000 env steps per seed, 1 env, 1 gradient update
per env step, batch 256, 256x256 ReLU networks, 2 critics, 1,000 uniformly random warm-up
steps, ``--num-seeds 3`` seeds trained in ONE compiled program (vmap).

    .venv/bin/python benchmarks/sac_pendulum.py                      # robojax only
    .venv/bin/python benchmarks/sac_pendulum.py --peer-python /tmp/venv-sbx/bin/python
    .venv/bin/python benchmarks/sac_pendulum.py --fast               # configs/sac_pendulum_fast.yaml

Reported (robojax):
  * compile_s: ahead-of-time compile of the fused train chunk (the trainer's number);
  * train_sps: env steps per second summed over seeds, compile excluded (trainer's number),
    and per seed (= train_sps / num_seeds);
  * wall_s: the trainer's wall time (init + compile + train + evals + checkpoint);
    process_wall_s additionally includes building the agent (not the Python imports);
  * eval return (deterministic, 10 episodes per seed) overall and per seed;
  * update FLOPs: XLA's cost_analysis() of one compiled gradient update (critic + actor + alpha
    + target; one seed), its standalone time, and the GFLOP/s achieved during training
    (FLOPs per update x updates per second over all seeds), compared with the measured
    throughput of jnp.dot on 256x256 float32 matrices (and 2048x2048) on this CPU.
With ``--peer-python``, benchmarks/peer_sbx.py runs in that interpreter after robojax, with
the same setting, and the ratio of robojax to sbx env steps/s is printed (both per seed and
summed over robojax's seeds; sbx trains one seed).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from common import save
from robojax import SAC, SACConfig
from robojax.config import load_yaml, merge, split_experiment

ROOT = Path(__file__).resolve().parent.parent


def build(config_path: Path, overrides: dict) -> tuple[SAC, SACConfig]:
    data = merge(load_yaml(config_path), overrides)
    env, cfg = split_experiment(SACConfig, data)
    return SAC(cfg, env), cfg


def matmul_gflops(n: int, reps: int) -> float:
    """float32 ``n x n @ n x n`` throughput, ``reps`` chained products in one jitted loop."""
    a = jax.random.normal(jax.random.PRNGKey(0), (n, n), jnp.float32) / np.sqrt(n)

    @jax.jit
    def chain(x):
        return jax.lax.fori_loop(0, reps, lambda _, y: jnp.tanh(y @ a), x)

    x = jnp.ones((n, n), jnp.float32)
    jax.block_until_ready(chain(x))
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        jax.block_until_ready(chain(x))
        best = min(best, time.perf_counter() - t)
    return 2.0 * n**3 * reps / best / 1e9


def update_cost(agent: SAC, reps: int = 200) -> tuple[float, float]:
    """``(FLOPs of one gradient update from XLA's cost analysis, seconds per standalone update)``."""
    state = jax.jit(agent.init)(jax.random.PRNGKey(0))
    n = agent.config.buffer_size if agent.config.buffer_size < 10_000 else 10_000
    key = jax.random.PRNGKey(1)
    fake = jax.tree.map(lambda x: jax.random.normal(key, (n, *x.shape[1:]), x.dtype), state.buffer.data)
    buffer = state.buffer.add(fake)

    def one(params, opt_state, k):
        params, opt_state, _ = agent._update(params, opt_state, buffer, k, jnp.int32(0))
        return params, opt_state

    compiled = jax.jit(one).lower(state.params, state.opt_state, key).compile()
    cost = compiled.cost_analysis()
    cost = cost[0] if isinstance(cost, (list, tuple)) else cost
    flops = float(cost["flops"]) / agent.config.grad_updates_per_step

    def many(params, opt_state, k):
        def body(i, carry):
            return one(*carry, jax.random.fold_in(k, i))

        return jax.lax.fori_loop(0, reps, body, (params, opt_state))

    many = jax.jit(many)
    jax.block_until_ready(many(state.params, state.opt_state, key))
    t = time.perf_counter()
    jax.block_until_ready(many(state.params, state.opt_state, key))
    return flops, (time.perf_counter() - t) / (reps * agent.config.grad_updates_per_step)


def run_peer(python: str, total_steps: int, learning_starts: int) -> dict:
    cmd = [python, str(ROOT / "benchmarks" / "peer_sbx.py"), "--json", "--total-steps", str(total_steps),
           "--learning-starts", str(learning_starts)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--fast", action="store_true", help="run configs/sac_pendulum_fast.yaml instead")
    p.add_argument("--total-steps", type=int, default=None, help="override the preset's total_steps")
    p.add_argument("--num-seeds", type=int, default=None, help="default: 3 (1 with --fast)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--peer-python", default=None, help="python of a venv with sbx-rl: run benchmarks/peer_sbx.py")
    p.add_argument("--skip-flops", action="store_true")
    p.add_argument("--json", action="store_true", help="also print one JSON line with everything")
    args = p.parse_args()

    preset = ROOT / "configs" / ("sac_pendulum_fast.yaml" if args.fast else "sac_pendulum.yaml")
    overrides = {
        "seed": args.seed,
        "num_seeds": args.num_seeds or (1 if args.fast else 3),
        "logging": {"console": False, "tensorboard": False},
        "checkpoint": {"interval": 0},
    }
    if args.total_steps:
        overrides["total_steps"] = args.total_steps
    t0 = time.perf_counter()
    agent, cfg = build(preset, overrides)
    with tempfile.TemporaryDirectory() as tmp:
        result = agent.train(run_dir=Path(tmp) / "run")
    process_wall = time.perf_counter() - t0
    s = result.summary
    per_seed = s.get("eval_return_per_seed", [s["eval_return_mean"]])
    out = {
        "preset": preset.name,
        "jax": jax.__version__,
        "device": str(jax.devices()[0]),
        "total_steps_per_seed": s["env_steps"],
        "num_seeds": cfg.num_seeds,
        "num_envs": cfg.num_envs,
        "grad_updates_per_step": cfg.grad_updates_per_step,
        "batch_size": cfg.batch_size,
        "hidden_sizes": list(cfg.network.hidden_sizes),
        "compile_s": s["compile_s"],
        "wall_s": s["wall_s"],
        "process_wall_s": process_wall,
        "train_sps": s["train_sps"],
        "train_sps_per_seed": s["train_sps"] / cfg.num_seeds,
        "eval_return_mean": s["eval_return_mean"],
        "eval_return_per_seed": per_seed,
    }
    print(f"robojax SAC {preset.name}: {s['env_steps']:,} env steps x {cfg.num_seeds} seed(s), "
          f"{cfg.num_envs} env(s), {cfg.grad_updates_per_step} update(s)/step, batch {cfg.batch_size}, "
          f"net {cfg.network.hidden_sizes}")
    print(f"  compile {s['compile_s']:.2f} s | wall {s['wall_s']:.2f} s (process {process_wall:.2f} s) | "
          f"{s['train_sps']:,.0f} env steps/s over all seeds = {out['train_sps_per_seed']:,.0f} per seed")
    print(f"  eval return {s['eval_return_mean']:.1f} (per seed: {', '.join(f'{r:.1f}' for r in per_seed)})")
    if args.fast:
        ok = s["eval_return_mean"] >= -200 and s["wall_s"] < 15
        print(f"  fast target (eval >= -200 in < 15 s wall incl. compile): {'MET' if ok else 'MISSED'}")

    if not args.skip_flops:
        one_seed = SAC(SACConfig(**{**cfg.__dict__, "num_seeds": 1}), agent.env_config)
        flops, update_s = update_cost(one_seed)
        updates_per_s = s["train_sps"] / cfg.num_envs * cfg.grad_updates_per_step  # all seeds
        out.update({
            "update_mflops": flops / 1e6,
            "update_standalone_ms": update_s * 1e3,
            "update_standalone_gflops": flops / update_s / 1e9,
            "train_achieved_gflops": flops * updates_per_s / 1e9,
            "matmul256_gflops": matmul_gflops(256, 400),
            "matmul2048_gflops": matmul_gflops(2048, 4),
        })
        print(f"  one gradient update: {flops / 1e6:.0f} MFLOP (XLA cost analysis); standalone "
              f"{update_s * 1e3:.2f} ms = {out['update_standalone_gflops']:.1f} GFLOP/s; during training "
              f"{out['train_achieved_gflops']:.1f} GFLOP/s")
        print(f"  jnp.dot float32 on this CPU: 256x256 {out['matmul256_gflops']:.1f} GFLOP/s, "
              f"2048x2048 {out['matmul2048_gflops']:.1f} GFLOP/s")

    if args.peer_python:
        peer = run_peer(args.peer_python, s["env_steps"], cfg.num_seed_steps)
        out["sbx"] = peer
        out["ratio_per_seed"] = out["train_sps_per_seed"] / peer["steady_sps"]
        out["ratio_all_seeds"] = s["train_sps"] / peer["steady_sps"]
        out["ratio_wall"] = peer["wall_s"] / s["wall_s"] * cfg.num_seeds
        print(f"sbx {peer['version']} SAC (1 seed): {peer['steady_sps']:,.0f} env steps/s steady "
              f"({peer['sps']:,.0f} incl. compile/warm-up) | wall {peer['wall_s']:.1f} s | "
              f"eval return {peer['eval_return_mean']:.1f}")
        print(f"robojax / sbx env steps/s: {out['ratio_per_seed']:.2f}x per seed, "
              f"{out['ratio_all_seeds']:.2f}x with {cfg.num_seeds} seeds in one program")
    print(f"saved {save('sac_pendulum_fast' if args.fast else 'sac_pendulum', out)}")
    if args.json:
        print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
