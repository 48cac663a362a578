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


_VECTOR_FLAGS = ("avx2", "avx512f", "avx512_bf16", "avx512_fp16", "avx_vnni", "amx_tile", "amx_bf16", "amx_int8", "neon", "sve")


def cpu() -> dict:
    """The CPU model (``lscpu``'s model name), its vendor, family/model numbers (which tell apart
    generations sold under one name, e.g. AMD EPYC with and without AVX-512) and its vector
    extensions, from /proc/cpuinfo."""
    info = {"model": platform.processor() or platform.machine(), "vendor": "", "family": "", "model_number": "",
            "vector_extensions": []}
    try:
        fields = dict(
            (k.strip(), v.strip()) for k, _, v in (line.partition(":") for line in Path("/proc/cpuinfo").read_text().splitlines()) if v
        )
    except OSError:
        return info
    flags = set((fields.get("flags") or fields.get("Features", "")).split())
    info.update(model=fields.get("model name", info["model"]), vendor=fields.get("vendor_id", ""),
                family=fields.get("cpu family", ""), model_number=fields.get("model", ""),
                vector_extensions=[f for f in _VECTOR_FLAGS if f in flags])
    return info


def cpu_family() -> str:
    """A short name for the CPU family, e.g. ``intel-xeon`` or ``amd-epyc``: results are kept per family."""
    words = cpu()["model"].replace("(R)", "").replace("(TM)", "").lower().split()
    return "-".join(w for w in words[:2] if w.isalpha()) or "unknown"


def machine() -> str:
    c = cpu()
    generation = f", family {c['family']} model {c['model_number']}" if c["family"] else ""
    return (f"{os.cpu_count()} cores, {c['model']}{generation} "
            f"({', '.join(c['vector_extensions']) or 'no vector extensions listed'})")


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
        return read_run(run, printed=json.loads(proc.stdout.strip().splitlines()[-1]))


def read_run(run: str, printed: dict | None = None) -> dict:
    """A finished run's summary (``summary.json`` over the ``printed`` line, which leaves out lists
    such as per-seed values) with its log points from ``metrics.jsonl`` under ``"metrics"``."""
    summary = dict(printed or {})
    saved = Path(f"{run}/summary.json")
    if saved.exists():
        summary.update(json.loads(saved.read_text()))
    lines = Path(f"{run}/metrics.jsonl").read_text().splitlines()
    summary["metrics"] = [json.loads(line) for line in lines]
    return summary


# robojax overrides for a run measured like a peer's single compiled call: one fused chunk,
# no periodic evaluation, checkpoint or output.
NO_HOST_VISITS = ["logging.interval=100000000", "eval.interval=0", "checkpoint.interval=0",
                  "logging.tensorboard=false", "logging.console=false"]


def median_run(runs: list[dict]) -> dict:
    """The run with the median ``train_sps``, with every run's figure in ``train_sps_all``."""
    runs = sorted(runs, key=lambda r: r["train_sps"])
    return {**runs[len(runs) // 2], "train_sps_all": [round(r["train_sps"]) for r in runs]}


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
    """Writes ``record`` to results/<CPU family>/NAME.json, or results/<accelerator>/ when its rows
    ran on one (rows whose ``device`` is not ``cpu``): figures from different hardware never mix."""
    devices = {row.get("device") for row in record.get("rows", [])} - {None, "cpu"}
    folder = "-".join(sorted(devices)).lower().replace(" ", "-") if devices else cpu_family()
    out = ROOT / "benchmarks" / "results" / folder
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.json"
    model = cpu()["model"]
    for row in record.get("rows", []):  # each row names its CPU, also once copied into another file
        row.setdefault("cpu", model)
    path.write_text(json.dumps({"machine": machine(), "cpu": cpu(), **record}, indent=2))
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
