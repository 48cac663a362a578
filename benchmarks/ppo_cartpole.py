#!/usr/bin/env python
"""PPO on gymnax CartPole-v1: robojax against rejax (a PureJaxRL-style peer), side by side.

    python benchmarks/ppo_cartpole.py --peer-python .venv-rejax/bin/python [--setting default|large|both]

The peer runs in its own virtualenv (rejax needs gymnax<1.0; see ``make peers``). Each
library runs in a fresh process. robojax runs through its CLI exactly as a user would:

- ``robojax (defaults)``: logging (console + TensorBoard + metrics.jsonl) every 25k steps,
  evaluation every 100k steps, checkpoints every 250k: ``wall_s`` is the whole run including
  compilation, evaluations and the final checkpoint (time to a greedy eval of 500).
- ``robojax (no host visits)``: one fused chunk, no periodic eval: the same measurement as
  the peer's single compiled call.

``train_sps`` is env steps per second of training time (compilation excluded). The default
setting runs each library ``--repeats`` times, interleaved (robojax, robojax, peer, robojax, ...),
and reports the median run; all runs' figures are kept in ``train_sps_all``.
"""

from __future__ import annotations

import argparse

from common import NO_HOST_VISITS, machine, median_run, run_peer, run_robojax, save, table

SETTINGS = {
    "default": dict(preset="configs/ppo_cartpole.yaml", num_envs=4, num_steps=128, total_steps=500_000),
    "large": dict(preset="configs/ppo_cartpole_large.yaml", num_envs=2048, num_steps=16, total_steps=10_000_000),
}


def bench(setting: str, peer_python: str | None, seed: int, repeats: int) -> list[dict]:
    s = SETTINGS[setting]

    def robojax(label: str, extra: list[str]):
        def run():
            summary = run_robojax("ppo", "--config", s["preset"], f"seed={seed}", f"total_steps={s['total_steps']}", *extra)
            return {"library": label, "setting": setting, "compile_s": summary["compile_s"],
                    "train_sps": summary["train_sps"], "wall_s": summary["wall_s"],
                    "eval_s": summary["eval_s"], "log_s": summary["log_s"], "checkpoint_s": summary["checkpoint_s"],
                    "eval_return": summary["eval_return_mean"], "env_steps": summary["env_steps"]}

        return run

    def rejax():
        peer = run_peer(peer_python, "peer_rejax.py", "--num-envs", str(s["num_envs"]), "--num-steps",
                        str(s["num_steps"]), "--total-steps", str(s["total_steps"]), "--seed", str(seed))
        return {"library": f"rejax {peer['version']}", "setting": setting, "compile_s": peer["compile_s"],
                "train_sps": peer["sps"], "wall_s": peer["compile_s"] + peer["train_s"],
                "eval_return": peer["eval_return_mean"], "env_steps": peer["total_steps"]}

    runners = {"robojax (defaults)": robojax("robojax (defaults)", []),
               "robojax (no host visits)": robojax("robojax (no host visits)", NO_HOST_VISITS)}
    if peer_python:
        runners["peer"] = rejax
    runs: dict[str, list[dict]] = {label: [] for label in runners}
    for _ in range(repeats):  # interleaved: a slow spell of a shared machine hits every library
        for label, run in runners.items():
            runs[label].append(run())
    rows = [median_run(r) for r in runs.values()]
    if peer_python:
        for row in rows[:-1]:
            row["sps_ratio_vs_peer"] = row["train_sps"] / rows[-1]["train_sps"]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--setting", choices=[*SETTINGS, "both"], default="both")
    parser.add_argument("--peer-python", help="python of a virtualenv with rejax installed")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3, help="runs per library; the median is reported")
    args = parser.parse_args()
    rows = []
    for setting in SETTINGS if args.setting == "both" else [args.setting]:
        rows += bench(setting, args.peer_python, args.seed, args.repeats if setting == "default" else 1)
    print(f"machine: {machine()}")
    print(table(rows, ["library", "setting", "compile_s", "train_sps", "sps_ratio_vs_peer", "wall_s",
                       "eval_s", "log_s", "checkpoint_s", "eval_return", "train_sps_all"]))
    name = "ppo_cartpole" if args.setting == "both" else f"ppo_cartpole_{args.setting}"  # one setting keeps the other's file
    print(f"saved {save(name, {'rows': rows})}")


if __name__ == "__main__":
    main()
