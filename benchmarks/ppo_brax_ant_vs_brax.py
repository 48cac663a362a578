#!/usr/bin/env python
"""PPO on Brax ant (mjx): robojax's preset next to Brax's own PPO trainer, same budget, one script.

    python benchmarks/ppo_brax_ant_vs_brax.py [--seeds 3] [--total-steps 1000000]

Brax's trainer (``brax.training.agents.ppo.train``) runs in this process with the setting of
issue 18 (128 envs, unroll 5, batch 128 x 8 minibatches, 4 updates per batch, reward scaling
10, discount 0.97, lr 3e-4, entropy 0.01, observation normalisation, episodes of 1,000 steps);
it calls ``jax.device_put_replicated``, which jax 0.10 removed, so this script puts it back for
Brax (stacking the value once per device, which is what ``pmap`` takes). robojax runs
``configs/ppo_brax_ant.yaml`` through its CLI, all seeds in one program. Both evaluate the
greedy policy on full episodes at about the same steps. Writes
``benchmarks/results/<cpu>/ppo_brax_ant_vs_brax.json`` (curves, finals, steps/s, wall).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import sys
import time

import jax
import jax.numpy as jnp

from common import machine, run_robojax, save, table
from learning import curve

BRAX_SETTING = dict(num_envs=128, episode_length=1000, unroll_length=5, batch_size=128, num_minibatches=8,
                    num_updates_per_batch=4, reward_scaling=10.0, discounting=0.97, learning_rate=3e-4,
                    entropy_cost=1e-2, normalize_observations=True, action_repeat=1)


def restore_device_put_replicated() -> None:
    """``jax.device_put_replicated`` as Brax's trainers use it (removed in jax 0.10)."""
    if not hasattr(jax, "device_put_replicated"):
        def device_put_replicated(x, devices):
            return jax.tree.map(lambda a: jax.device_put(jnp.stack([jnp.asarray(a)] * len(devices))), x)

        jax.device_put_replicated = device_put_replicated


def brax_trainer(seed: int, total_steps: int, num_evals: int, eval_episodes: int) -> dict:
    restore_device_put_replicated()
    with contextlib.redirect_stdout(io.StringIO()):
        from brax import envs
        from brax.training.agents.ppo import train as ppo

    curve, start = [], time.perf_counter()

    def progress(step: int, metrics: dict) -> None:
        curve.append({"env_steps": int(step), "eval_return": float(metrics["eval/episode_reward"]),
                      "wall_s": time.perf_counter() - start})

    ppo.train(environment=envs.get_environment("ant", backend="mjx"), num_timesteps=total_steps, seed=seed,
              num_evals=num_evals, num_eval_envs=eval_episodes, deterministic_eval=True, progress_fn=progress,
              **BRAX_SETTING)
    wall = time.perf_counter() - start
    return {"seed": seed, "curve": curve, "final": curve[-1]["eval_return"], "wall_s": wall,
            "sps_incl_compile_and_eval": curve[-1]["env_steps"] / wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--total-steps", type=int, default=1_000_000)
    parser.add_argument("--eval-episodes", type=int, default=8)
    parser.add_argument("--skip-robojax", action="store_true", help="only Brax's trainer (e.g. a quick check)")
    args = parser.parse_args()
    num_evals = max(2, args.total_steps // 100_000 + 1)
    brax = [brax_trainer(seed, args.total_steps, num_evals, args.eval_episodes) for seed in range(args.seeds)]
    rows = [{"library": "Brax PPO trainer", "final_mean": statistics.mean(r["final"] for r in brax),
             "final_per_seed": [round(r["final"], 1) for r in brax],
             "wall_s": sum(r["wall_s"] for r in brax)}]
    record = {"command": " ".join(["python benchmarks/ppo_brax_ant_vs_brax.py", *sys.argv[1:]]),
              "brax_setting": BRAX_SETTING, "brax": brax}
    if not args.skip_robojax:
        s = run_robojax("ppo", "--config", "configs/ppo_brax_ant.yaml", f"total_steps={args.total_steps}",
                        f"num_seeds={args.seeds}", f"eval.episodes={args.eval_episodes}", "logging.console=false",
                        "logging.tensorboard=false", timeout=6 * 3600)
        finals = s.get("eval_return_per_seed") or [s["eval_return_mean"]]
        record["robojax"] = {"curve": curve(s), "final_per_seed": finals, "train_sps": s["train_sps"], "wall_s": s["wall_s"]}
        rows.append({"library": "robojax (configs/ppo_brax_ant.yaml)", "final_mean": statistics.mean(finals),
                     "final_per_seed": [round(f, 1) for f in finals], "wall_s": s["wall_s"]})
        rows[-1]["ratio_vs_brax"] = rows[-1]["final_mean"] / rows[0]["final_mean"]
    record["rows"] = rows
    print(f"machine: {machine()}")
    print(table(rows, ["library", "final_mean", "final_per_seed", "ratio_vs_brax", "wall_s"]))
    print(f"saved {save('ppo_brax_ant_vs_brax', record)}")


if __name__ == "__main__":
    main()
