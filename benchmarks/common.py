"""Helpers shared by the benchmark scripts: run robojax's CLI or a peer script, print ratios."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}"


def run_robojax(algo: str, *args: str, timeout: int = 3600, run_dir: str | None = None) -> dict:
    """``robojax train ALGO ARGS`` in a fresh process; returns its summary (last stdout line)
    with the run's log points under ``"metrics"`` (from metrics.jsonl). The run directory is
    temporary unless ``run_dir`` is given (to watch a long run's metrics.jsonl as it grows)."""
    with tempfile.TemporaryDirectory() as tmp:
        run = run_dir or f"{tmp}/run"
        cmd = [sys.executable, "-m", "robojax.cli", "train", algo, "--run-dir", run, *args]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
        if proc.returncode:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
        summary = json.loads(proc.stdout.strip().splitlines()[-1])
        lines = Path(f"{run}/metrics.jsonl").read_text().splitlines()
        summary["metrics"] = [json.loads(line) for line in lines]
        return summary


def steady_sps(summary: dict, after_steps: int) -> float:
    """Env steps/s over the log intervals that start after ``after_steps`` (e.g. past warm-up)."""
    steps, seconds, previous = 0, 0.0, 0
    for record in summary["metrics"]:
        n = record["env_steps"] - previous
        if previous >= after_steps and record.get("sps"):
            steps, seconds = steps + n, seconds + n / record["sps"]
        previous = record["env_steps"]
    return steps / seconds


def run_peer(python: str, script: str, *args: str, timeout: int = 3600) -> dict:
    """A peer benchmark script (in its own virtualenv) that prints one JSON line."""
    cmd = [python, str(ROOT / "benchmarks" / script), "--json", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    if proc.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def save(name: str, record: dict) -> Path:
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    path = out / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), **record}, indent=2))
    return path


def table(rows: list[dict], columns: list[str]) -> str:
    """A markdown table of ``rows`` restricted to ``columns``."""
    def fmt(v):
        if isinstance(v, float):
            return f"{v:,.2f}" if abs(v) < 1000 else f"{v:,.0f}"
        return str(v)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(fmt(r.get(c, "")) for c in columns) + " |" for r in rows]
    return "\n".join(lines)
