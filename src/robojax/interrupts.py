"""Deferred Ctrl-C and SIGTERM: a signal during training is acted on at the next safe point.

Raising ``KeyboardInterrupt`` wherever the signal lands would leave the trainer holding a
train state and counters that may not belong together (a chunk dispatched but not finished, a
half-written log point). While training, the signals only set a flag; the trainer checks it
between complete chunks, saves a checkpoint of exactly what it has finished, and then raises.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType, TracebackType


class Terminated(KeyboardInterrupt):
    """SIGTERM (a scheduler's pre-emption, ``kill PID``): handled like Ctrl-C, checkpoint first."""


class DeferredInterrupts:
    """Context manager: SIGINT and SIGTERM are recorded instead of raised; at a point it chooses,
    the caller checks ``requested`` and raises ``exception()``: ``KeyboardInterrupt`` (SIGINT) or
    ``Terminated`` (SIGTERM).

    Further signals while stopping are ignored (the checkpoint being written is never cut short;
    ``kill -9`` still ends the process, and checkpoint writes are atomic). A SIGINT that the process
    ignores (started in the background of a non-interactive shell) stays ignored. Outside the main
    thread, where Python cannot install handlers, this does nothing.
    """

    def __init__(self) -> None:
        self.received: int | None = None
        self._previous: dict[int, object] = {}

    def __enter__(self) -> DeferredInterrupts:
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                if signal.getsignal(signum) is not signal.SIG_IGN:
                    self._previous[signum] = signal.signal(signum, self._record)
        return self

    def _record(self, signum: int, frame: FrameType | None) -> None:
        if self.received is None:
            self.received = signum

    @property
    def requested(self) -> bool:
        """Whether a stop was asked for (a cheap check for loops that can stop early)."""
        return self.received is not None

    def exception(self) -> KeyboardInterrupt:
        """What to raise: ``Terminated`` for SIGTERM, else ``KeyboardInterrupt`` (also when this
        process got no signal but another process of the same run did)."""
        return Terminated() if self.received == signal.SIGTERM else KeyboardInterrupt()

    def __exit__(self, kind: type | None, value: BaseException | None, tb: TracebackType | None) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()
