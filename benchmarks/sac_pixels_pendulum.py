#!/usr/bin/env python
"""Benchmark: SAC from pixels (DrQ style) on pixels/Pendulum next to state SAC on its twin.

The state agent (configs/sac_pendulum_fast.yaml, gymnax/Pendulum-v1) trains ``--state-steps``
env steps; the pixel agent (configs/sac_pixels_pendulum.yaml: 24x24 RGB, 3 frames, DrQ conv
net trained by the critic only, random shift) trains twice that. Seeds run in one compiled
program each (``num_seeds``). Acceptance: pixel greedy return >= 0.8x the state return
(returns are negative: the pixel return must be >= state return / 0.8).

    python benchmarks/sac_pixels_pendulum.py [--state-steps 6000] [--num-seeds 3]

Writes benchmarks/results/sac_pixels_pendulum.json (returns, steps/s, replay-buffer bytes).
"""

from __future__ import annotations

import argparse
import json

from common import run_robojax, save, steady_sps

PIXELS = "configs/sac_pixels_pendulum.yaml"


def replay_buffer_bytes(preset: str) -> int:
    """Bytes of the replay buffer in SAC's train state for ``preset`` (one seed), from the
    shapes and dtypes ``SAC.init`` builds; nothing is allocated."""
    import jax

    from robojax import SAC, SACConfig
    from robojax.config import load_yaml, split_experiment

    env, config = split_experiment(SACConfig, load_yaml(preset))
    state = jax.eval_shape(SAC(config, env).init, jax.random.PRNGKey(0))
    return sum(leaf.size * leaf.dtype.itemsize for leaf in jax.tree.leaves(state.buffer))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--state-steps", type=int, default=6000)
    parser.add_argument("--num-seeds", type=int, default=3)
    args = parser.parse_args()
    common = [f"num_seeds={args.num_seeds}", "logging.tensorboard=false", "eval.interval=0"]
    state = run_robojax("sac", "--config", "configs/sac_pendulum_fast.yaml", f"total_steps={args.state_steps}", *common)
    pixels = run_robojax(
        "sac", "--config", PIXELS, f"total_steps={2 * args.state_steps}", *common
    )
    record = {}
    for name, run in (("state", state), ("pixels", pixels)):
        record[name] = {
            "env_steps": run["env_steps"],
            "eval_return_mean": run["eval_return_mean"],
            "eval_return_per_seed": run.get("eval_return_per_seed"),
            "train_sps": run["train_sps"],
            "steady_sps": steady_sps(run, 2000),
            "compile_s": run["compile_s"],
        }
    # 0.8x of a negative return: the pixel return may be at most 1 / 0.8 times as low.
    record["pixels_over_state"] = record["state"]["eval_return_mean"] / record["pixels"]["eval_return_mean"]
    record["buffer_bytes_per_seed"] = replay_buffer_bytes(PIXELS)
    print(json.dumps(record, indent=2))
    save("sac_pixels_pendulum", record)


if __name__ == "__main__":
    main()
