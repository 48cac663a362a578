#!/usr/bin/env python
"""SAC on Brax halfcheetah with 1, 16 and 128 parallel envs: env steps/s and return.

    python benchmarks/sac_brax_scaling.py [--steps-1 20000] [--steps-16 50000] [--steps-128 100000]

Everything (env steps, replay insert/sample, updates) is one compiled program between host
visits. Replay ratio (gradient updates per collected transition): 1.0 with 1 env, 0.5 with 16
and 128 envs (``grad_updates_per_step`` = 1, 8, 64). Batch 256, 256x256 ReLU, positional
backend, 1000 random warm-up steps. Returns after so few steps are a sanity check, not a result.
"""

from __future__ import annotations

import argparse

from common import machine, run_robojax, save, table

SETTINGS = ((1, 1), (16, 8), (128, 64))  # (num_envs, grad_updates_per_step)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps-1", type=int, default=20_000)
    parser.add_argument("--steps-16", type=int, default=50_000)
    parser.add_argument("--steps-128", type=int, default=100_000)
    args = parser.parse_args()
    rows = []
    for num_envs, updates in SETTINGS:
        steps = getattr(args, f"steps_{num_envs}")
        s = run_robojax("sac", "--config", "configs/sac_brax_halfcheetah.yaml", f"num_envs={num_envs}",
                        f"grad_updates_per_step={updates}", f"total_steps={steps}", "batch_size=256",
                        "num_seed_steps=1000", "reward_scale=1.0", "logging.console=false", "eval.interval=0",
                        "eval.episodes=4", "checkpoint.interval=0")
        rows.append({"num_envs": num_envs, "grad_updates_per_step": updates, "replay_ratio": updates / num_envs,
                     "env_steps": s["env_steps"], "train_sps": s["train_sps"], "compile_s": s["compile_s"],
                     "wall_s": s["wall_s"], "eval_return": s["eval_return_mean"]})
    print(f"machine: {machine()}")
    print(table(rows, ["num_envs", "grad_updates_per_step", "replay_ratio", "env_steps", "train_sps", "compile_s",
                       "wall_s", "eval_return"]))
    print(f"saved {save('sac_brax_scaling', {'args': vars(args), 'rows': rows})}")


if __name__ == "__main__":
    main()
