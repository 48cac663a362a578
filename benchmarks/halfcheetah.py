#!/usr/bin/env python
"""Gymnasium HalfCheetah-v5 on the host loop: robojax SAC and PPO against sbx / Stable-Baselines3.

    python benchmarks/halfcheetah.py --peer-python .venv-sb3/bin/python [--sac-steps 10000] [--ppo-steps 65536]

Measured, one after the other on the same machine:
- the raw stepping rate of Gymnasium's sync vector env with random actions (1 and 16 envs);
- SAC, 1 env, 1 gradient update per env step, batch 256, 256x256, 1000 random warm-up steps
  (configs/sac_halfcheetah.yaml): robojax vs sbx vs SB3, steady env steps/s from step 1,500
  on (past the 1,000 random warm-up steps and compilation, for all three), and robojax's
  host-loop time split;
- PPO, 16 envs x 128 steps, 10 epochs, minibatch 256, 64x64 tanh (configs/ppo_halfcheetah.yaml
  with num_minibatches=8, the setting the peers run; the preset itself uses CleanRL's 32):
  robojax vs SB3 vs sbx steps/s, and robojax's ratio to the raw vector-env rate.
Returns after such short runs say nothing about final performance (SAC reaches about 9,500-
10,000 on HalfCheetah after 1M steps in the literature); they are recorded as a sanity check.
"""

from __future__ import annotations

import argparse
import time

from common import machine, run_peer, run_robojax, save, steady_sps, table

STEADY_AFTER = 1500  # warm-up (1000 random steps) + 500, as in peer_sbx.py


def raw_rate(num_envs: int, steps: int = 2000) -> float:
    import gymnasium as gym

    env = gym.make_vec("HalfCheetah-v5", num_envs=num_envs, vectorization_mode="sync")
    env.reset(seed=0)
    env.action_space.seed(0)
    t = time.perf_counter()
    for _ in range(steps // num_envs):
        env.step(env.action_space.sample())
    rate = (steps // num_envs) * num_envs / (time.perf_counter() - t)
    env.close()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--peer-python", help="python of a virtualenv with sbx-rl and stable-baselines3")
    parser.add_argument("--sac-steps", type=int, default=10_000)
    parser.add_argument("--ppo-steps", type=int, default=65_536)
    args = parser.parse_args()
    rows = [
        {"what": "raw gymnasium vector env, random actions", "num_envs": 1, "sps": raw_rate(1)},
        {"what": "raw gymnasium vector env, random actions", "num_envs": 16, "sps": raw_rate(16, 8000)},
    ]
    raw16 = rows[1]["sps"]

    sac = run_robojax("sac", "--config", "configs/sac_halfcheetah.yaml", f"total_steps={args.sac_steps}",
                      "logging.console=false", "logging.interval=500", "eval.interval=0")
    sac["steady_sps"] = steady_sps(sac, STEADY_AFTER)  # the same window as the peers' steady_sps
    rows.append({"what": "robojax SAC", "num_envs": 1, "sps": sac["steady_sps"], "compile_s": sac["compile_s"],
                 "wall_s": sac["wall_s"], "eval_return": sac["eval_return_mean"],
                 "host_env_s": sac["host_env_s"], "host_policy_s": sac["host_policy_s"]})
    ppo = run_robojax("ppo", "--config", "configs/ppo_halfcheetah.yaml", f"total_steps={args.ppo_steps}",
                      "num_minibatches=8", "logging.console=false", "eval.interval=0")
    rows.append({"what": "robojax PPO", "num_envs": 16, "sps": ppo["train_sps"], "ratio_vs_raw": ppo["train_sps"] / raw16,
                 "compile_s": ppo["compile_s"], "wall_s": ppo["wall_s"], "eval_return": ppo["eval_return_mean"],
                 "host_env_s": ppo["host_env_s"], "host_policy_s": ppo["host_policy_s"]})
    if args.peer_python:
        for library in ("sbx", "sb3"):
            peer = run_peer(args.peer_python, "peer_sbx.py", "--env", "HalfCheetah-v5", "--library", library,
                            "--total-steps", str(args.sac_steps))
            rows.append({"what": f"{library} {peer['version']} SAC", "num_envs": 1, "sps": peer["steady_sps"],
                         "wall_s": peer["wall_s"], "eval_return": peer["eval_return_mean"]})
            rows[2][f"ratio_vs_{library}"] = sac["steady_sps"] / peer["steady_sps"]
        for library in ("sb3", "sbx"):
            peer = run_peer(args.peer_python, "peer_sbx.py", "--env", "HalfCheetah-v5", "--library", library,
                            "--algo", "ppo", "--num-envs", "16", "--total-steps", str(args.ppo_steps))
            rows.append({"what": f"{library} {peer['version']} PPO", "num_envs": 16, "sps": peer["steady_sps"],
                         "ratio_vs_raw": peer["steady_sps"] / raw16, "wall_s": peer["wall_s"],
                         "eval_return": peer["eval_return_mean"]})
            rows[3][f"ratio_vs_{library}"] = ppo["train_sps"] / peer["steady_sps"]
    print(f"machine: {machine()}")
    print(table(rows, ["what", "num_envs", "sps", "ratio_vs_raw", "ratio_vs_sbx", "ratio_vs_sb3", "compile_s",
                       "wall_s", "host_env_s", "host_policy_s", "eval_return"]))
    print(f"saved {save('halfcheetah', {'args': vars(args), 'rows': rows})}")


if __name__ == "__main__":
    main()
