"""Soak run: a long PPO CartPole run with frequent checkpoints and evaluations.

Samples the training process's resident memory (RSS) and the run directory's disk use once a
second, and checks that both stay flat: no leak per chunk, evaluation or checkpoint, and
``checkpoint.keep`` bounds the disk. Writes ``benchmarks/results/soak.json``.

    python benchmarks/soak.py --steps 1e8
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, machine


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def disk_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20 if path.exists() else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=float, default=1e8)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "soak.json"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "run"
        cmd = [sys.executable, "-m", "robojax.cli", "train", "ppo", "--env", "gymnax/CartPole-v1", "--run-dir", str(run),
               f"total_steps={int(args.steps)}", "logging.interval=100000", "eval.interval=500000",
               "checkpoint.interval=500000", "checkpoint.keep=3", "logging.console=false"]
        start = time.time()
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        samples = []
        while proc.poll() is None:
            rss = rss_mb(proc.pid)
            if rss is not None:
                samples.append({"t": round(time.time() - start, 1), "rss_mb": round(rss, 1),
                                "disk_mb": round(disk_mb(run), 2)})
            time.sleep(1.0)
        out, err = proc.communicate()
        if proc.returncode:
            raise SystemExit(f"{' '.join(cmd)} failed:\n{err[-3000:]}")
        summary = json.loads(out.strip().splitlines()[-1])
        checkpoints = len(list((run / "checkpoints").glob("step_*.ckpt")))
    # Memory once training runs (the first log point is on disk: compilation is over) against the end.
    steady = [s for s in samples if s["disk_mb"] > 0]
    quarter = max(1, len(steady) // 4)
    first, last = steady[:quarter], steady[-quarter:]
    result = {
        "machine": machine(),
        "command": " ".join(cmd[1:]),
        "env_steps": summary["env_steps"],
        "wall_s": summary["wall_s"],
        "train_sps": summary["train_sps"],
        "final_eval_return": summary["eval_return_mean"],
        "rss_mb_first_quarter_mean": sum(s["rss_mb"] for s in first) / len(first),
        "rss_mb_last_quarter_mean": sum(s["rss_mb"] for s in last) / len(last),
        "rss_mb_max": max(s["rss_mb"] for s in samples),
        "disk_mb_max": max(s["disk_mb"] for s in samples),
        "checkpoints_on_disk_at_end": checkpoints,
        "samples": samples,
    }
    Path(args.out).write_text(json.dumps(result, indent=1))
    print(json.dumps({k: v for k, v in result.items() if k != "samples"}, indent=1))


if __name__ == "__main__":
    main()
