#!/usr/bin/env python
"""PPO with the MinAtar CNN on gymnax Breakout-MinAtar: robojax against a PureJaxRL-style
single-file CNN PPO (``peer_purejaxrl_style.py --setting minatar-breakout``), side by side.

    python benchmarks/ppo_minatar.py [--total-steps 65536] [--repeats 3]

Same network (one 3x3 conv of 16 channels, VALID, ReLU, dense 128 + ReLU, for actor and critic
each) and hyper-parameters (``configs/ppo_minatar_breakout.yaml``: 64 envs x 128 steps, 4 epochs
x 8 minibatches, lr 5e-3 annealed). Both run in robojax's virtualenv, each run a fresh process,
interleaved (robojax, peer, robojax, ...); robojax runs as one fused chunk without host visits,
the same measurement as the peer's single compiled call. ``train_sps`` excludes compilation;
the median run of each is reported with its ratio. Learning at 1M steps is
``benchmarks/learning.py ppo_minatar_breakout``.
"""

from __future__ import annotations

import argparse
import sys

from common import NO_HOST_VISITS, machine, median_run, run_peer, run_robojax, save, table

PRESET = "configs/ppo_minatar_breakout.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--total-steps", type=int, default=65_536, help="env steps per run (multiple of 8192)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3, help="runs per library; the median is reported")
    args = parser.parse_args()

    def robojax() -> dict:
        s = run_robojax("ppo", "--config", PRESET, f"seed={args.seed}", f"total_steps={args.total_steps}", *NO_HOST_VISITS)
        return {"library": "robojax (cnn, matmul conv)", "compile_s": s["compile_s"], "train_sps": s["train_sps"],
                "eval_return": s["eval_return_mean"], "env_steps": s["env_steps"]}

    def peer() -> dict:
        p = run_peer(sys.executable, "peer_purejaxrl_style.py", "--setting", "minatar-breakout",
                     "--total-steps", str(args.total_steps), "--seed", str(args.seed))
        return {"library": "PureJaxRL-style (flax nn.Conv)", "compile_s": p["compile_s"], "train_sps": p["train_sps"],
                "eval_return": p["eval_return_mean"], "env_steps": p["env_steps"]}

    runs: dict[str, list[dict]] = {"robojax": [], "peer": []}
    for _ in range(args.repeats):  # interleaved: a slow spell of the machine hits both
        runs["robojax"].append(robojax())
        runs["peer"].append(peer())
    rows = [median_run(runs["robojax"]), median_run(runs["peer"])]
    rows[0]["sps_ratio_vs_peer"] = rows[0]["train_sps"] / rows[1]["train_sps"]
    print(f"machine: {machine()}")
    print(table(rows, ["library", "compile_s", "train_sps", "sps_ratio_vs_peer", "eval_return", "env_steps", "train_sps_all"]))
    print(f"saved {save('ppo_minatar', {'command': ' '.join(['python benchmarks/ppo_minatar.py', *sys.argv[1:]]), 'rows': rows})}")


if __name__ == "__main__":
    main()
