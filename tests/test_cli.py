"""The command line: bad input gives one clear line and exit code 2; train/eval/resume/interrupt work."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
QUIET = ["logging.console=false", "logging.tensorboard=false"]


def robojax(*args, timeout=300):
    return subprocess.run(
        [sys.executable, "-m", "robojax.cli", *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT
    )


def assert_clean_error(proc, message):
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["train", "ppo", "--env", "gymnax/CartPol"], "unknown gymnax env 'CartPol'; available: CartPole-v1"),
        (["train", "ppo", "--env", "nosuite/x"], "unknown env suite 'nosuite'"),
        (["train", "ppo", "lerning_rate=1"], "unknown config key 'lerning_rate'"),
        (["train", "ppo", "num_envs=four"], "num_envs='four': expected int"),
        (["train", "ppo", "--config", "missing.yaml"], "config file 'missing.yaml' does not exist"),
        (["train", "dqn"], "unknown algo 'dqn'; available: ppo"),
        (["eval", "/nonexistent/run"], "is not a run directory"),
        (["envs", "atari"], "unknown env suite 'atari'"),
    ],
)
def test_bad_input(args, message):
    assert_clean_error(robojax(*args), message)


def test_envs_lists_ids():
    proc = robojax("envs", "gymnax")
    assert proc.returncode == 0 and "gymnax/CartPole-v1" in proc.stdout.split()
    proc = robojax("envs", "tabletop")  # the demonstration tasks have a suite of their own
    assert proc.returncode == 0 and proc.stdout.split() == [
        "tabletop/block-insertion", "tabletop/place-red-in-green", "tabletop/align-box-corner"]
    proc = robojax("train", "ppo", "--env", "tabletop/block-insertion")
    assert proc.returncode == 2 and "robojax train transporter" in proc.stderr and proc.stderr.count("\n") == 1


def test_train_eval_and_corrupt_checkpoint(tmp_path):
    run = tmp_path / "run"
    proc = robojax("train", "ppo", "--env", "gymnax/CartPole-v1", "--config", "configs/ppo_cartpole.yaml",
                   "--run-dir", str(run), "total_steps=4096", "eval.episodes=2", *QUIET)
    assert proc.returncode == 0, proc.stderr
    assert "total_steps: 4096" in proc.stdout  # the resolved config is printed
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["env_steps"] == 4096 and (run / "summary.json").is_file()
    proc = robojax("eval", str(run), "--episodes", "3")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["episodes"] == 3 and result["env_steps"] == 4096
    # CartPole pays 1 per step: the returns are the episode lengths (at least 8 steps before a fall)
    assert result["eval_return_mean"] == pytest.approx(result["eval_length_mean"]) and result["eval_return_mean"] >= 8
    ckpt = next((run / "checkpoints").iterdir())
    ckpt.write_bytes(ckpt.read_bytes()[:-10])
    assert_clean_error(robojax("eval", str(run)), "corrupt")
    assert_clean_error(robojax("train", "ppo", "--resume", str(run), "seed=1"), "--resume continues a run")


def test_interrupt_saves_a_checkpoint_and_resume_finishes(tmp_path):
    """SIGTERM (as a scheduler sends; Ctrl-C takes the same path but is ignored by processes
    started in the background of a non-interactive shell, so it cannot be sent reliably here)."""
    run, total = tmp_path / "run", 60_000
    # 256x256 networks: slow enough (about 3 s of training after the first log line at 2,048
    # steps on an idle 2-core machine) that the signal lands mid-run.
    args = ["train", "ppo", "--run-dir", str(run), f"total_steps={total}", "logging.interval=2048",
            "network.hidden_sizes=[256,256]", *QUIET]
    proc = subprocess.Popen([sys.executable, "-m", "robojax.cli", *args], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline, metrics = time.time() + 120, run / "metrics.jsonl"
    try:
        while not (metrics.is_file() and metrics.stat().st_size > 0):
            assert proc.poll() is None, f"training exited before its first log line: {proc.stderr.read()}"
            assert time.time() < deadline, "no log line within 120 s"
            time.sleep(0.2)
    except AssertionError:
        proc.kill()
        proc.communicate()
        raise
    os.kill(proc.pid, signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert "interrupted" in err and "--resume" in err
    saved = list((run / "checkpoints").iterdir())
    assert len(saved) == 1
    interrupted_at = int(saved[0].stem.split("_")[1])
    assert 0 < interrupted_at < total
    proc = robojax("train", "ppo", "--resume", str(run))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1])["env_steps"] >= total
    steps = [json.loads(line)["env_steps"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert steps == sorted(steps) and steps[-1] >= total


@pytest.mark.parametrize("command", ["train", "eval", "envs"])
def test_subcommand_help_shows_its_own_usage(command):
    proc = robojax(command, "--help")
    assert proc.returncode == 0, proc.stderr
    usage = proc.stdout.split("\n\n")[0]
    assert usage.startswith(f"usage: robojax {command} [-h]"), usage
    assert all(other not in usage for other in {"train", "eval", "envs"} - {command})
