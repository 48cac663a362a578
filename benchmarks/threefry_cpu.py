#!/usr/bin/env python
"""PPO CartPole's compiled train chunk with JAX's rolled threefry loop (its CPU default) against the
unrolled form robojax registers (``src/robojax/cpu_prng.py``), in one process, alternating.

    python benchmarks/threefry_cpu.py [--setting default|large] [--pairs 12] [--train-steps N]

Both programs are the trainer's own chunk (``Trainer._chunk_fn``) for the preset of the setting,
compiled ahead of time from the same initial state. The script reports whether they end in
bit-identical train states (the random bits are the same; float operations fused next to them
may round differently) with the largest difference, counts the ``while`` loops in each
optimised HLO (the rolled form has one per threefry call), then times ``--pairs`` alternating
calls of each. Reported: the median steps/s of each, the median of the paired speed-ups (one
pair = two calls run back to back, so a slow spell of a shared machine hits both) and the
best-of speed-up.
"""

from __future__ import annotations

import argparse
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np

from common import ROOT, machine, save, table

from robojax import PPO
from robojax.config import load_yaml, split_experiment
from robojax.cpu_prng import use_unrolled_threefry_on_cpu
from robojax.trainer import Trainer

PRESETS = {"default": "configs/ppo_cartpole.yaml", "large": "configs/ppo_cartpole_large.yaml"}


def compiled_chunk(setting: str, unrolled: bool, train_steps: int):
    use_unrolled_threefry_on_cpu(unrolled)  # affects programs lowered from now on
    experiment = load_yaml(ROOT / PRESETS[setting])
    experiment.pop("algo")
    env, config = split_experiment(PPO.config_cls, experiment)
    agent = PPO(config, env)
    trainer = Trainer(agent, run_dir="/nonexistent")  # nothing is written: only its compiled pieces are used
    state = jax.jit(trainer._init_fn())(trainer._seed_keys())
    chunk = trainer._chunk_fn(state).lower(state, jnp.int32(train_steps)).compile()
    return agent, state, chunk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--setting", choices=list(PRESETS), default="large")
    parser.add_argument("--pairs", type=int, default=12)
    parser.add_argument("--train-steps", type=int, help="train steps per timed call (default: about 0.1-0.3 s of work)")
    args = parser.parse_args()
    n = args.train_steps or {"default": 50, "large": 5}[args.setting]
    agent, state, rolled = compiled_chunk(args.setting, False, n)
    _, _, unrolled = compiled_chunk(args.setting, True, n)
    results = [jax.device_get(f(state, jnp.int32(n))) for f in (rolled, unrolled)]
    pairs = [(np.asarray(a), np.asarray(b)) for a, b in zip(*map(jax.tree.leaves, results), strict=True)]
    identical = all(np.array_equal(a, b, equal_nan=a.dtype.kind == "f") for a, b in pairs)
    largest = max(float(np.nanmax(np.abs(a.astype(np.float64) - b), initial=0.0)) for a, b in pairs)
    times: dict[str, list[float]] = {"rolled": [], "unrolled": []}
    for _ in range(args.pairs):
        for name, f in (("rolled", rolled), ("unrolled", unrolled)):
            t = time.perf_counter()
            jax.block_until_ready(f(state, jnp.int32(n)))
            times[name].append(time.perf_counter() - t)
    steps = n * agent.steps_per_train_step
    rows = [{"threefry": name, "setting": args.setting, "while_loops": f.as_text().count(" while("),
             "train_sps": steps / statistics.median(times[name]),
             "train_sps_all": [round(steps / t) for t in times[name]]}
            for name, f in (("rolled", rolled), ("unrolled", unrolled))]
    rows[1]["paired_speedup"] = statistics.median(r / u for r, u in zip(times["rolled"], times["unrolled"]))
    rows[1]["best_of_speedup"] = min(times["rolled"]) / min(times["unrolled"])
    print(f"machine: {machine()}")
    print(f"bit-identical train states: {identical} (largest difference {largest:.3g})")
    print(table(rows, ["threefry", "setting", "while_loops", "train_sps", "paired_speedup", "best_of_speedup"]))
    save(f"threefry_cpu_{args.setting}", {"args": vars(args), "identical": identical, "largest_difference": largest,
                                         "rows": rows})


if __name__ == "__main__":
    main()
