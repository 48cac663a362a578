"""Draw the stored 1M-step SAC HalfCheetah learning curves with ``robojax plot``.

The runs behind ``benchmarks/results/halfcheetah_1m*.json`` (see RESULTS.md) kept their curves
in those files, not their run directories. This rebuilds a minimal run directory for each
(the preset as ``config.yaml``, the curve as ``metrics.jsonl``, the final evaluation as
``summary.json``) and plots both against env steps and wall-clock time.

    python benchmarks/plot_halfcheetah.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from common import ROOT

RUNS = {"halfcheetah_1m_1env": "configs/sac_halfcheetah.yaml", "halfcheetah_1m": "configs/sac_halfcheetah_parallel.yaml"}


def rebuild(name: str, preset: str, run_dir: Path) -> Path:
    result = json.loads((ROOT / "benchmarks" / "results" / f"{name}.json").read_text())
    run_dir.mkdir(parents=True)
    config = {**yaml.safe_load((ROOT / preset).read_text()), "num_seeds": 1}
    (run_dir / "config.yaml").write_text(yaml.safe_dump(config))
    with open(run_dir / "metrics.jsonl", "w") as f:
        for env_steps, wall_s, train_return, eval_return in result["curve_env_steps_wall_train_return_eval_return"]:
            record = {"env_steps": env_steps, "wall_s": wall_s, "train/episode_return": train_return}
            if eval_return is not None:
                record["eval/return_mean"] = eval_return
            f.write(json.dumps(record) + "\n")
    keep = ("eval_return_mean", "env_steps", "wall_s")
    (run_dir / "summary.json").write_text(json.dumps({k: result["summary"][k] for k in keep}))
    return run_dir


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    dirs = [str(rebuild(name, preset, tmp / name)) for name, preset in RUNS.items()]
    for x, suffix in (("env_steps", ""), ("wall_s", "_wall")):
        out = ROOT / "benchmarks" / "results" / f"halfcheetah_1m{suffix}.png"
        subprocess.run([sys.executable, "-m", "robojax.cli", "plot", *dirs, "--x", x, "--out", str(out)], check=True, cwd=ROOT)


if __name__ == "__main__":
    main()
