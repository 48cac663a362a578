"""A 64-agent PPO CartPole sweep in one program vs separate processes: wall time per agent.

The sweep (4 learning rates x 2 entropy coefficients x 8 seeds, PureJaxRL's CartPole setting,
5e5 env steps per agent) runs as one ``robojax train`` process; separate processes train one
agent each (a setting of the sweep, one seed) with the same config. Both are timed from
process start to exit (interpreter and JAX start-up, compilation, training, evaluation,
checkpoint). 64 separate processes would take hours on 2 cores: ``--separate N`` of them run
(one after the other, interleaved with the sweep) and the per-agent time is their median.
The sweep's learning curves are drawn with ``robojax plot``.

    python benchmarks/sweep_cartpole.py [--separate 3] [--run-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from common import ROOT, machine

LEARNING_RATES = [1e-3, 5e-4, 2.5e-4, 1e-4]
ENT_COEFS = [0.0, 0.01]
SEEDS = 8
BASE = ["--config", "configs/ppo_cartpole.yaml", "logging.console=false", "logging.tensorboard=false"]


def train(run_dir: Path, *overrides: str) -> dict:
    """One ``robojax train ppo`` process; its summary plus the process wall time."""
    cmd = [sys.executable, "-m", "robojax.cli", "train", "ppo", "--run-dir", str(run_dir), *BASE, *overrides]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - start
    if proc.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
    summary = json.loads((run_dir / "summary.json").read_text())
    keep = ("eval_return_mean", "compile_s", "train_s", "train_sps", "wall_s")
    return {"command": " ".join(cmd[2:]), "process_wall_s": wall, **{k: summary[k] for k in keep}}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--separate", type=int, default=3, help="separate single-agent processes to time")
    parser.add_argument("--run-dir", help="keep the sweep's run directory here (default: a temporary one)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    sweep_dir = Path(args.run_dir) if args.run_dir else tmp / "sweep"
    settings = [(lr, ent) for lr in LEARNING_RATES for ent in ENT_COEFS]
    agents = len(settings) * SEEDS
    sweep_args = [f"sweep.learning_rate={LEARNING_RATES}", f"sweep.ent_coef={ENT_COEFS}", f"num_seeds={SEEDS}"]

    separate = []
    for i in range(args.separate):
        lr, ent = settings[(3 * i) % len(settings)]
        separate.append(train(tmp / f"separate{i}", f"learning_rate={lr}", f"ent_coef={ent}", f"seed={i}"))
        print(f"separate {i}: {separate[-1]['process_wall_s']:.1f} s", file=sys.stderr)
        if i == 0:  # the sweep between the separate runs: machine load affects both sides alike
            sweep = train(sweep_dir, *sweep_args)
            print(f"sweep of {agents}: {sweep['process_wall_s']:.1f} s", file=sys.stderr)

    per_agent_separate = statistics.median(r["process_wall_s"] for r in separate)
    per_agent_sweep = sweep["process_wall_s"] / agents
    plot = ROOT / "benchmarks" / "results" / "sweep_cartpole.png"
    subprocess.run([sys.executable, "-m", "robojax.cli", "plot", str(sweep_dir), "--out", str(plot)], check=True, cwd=ROOT)
    result = {
        "machine": machine(),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "agents": agents,
        "sweep": sweep,
        "separate": separate,
        "per_agent_s": {"sweep": per_agent_sweep, "separate_median": per_agent_separate},
        "separate_64_extrapolated_s": per_agent_separate * agents,
        "speedup_per_agent": per_agent_separate / per_agent_sweep,
        "plot": str(plot.relative_to(ROOT)),
    }
    out = ROOT / "benchmarks" / "results" / "sweep_cartpole.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
