#!/usr/bin/env python
"""Wall-clock to a training return of 3,000 on Gymnasium HalfCheetah-v5: robojax SAC with parallel
envs against sbx SAC with its default hyper-parameters, side by side.

    python benchmarks/halfcheetah_time_to_return.py --peer-python .venv-sb3/bin/python

- robojax: `configs/sac_halfcheetah_parallel.yaml` (8 envs, 4 gradient updates per vectorised
  step = 0.5 updates per transition, batch 256, 256x256) for `--robojax-steps` env steps, no
  evaluation during training. Time to the target: the first log point (every 8,000 env steps,
  i.e. the 8 episodes that end together) whose mean training-episode return reaches it; wall
  clock from the start of training (compilation included).
- sbx: `sbx.SAC("MlpPolicy", env)` with every default (1 env, 1 update per step, learning_starts
  100, ...), stopped once the mean of its last 5 training episodes reaches the target; wall
  clock from the start of `learn()` (compilation included).
Both count stochastic-policy training episodes (1,000 steps each). The robojax run goes on to
`--robojax-steps` and reports its final deterministic evaluation too.
"""

from __future__ import annotations

import argparse

from common import machine, run_peer, run_robojax, save, table


def first_reaching(metrics: list[dict], target: float) -> dict | None:
    """The first log point whose mean training-episode return is at least ``target``."""
    for record in metrics:
        value = record.get("train/episode_return")
        if value is not None and value >= target:
            return record
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--peer-python", help="python of a virtualenv with sbx-rl (benchmarks/peer_sbx.py)")
    parser.add_argument("--config", default="configs/sac_halfcheetah_parallel.yaml")
    parser.add_argument("--robojax-steps", type=int, default=300_000)
    parser.add_argument("--peer-max-steps", type=int, default=300_000)
    parser.add_argument("--target", type=float, default=3000.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    run = run_robojax("sac", "--config", args.config, f"total_steps={args.robojax_steps}", f"seed={args.seed}",
                      "logging.console=false", "eval.interval=0", "checkpoint.interval=0")
    hit = first_reaching(run["metrics"], args.target)
    rows = [{
        "what": f"robojax SAC ({args.config})",
        "steps_to_target": hit["env_steps"] if hit else None,
        "time_to_target_s": hit["wall_s"] if hit else None,
        "train_sps": run["train_sps"],
        "final_eval_return": run["eval_return_mean"],
        "env_steps": run["env_steps"],
    }]
    peer = None
    if args.peer_python:
        peer = run_peer(args.peer_python, "peer_sbx.py", "--env", "HalfCheetah-v5", "--library", "sbx",
                        "--seed", str(args.seed), "--stop-at-return", str(args.target),
                        "--total-steps", str(args.peer_max_steps))
        rows.append({"what": f"sbx {peer['version']} SAC, defaults", "steps_to_target": peer["steps_to_return"],
                     "time_to_target_s": peer["time_to_return_s"]})
        if hit and peer["time_to_return_s"]:
            rows[0]["time_ratio_vs_sbx"] = hit["wall_s"] / peer["time_to_return_s"]
    print(f"machine: {machine()}")
    print(table(rows, ["what", "steps_to_target", "time_to_target_s", "time_ratio_vs_sbx", "train_sps",
                       "final_eval_return", "env_steps"]))
    save("halfcheetah_time_to_return", {"machine": machine(), "target": args.target, "rows": rows,
                                        "robojax_curve": [(m["env_steps"], m["wall_s"], m.get("train/episode_return"))
                                                          for m in run["metrics"]],
                                        "peer_episodes": peer["episodes"] if peer else None})


if __name__ == "__main__":
    main()
