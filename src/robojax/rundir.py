"""One writer per run directory: an advisory lock that the kernel releases when its process dies."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from robojax.errors import RunDirError

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
