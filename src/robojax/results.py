"""Results of run directories: learning curves per run or swept setting, and final-result tables.

A run trains ``num_seeds`` seeds of each swept setting (one setting without a sweep); per-seed
values are stored flat, settings outer (``*_per_seed`` in ``metrics.jsonl`` and
``summary.json``). This module splits them by setting and labels each curve by the config
fields that differ between the curves drawn together.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from rich.table import Table

from robojax.config import BaseConfig, load_yaml, sweep_settings
from robojax.errors import RobojaxError
from robojax.stats import summarize_seeds

#: Config sections that do not change what is learned: never used to label curves.
_NOT_LABELS = ("sweep", "logging", "checkpoint", "eval.video")


@dataclasses.dataclass
class Series:
    """One learning curve: a run, or one swept setting of a run."""

    run_dir: Path
    experiment: dict[str, Any]  # the run's config with this setting's values filled in
    env_steps: np.ndarray  # (points,), env steps per seed
    wall_s: np.ndarray  # (points,)
    values: np.ndarray  # (points, seeds)
    label: str = ""

    @property
    def final(self) -> np.ndarray:
        """Per-seed values at the last point."""
        return self.values[-1]


def _per_seed_name(metric: str) -> str | None:
    return metric[: -len("_mean")] + "_per_seed" if metric.endswith("_mean") else None


def _jsonl_name(metric: str) -> str:
    """``eval_return_mean`` (summary.json) -> ``eval/return_mean`` (metrics.jsonl)."""
    return "eval/" + metric[len("eval_") :] if metric.startswith("eval_") else metric


def split_settings(summary: dict[str, Any], config: BaseConfig) -> list[dict[str, Any]]:
    """Per-setting results of a sweep: ``[{"setting": {...}, "eval_return_mean": ..., "eval_return_per_seed": [...]}]``."""
    k, out = config.num_seeds, []
    for i, setting in enumerate(config.sweep_settings()):
        entry: dict[str, Any] = {"setting": setting}
        for name, values in summary.items():
            if name.endswith("_per_seed") and isinstance(values, list):
                mine = values[i * k : (i + 1) * k]
                entry[name.replace("_per_seed", "_mean")] = float(np.mean(mine))
                entry[name] = mine
        out.append(entry)
    return out


def load_series(run_dir: str | Path, metric: str = "eval_return_mean") -> list[Series]:
    """The curves of ``metric`` in a run directory: one per swept setting, values per seed.

    Points come from ``metrics.jsonl`` and, once the run has finished, the final evaluation in
    ``summary.json``. ``metric`` is named as in ``summary.json`` (``eval_return_mean``) or as
    in ``metrics.jsonl`` (``train/episode_return``).
    """
    run_dir = Path(run_dir)
    if not (run_dir / "metrics.jsonl").is_file():
        raise RobojaxError(f"{str(run_dir)!r} is not a run directory (no metrics.jsonl)")
    experiment = load_yaml(run_dir / "config.yaml")
    settings = sweep_settings(experiment.get("sweep") or {})
    seeds = int(experiment.get("num_seeds", 1))
    per_seed = _per_seed_name(metric)
    names = [n for n in (per_seed, metric) if n]  # per-seed values first, else the scalar

    points = []
    for line in (run_dir / "metrics.jsonl").read_text().splitlines():
        record = json.loads(line)
        values = next((record[_jsonl_name(n)] for n in names if record.get(_jsonl_name(n)) is not None), None)
        if values is not None:
            points.append((record["env_steps"], record["wall_s"], values))
    summary_path = run_dir / "summary.json"
    if summary_path.is_file():
        summary = json.loads(summary_path.read_text())
        values = next((summary[n] for n in names if summary.get(n) is not None), None)
        if values is not None:
            points.append((summary["env_steps"], summary["wall_s"], values))
    if not points:
        raise RobojaxError(f"{str(run_dir)!r} has no values of {metric!r} yet")
    values = np.array([np.atleast_1d(np.asarray(v, np.float64)) for _, _, v in points])
    if values.shape[1] != len(settings) * seeds:
        if len(settings) > 1:
            raise RobojaxError(
                f"{metric!r} is not recorded per seed in {str(run_dir)!r}, so it cannot be split by swept "
                f"setting; per-seed metrics: eval_return_mean, eval_stochastic_return_mean"
            )
        values = values[:, :1]  # a scalar (mean over seeds) per point
    values = values.reshape(len(points), len(settings), -1)
    base = {k: v for k, v in experiment.items() if k != "sweep"}
    steps = np.array([p[0] for p in points], np.float64)
    wall = np.array([p[1] for p in points], np.float64)
    return [Series(run_dir, {**base, **setting}, steps, wall, values[:, i]) for i, setting in enumerate(settings)]


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out = {}
    for k, v in tree.items():
        if isinstance(v, dict):
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def label_series(series: list[Series]) -> list[Series]:
    """Label each curve by the config fields that differ between them (else by its run directory)."""
    flat = [_flatten(s.experiment) for s in series]
    keys = sorted({k for f in flat for k in f if not k.startswith(_NOT_LABELS)})
    differ = [k for k in keys if len({json.dumps(f.get(k)) for f in flat}) > 1]
    for s, f in zip(series, flat, strict=True):
        s.label = ", ".join(f"{k}={f.get(k)}" for k in differ) or s.run_dir.name
    counts = Counter(s.label for s in series)
    for s in series:  # the same config twice: tell the runs apart
        if counts[s.label] > 1 and s.label != s.run_dir.name:
            s.label = f"{s.run_dir.name}: {s.label}"
    return series


def _interval(estimate: float, low: float, high: float) -> str:
    if np.isnan(low):
        return f"{estimate:.1f}"
    return f"{estimate:.1f} [{low:.1f}, {high:.1f}]"


def results_table(rows: list[tuple[str, np.ndarray, float, float]], title: str | None = None) -> Table:
    """A rich table of final results; ``rows`` are ``(label, per-seed values, env_steps, wall_s)``.

    Mean, median and interquartile mean over seeds, each with a 95% percentile-bootstrap
    confidence interval over seeds (none with a single seed).
    """
    table = Table(title=title, caption="[95% percentile-bootstrap confidence interval over seeds]")
    for name in ("run", "seeds", "env steps", "wall s", "mean", "median", "IQM"):
        table.add_column(name, justify="left" if name == "run" else "right")
    for label, values, env_steps, wall_s in rows:
        stats = summarize_seeds(values)
        table.add_row(
            label, str(len(values)), f"{env_steps:,.0f}", f"{wall_s:.1f}",
            *(_interval(*stats[name]) for name in ("mean", "median", "iqm")),
        )
    return table


def sweep_rows(settings: list[dict[str, Any]], summary: dict[str, Any]) -> list[tuple[str, np.ndarray, float, float]]:
    """Rows of ``results_table`` for the per-setting results of a sweep (``split_settings``)."""
    name = "eval_return_per_seed" if "eval_return_per_seed" in settings[0] else "eval_stochastic_return_per_seed"
    return [
        (", ".join(f"{k}={v}" for k, v in s["setting"].items()), np.asarray(s[name]), summary["env_steps"], summary["wall_s"])
        for s in settings
    ]
