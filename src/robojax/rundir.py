"""One writer per run directory: an advisory lock that the kernel releases when its process dies,
and the checks every trainer makes before it writes into a run directory or resumes from it."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

from robojax.checkpoint import latest_checkpoint
from robojax.errors import CheckpointError, RunDirError
from robojax.interrupts import DeferredInterrupts

LOCK_NAME = ".lock"


class RunDirLock:
    """Context manager holding an exclusive ``flock`` on ``run_dir/.lock`` (created if needed).

    A second ``train`` or ``--resume`` on the same directory is refused with ``RunDirError``
    instead of interleaving two runs' checkpoints and logs. ``flock`` locks belong to the open
    file, so a crashed or killed process never leaves the directory locked.
    """

    def __init__(self, run_dir: str | Path):
        self.run_dir = Path(run_dir)
        self._fd: int | None = None

    def __enter__(self) -> RunDirLock:
        try:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.run_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise RunDirError(f"cannot use run directory {str(self.run_dir)!r}: {e.strerror or e}") from e
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise RunDirError(
                f"run directory {str(self.run_dir)!r} is in use by another robojax process (pid {owner}); "
                "wait for it to end or choose another --run-dir"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return self

    def __exit__(self, kind: type | None, value: BaseException | None, tb: TracebackType | None) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing releases the lock
            self._fd = None


def checked_run_dir(run_dir: str | Path | None, resume: bool) -> Path | None:
    """``run_dir`` as a path (``None``: the trainer picks a new one); with ``resume`` it must be
    given and hold a checkpoint (``CheckpointError`` otherwise)."""
    if not resume:
        return None if run_dir is None else Path(run_dir)
    if run_dir is None:
        raise CheckpointError("resume=True needs the run directory to resume from")
    run_dir = Path(run_dir)
    if latest_checkpoint(run_dir / "checkpoints") is None:
        raise CheckpointError(f"no checkpoint to resume from in {str(run_dir / 'checkpoints')!r}")
    return run_dir


@contextmanager
def claimed_run_dir(run_dir: Path, resume: bool) -> Iterator[DeferredInterrupts]:
    """Hold ``run_dir`` for one training process: a new run never writes over an earlier one, a
    second process is refused (``RunDirLock``), and Ctrl-C/SIGTERM are deferred to the trainer's
    safe points (the yielded ``DeferredInterrupts``)."""
    if not resume and (run_dir / "config.yaml").exists():
        raise RunDirError(
            f"run directory {str(run_dir)!r} already holds a run; continue it with --resume or choose another --run-dir"
        )
    with RunDirLock(run_dir), DeferredInterrupts() as stop:
        yield stop


def config_changes(now: dict[str, Any], saved: dict[str, Any], prefix: str = "") -> list[str]:
    """The fields in which two experiment dicts differ, as ``"a.b (checkpoint X, now Y)"``."""
    keys = []
    for k in sorted(set(now) | set(saved)):
        if isinstance(now.get(k), dict) and isinstance(saved.get(k), dict):
            keys += config_changes(now[k], saved[k], f"{prefix}{k}.")
        elif now.get(k) != saved.get(k):
            keys.append(f"{prefix}{k} (checkpoint {saved.get(k)!r}, now {now.get(k)!r})")
    return keys


def check_resumable(path: Path, meta: dict[str, Any], algo: str, experiment: dict[str, Any]) -> None:
    """Refuse (``CheckpointError``) a checkpoint written by another algorithm or with another config."""
    if meta.get("algo") != algo:
        raise CheckpointError(f"{str(path)!r} was written by {meta.get('algo')!r}, not {algo!r}")
    changed = config_changes(experiment, meta.get("config", {}))
    if changed:
        raise CheckpointError(f"{str(path)!r} was written with a different config: {'; '.join(changed)}")
