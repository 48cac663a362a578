#!/usr/bin/env python
"""Learning curves: greedy eval return against env steps, several seeds, next to a published reference.

    python benchmarks/learning.py ppo_brax_ant [--seeds 3] [--total-steps 1000000] [key=value ...]
    python benchmarks/learning.py ppo_halfcheetah --total-steps 200000
    python benchmarks/learning.py --list

Each named setting is a preset in ``configs/`` plus the reference return it is compared with.
JAX envs train all seeds in ONE process (``num_seeds``, vmapped; the curve is the mean over the
seeds' eval episodes, the final return is also given per seed); host simulators (Gymnasium)
train one process per seed, run side by side. The curve and the command are saved to
``benchmarks/results/learning_<setting>.json``; ``--tag`` adds a suffix (e.g. for a shorter budget).

Runs longer than a sitting: keep the run directories (``--runs-dir``) and, after the processes were
stopped or killed, run the same command with ``--resume``: each run continues from its latest
checkpoint as ``robojax train --resume`` does (exactly, host simulators included where their
state can be saved; ``wall_s`` and ``train_sps`` then cover the last part only), a finished run is
read back, a missing one starts, and one killed before its first checkpoint is refused (delete it
to start again). Where the sitting ends before the runs do, ``--stopped-at STEPS`` (with ``--runs-dir``)
trains nothing: it reports the runs as they stand, each cut at its last evaluation at or before
STEPS (the same point for every seed), and saves the record with ``stopped_at``; the runs can still be
finished later with ``--resume`` if their directories are kept.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import statistics
import time
from pathlib import Path

from common import machine, read_run, run_robojax, save

# setting -> (algo, preset, JAX env (seeds vmapped)?, reference return and where it comes from)
SETTINGS = {
    "ppo_brax_ant": ("ppo", "configs/ppo_brax_ant.yaml", True,
                     "Brax's own PPO trainer, same env/backend, 128 envs, 1.01M steps: greedy 926 (issue 18)"),
    "ppo_minatar_breakout": ("ppo", "configs/ppo_minatar_breakout.yaml", True,
                             "PureJaxRL-style flattened-MLP PPO on Breakout-MinAtar: about 15-20 at 1M steps (issue 11)"),
    "ppo_halfcheetah": ("ppo", "configs/ppo_halfcheetah.yaml", False,
                        "CleanRL PPO HalfCheetah-v4, 1M steps: 1,867 +- 48"),
    "ppo_hopper": ("ppo", "configs/ppo_hopper.yaml", False, "CleanRL PPO Hopper-v4, 1M steps: about 2,300"),
    "sac_hopper": ("sac", "configs/sac_hopper.yaml", False, "SAC Hopper, 1M steps: about 2,300-3,000"),
    "sac_walker2d": ("sac", "configs/sac_walker2d.yaml", False, "SAC Walker2d, 1M steps: about 3,600-4,500"),
    "sac_halfcheetah": ("sac", "configs/sac_halfcheetah_parallel.yaml", False,
                        "SAC HalfCheetah, 1M steps: about 10,000 (1 env, UTD 1)"),
}


def curve(summary: dict) -> list[dict]:
    """``[{env_steps, eval_return}]`` from the run's log points, ending with the final evaluation."""
    points = [{"env_steps": r["env_steps"], "eval_return": r["eval/return_mean"]}
              for r in summary["metrics"] if r.get("eval/return_mean") is not None]
    return points + [{"env_steps": summary["env_steps"], "eval_return": summary["eval_return_mean"]}]


def cut(summary: dict, steps: int) -> dict:
    """A run's summary as it stood at its last evaluation at or before ``steps`` (a run stopped early),
    shaped as a finished run's: that evaluation is the final one, the log points are those before it."""
    rows = [r for r in summary["metrics"] if r["env_steps"] <= steps]
    evals = [r for r in rows if r.get("eval/return_mean") is not None]
    if not evals:
        done = [r["env_steps"] for r in summary["metrics"] if r.get("eval/return_mean") is not None]
        allowed = f"at least {done[0]} (its first evaluation)" if done else "none: the run has no evaluation yet"
        raise SystemExit(f"--stopped-at {steps}: no evaluation at or before that step; allowed: {allowed}")
    last = evals[-1]
    return {"metrics": rows[:rows.index(last)], "env_steps": last["env_steps"], "eval_return_mean": last["eval/return_mean"],
            "wall_s": last["wall_s"], "train_sps": last["env_steps"] / last["wall_s"]}


def run_dir(args: argparse.Namespace, name: str) -> str | None:
    return f"{args.runs_dir}/{args.setting}_{name}" if args.runs_dir else None


def train(args: argparse.Namespace, algo: str, name: str, run_args: list[str]) -> dict:
    """One run's summary: trained with ``run_args``, or with ``--resume`` continued from (or read
    back from) the run directory ``name`` left by an earlier, stopped invocation."""
    directory = run_dir(args, name)
    if args.stopped_at:
        return cut(read_run(directory), args.stopped_at)
    if args.resume and Path(directory, "summary.json").exists():
        return read_run(directory)
    if args.resume and Path(directory, "checkpoints").is_dir():
        run_args = ["--resume", directory]
    return run_robojax(algo, *run_args, timeout=6 * 3600, run_dir=directory)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("setting", nargs="?", choices=sorted(SETTINGS))
    parser.add_argument("overrides", nargs="*", help="config overrides for every seed")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--total-steps", type=int, default=1_000_000)
    parser.add_argument("--tag", default="", help="suffix of the results file")
    parser.add_argument("--runs-dir", help="keep the run directories here (default: temporary)")
    parser.add_argument("--list", action="store_true", help="list the settings and their references")
    parser.add_argument("--resume", action="store_true",
                        help="continue the runs kept in --runs-dir by an earlier invocation of the same command")
    parser.add_argument("--stopped-at", type=int, metavar="STEPS",
                        help="train nothing: report the runs in --runs-dir cut at their last evaluation <= STEPS")
    args = parser.parse_intermixed_args()
    if (args.resume or args.stopped_at) and not args.runs_dir:
        parser.error("--resume and --stopped-at read the runs in --runs-dir: give --runs-dir")
    if args.list or not args.setting:
        for name, (_, preset, _, reference) in SETTINGS.items():
            print(f"{name}: {preset}; reference: {reference}")
        return
    algo, preset, vmapped, reference = SETTINGS[args.setting]
    common = ["--config", preset, f"total_steps={args.total_steps}", "logging.console=false", *args.overrides]
    start = time.perf_counter()
    if vmapped:
        summary = train(args, algo, "all", [*common, f"num_seeds={args.seeds}"])
        seeds = [{"seed": "all", "curve": curve(summary), "final_per_seed": summary.get("eval_return_per_seed"),
                  "train_sps": summary["train_sps"], "wall_s": summary["wall_s"]}]
        finals = list(summary.get("eval_return_per_seed") or [summary["eval_return_mean"]])
    else:
        with concurrent.futures.ThreadPoolExecutor(args.seeds) as pool:
            runs = list(pool.map(lambda s: train(args, algo, f"seed{s}", [*common, f"seed={s}"]), range(args.seeds)))
        seeds = [{"seed": s, "curve": curve(r), "train_sps": r["train_sps"], "wall_s": r["wall_s"]}
                 for s, r in enumerate(runs)]
        finals = [r["eval_return_mean"] for r in runs]
    record = {
        "setting": args.setting,
        "command": f"python benchmarks/learning.py {args.setting} --seeds {args.seeds} "
                   f"--total-steps {args.total_steps} {' '.join(args.overrides)}".strip(),
        "preset": preset,
        "overrides": args.overrides,
        "reference": reference,
        "final_mean": statistics.mean(finals),
        "final_std": statistics.pstdev(finals),
        "final_per_seed": finals,
        "seeds": seeds,
        "process_wall_s": time.perf_counter() - start,
        "resumed": args.resume,
        "stopped_at": args.stopped_at,  # None: every run went to --total-steps
    }
    name = f"learning_{args.setting}{'_' + args.tag if args.tag else ''}"
    steps = f"{args.total_steps:,} steps" if not args.stopped_at else f"stopped at {args.stopped_at:,} steps"
    print(f"{machine()}: {args.setting} {steps}: final greedy return "
          f"{record['final_mean']:.1f} +- {record['final_std']:.1f} ({len(finals)} seeds); reference: {reference}")
    print(f"saved {save(name, record)}")


if __name__ == "__main__":
    main()
