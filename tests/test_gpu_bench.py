"""The GPU benchmark script runs end to end at tiny sizes on CPU, so it cannot rot between GPU runs."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_gpu_benchmark_dry_run(tmp_path):
    env = {**os.environ, "PYTHON": sys.executable}
    proc = subprocess.run(["bash", "benchmarks/gpu/run.sh", str(tmp_path), "--dry-run"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    record = json.loads((tmp_path / "gpu.json").read_text())
    assert record["dry_run"] and not record["errors"]
    assert (tmp_path / "gpu.log").stat().st_size > 0
    rows = {row["what"].split()[0] + " " + row["what"].split()[1]: row for row in record["rows"]}
    assert set(rows) == {"PPO brax/inverted_pendulum", "PPO gymnax/CartPole-v1", "SAC gymnax/Pendulum-v1"}
    for row in record["rows"]:
        assert row["train_sps"] > 0 and row["compile_s"] > 0 and row["env_steps"] > 0
    assert rows["PPO brax/inverted_pendulum"]["raw_sps"] > 0 and rows["PPO brax/inverted_pendulum"]["ratio_vs_raw"] > 0
    assert rows["SAC gymnax/Pendulum-v1"]["grad_updates_per_s"] > 0
