"""What a run shows and writes besides metrics.jsonl: the console display and TensorBoard events."""

import json
import struct
import subprocess
import sys
from pathlib import Path

from tensorboardX.proto.event_pb2 import Event

ROOT = Path(__file__).resolve().parents[1]


def read_events(log_dir: Path) -> list[Event]:
    """Every event of the TFRecord files in ``log_dir`` (length, crc, payload, crc per record)."""
    events = []
    for path in sorted(log_dir.glob("events.out.tfevents.*")):
        blob, pos = path.read_bytes(), 0
        while pos < len(blob):
            (length,) = struct.unpack("<Q", blob[pos : pos + 8])
            events.append(Event.FromString(blob[pos + 12 : pos + 12 + length]))
            pos += 12 + length + 4
    return events


def tags(events: list[Event]) -> dict[str, list[int]]:
    """Summary tag -> the steps it was written at."""
    out: dict[str, list[int]] = {}
    for event in events:
        for value in event.summary.value:
            out.setdefault(value.tag, []).append(event.step)
    return out


def test_console_display_and_tensorboard_scalars(tmp_path):
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "robojax.cli", "train", "ppo", "--env", "gymnax/CartPole-v1", "--run-dir", str(run),
           "total_steps=8192", "num_envs=4", "logging.interval=2048", "eval.interval=4096", "eval.episodes=2",
           "logging.console=true", "logging.tensorboard=true"]
    # stderr is a pipe: the progress display runs non-interactively, as in CI logs or under nohup
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert "run dir" in proc.stderr and "compiled train step" in proc.stderr
    assert "step 4,096: eval return" in proc.stderr
    assert lines[-1].startswith(f"final eval return {summary['eval_return_mean']:.2f} |"), lines[-3:]
    assert lines[-1].endswith(summary["checkpoint"]), lines[-3:]
    written = tags(read_events(run / "tensorboard"))
    for tag in ("sps", "train/episode_return", "train/policy_loss", "train/value_loss", "train/entropy"):
        assert written.get(tag) == [2048, 4096, 6144, 8192], (tag, sorted(written))
    assert written["eval/return_mean"] == [4096]  # the final evaluation goes to summary.json
