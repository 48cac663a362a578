"""Run logging: live console progress (rich), TensorBoard, optional wandb, and JSON files."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from robojax.config import LogConfig


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def drop_log_points_after(path: Path, env_steps: int) -> None:
    """Rewrite ``metrics.jsonl`` without records past ``env_steps`` (and without a torn last line)."""
    if not path.is_file():
        return
    lines = path.read_text().splitlines(keepends=True)
    kept = []
    for line in lines:
        try:
            record = json.loads(line)
        except json.JSONDecodeError:  # a line cut short by a kill
            continue
        if line.endswith("\n") and record.get("env_steps", 0) <= env_steps:
            kept.append(line)
    if kept != lines:
        tmp = path.with_suffix(".jsonl.tmp")
        tmp.write_text("".join(kept))
        os.replace(tmp, path)


class RunLogger:
    """Writes every log point to ``metrics.jsonl``, TensorBoard and wandb, and shows progress."""

    def __init__(
        self,
        run_dir: Path,
        config: dict[str, Any],
        log_config: LogConfig,
        total_steps: int,
        start_steps: int = 0,
        run_name: str | None = None,
    ):
        self.run_dir = Path(run_dir)
        self.config = log_config
        self.console = Console(stderr=True, quiet=not log_config.console)
        # A resumed run continues from its checkpoint: log points written after it (by a run that
        # was killed before its next checkpoint) are dropped, so no step is logged twice.
        drop_log_points_after(self.run_dir / "metrics.jsonl", start_steps)
        self._metrics_file = open(self.run_dir / "metrics.jsonl", "a")
        self._tb = None
        if log_config.tensorboard:
            from tensorboardX import SummaryWriter

            # purge_step hides events at or after it that an earlier, killed process wrote
            self._tb = SummaryWriter(str(self.run_dir / "tensorboard"), purge_step=start_steps + 1 if start_steps else None)
        self._wandb = None
        if log_config.wandb and log_config.wandb_mode != "disabled":
            self._wandb = self._start_wandb(config, run_name)
        self._progress = None
        if log_config.console:
            self._progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                TextColumn("{task.completed:,.0f}/{task.total:,.0f} steps"),
                TextColumn("{task.fields[sps]} sps"),
                TextColumn("return {task.fields[ret]}"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=self.console,
            )
            self._task = self._progress.add_task(
                run_name or "train", total=total_steps, completed=start_steps, sps="-", ret="-"
            )
            self._progress.start()

    def _start_wandb(self, config: dict[str, Any], run_name: str | None):
        try:
            import wandb
        except ImportError as e:
            raise ImportError("logging.wandb=true needs wandb: pip install 'robojax[wandb]'") from e
        os.environ.setdefault("WANDB_SILENT", "true")
        return wandb.init(
            project=self.config.wandb_project,
            name=run_name,
            dir=str(self.run_dir),
            config=config,
            mode=self.config.wandb_mode,
            reinit="finish_previous",
        )

    def log(self, env_steps: int, metrics: dict[str, Any]) -> None:
        """Record one log point (``metrics`` may hold NaN for 'no episode ended yet')."""
        record = {"env_steps": env_steps, **{k: (v if _finite(v) or not isinstance(v, float) else None) for k, v in metrics.items()}}
        self._metrics_file.write(json.dumps(record) + "\n")
        self._metrics_file.flush()
        scalars = {k: v for k, v in metrics.items() if _finite(v)}
        if self._tb is not None:
            for k, v in scalars.items():
                self._tb.add_scalar(k, v, env_steps)
            self._tb.flush()
        if self._wandb is not None:
            self._wandb.log(scalars, step=env_steps)
        if self._progress is not None:
            ret = metrics.get("train/episode_return")
            self._progress.update(
                self._task,
                completed=env_steps,
                sps=f"{metrics['sps']:,.0f}" if _finite(metrics.get("sps")) else "-",
                ret=f"{ret:.1f}" if _finite(ret) else "-",
            )

    def video(self, env_steps: int, tag: str, frames: Any, path: Path, fps: int = 30) -> None:
        """Log an episode video (frames ``(T, H, W, 3)`` uint8, already written to ``path``)."""
        if self._tb is not None:
            self._tb.add_video(tag, frames.transpose(0, 3, 1, 2)[None], env_steps, fps=fps)
            self._tb.flush()
        if self._wandb is not None:
            import wandb

            self._wandb.log({tag: wandb.Video(str(path), format="mp4")}, step=env_steps)

    def print(self, message: str) -> None:
        # soft_wrap: long paths stay on one line in non-interactive logs (80 columns there)
        self.console.print(message, soft_wrap=True)

    def close(self, message: str | None = None) -> None:
        """Stop the progress display, then print ``message`` (so it is the last line shown)."""
        if self._progress is not None:
            self._progress.stop()
        if message is not None:
            self.print(message)
        self._metrics_file.close()
        if self._tb is not None:
            self._tb.close()
        if self._wandb is not None:
            self._wandb.finish()


class NullLogger:
    """The logger of processes other than process 0 in a multi-process run: writes nothing."""

    def log(self, env_steps: int, metrics: dict[str, Any]) -> None:
        pass

    def video(self, env_steps: int, tag: str, frames: Any, path: Path, fps: int = 30) -> None:
        pass

    def print(self, message: str) -> None:
        pass

    def close(self, message: str | None = None) -> None:
        pass
