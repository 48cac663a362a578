"""The same seed and config give bit-identical runs in two separate processes."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from robojax.checkpoint import read_checkpoint

ROOT = Path(__file__).resolve().parents[1]
VARYING = {"wall_s", "sps"}  # timings: the only fields allowed to differ


def train(run_dir: Path, *overrides: str) -> dict:
    cmd = [sys.executable, "-m", "robojax.cli", "train", "ppo", "--env", "gymnax/Pendulum-v1", "--run-dir", str(run_dir),
           "total_steps=4096", "num_envs=4", "rollout_length=64", "num_minibatches=2", "logging.interval=1024",
           "normalize_obs=true", "normalize_rewards=true", "logging.console=false", "logging.tensorboard=false",
           *overrides]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_two_processes_give_identical_runs(tmp_path):
    a, b = train(tmp_path / "a"), train(tmp_path / "b")
    assert a["eval_return_mean"] == b["eval_return_mean"]
    (_, state_a), (_, state_b) = read_checkpoint(a["checkpoint"]), read_checkpoint(b["checkpoint"])
    assert state_a.keys() == state_b.keys() and any("reward_scaler" in k for k in state_a)
    for name in state_a:
        np.testing.assert_array_equal(np.asarray(state_a[name]), np.asarray(state_b[name]), err_msg=name)
    logs = [[json.loads(line) for line in (tmp_path / r / "metrics.jsonl").read_text().splitlines()] for r in "ab"]
    strip = [[{k: v for k, v in rec.items() if k not in VARYING} for rec in log] for log in logs]
    assert len(strip[0]) == 4 and strip[0] == strip[1]
    # and a different seed gives a different run (so the comparison above can fail)
    c = train(tmp_path / "c", "seed=1")
    _, state_c = read_checkpoint(c["checkpoint"])
    assert any(not np.array_equal(np.asarray(state_a[k]), np.asarray(state_c[k])) for k in state_a if "params" in k)
