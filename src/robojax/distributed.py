"""Joining a multi-process run with ``jax.distributed`` (gloo collectives on CPU).

``initialize`` must run before any other JAX call. Every process then sees all processes'
devices (``jax.devices()``) and runs the same program on its own (``jax.local_devices()``).
JAX ends a process that cannot reach its peers with a bare ``DEADLINE_EXCEEDED`` abort at
start, and with a stack trace when a peer dies mid-run; watchdogs here fire first (at start,
and for the whole run through ``PeerWatch``), with one line that says which process is missing.
"""

from __future__ import annotations

import atexit
import os
import socket
import sys
import threading
import time

import jax

from robojax.config import DistributedConfig
from robojax.errors import ConfigError

#: JAX's own deadlines come this much later than the watchdogs', so the watchdogs speak first.
_JAX_GRACE_S = 10
#: Seconds between two signs of life of a process.
_BEAT_S = 1.0


def _coordinator_reachable(address: str) -> bool:
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=2):
            return True
    except (OSError, ValueError):
        return False


def missing_message(config: DistributedConfig) -> str:
    """Which process(es) did not join, as far as this process can tell."""
    me, n, address = config.process_id, config.num_processes, config.coordinator
    where = f"distributed.process_id={me}: not all of distributed.num_processes={n} joined within {config.timeout} s"
    if me != 0 and address and not _coordinator_reachable(address):
        return f"{where}: process 0 (the coordinator, {address}) is missing"
    others = [i for i in range(n or 0) if i != me]
    if len(others) == 1:
        return f"{where}: process {others[0]} is missing"
    return f"{where}: one or more of processes {others} are missing"


def _die(message: str) -> None:
    print(f"robojax: error: {message}", file=sys.stderr, flush=True)
    sys.stdout.flush()
    os._exit(2)


class PeerWatch:
    """Signs of life between the processes of a run, through ``jax.distributed``'s key-value store.

    Every ``_BEAT_S`` each process posts a counter under ``robojax/alive/<id>`` and reads its
    peers'; a peer whose counter has not moved for ``timeout`` seconds is named and this
    process exits (code 2). A process that ends normally posts ``done`` first, so a peer still
    finishing its last steps does not take it for dead. If the store itself is gone, process 0
    (which holds it) is the one missing.
    """

    def __init__(self, client, process_id: int, num_processes: int, timeout: float):
        self.client, self.me, self.timeout = client, process_id, timeout
        self.peers = [i for i in range(num_processes) if i != process_id]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="robojax-peer-watch", daemon=True)

    def start(self) -> PeerWatch:
        self._thread.start()
        atexit.register(self.stop)  # after JAX's own atexit, so it runs before jax.distributed shuts down
        return self

    def stop(self) -> None:
        if not self._stop.is_set():
            self._stop.set()
            self._thread.join()
            try:
                self.client.key_value_set(f"robojax/alive/{self.me}", "done", allow_overwrite=True)
            except Exception:  # noqa: BLE001 - the store may already be gone at exit; nothing to tell
                pass

    def silent_peers(self, wait_s: float) -> list[int]:
        """Peers whose counter in the store does not move in the next ``wait_s`` seconds (a live
        peer posts every ``_BEAT_S``; a dead one's last post stays)."""
        peers = list(self.peers)
        try:
            before = {i: self._read(i) for i in peers}
            time.sleep(wait_s)
            return [i for i in peers if i in self.peers and self._read(i) == before[i]]
        except Exception:  # noqa: BLE001 - the store is gone: so is process 0, which holds it
            return [0] if self.me != 0 else []

    def _run(self) -> None:
        beat, seen = 0, {i: (None, time.monotonic()) for i in self.peers}  # peer -> (counter, when it moved)
        while not self._stop.wait(_BEAT_S):
            beat += 1
            try:
                self.client.key_value_set(f"robojax/alive/{self.me}", str(beat), allow_overwrite=True)
                values = {i: self._read(i) for i in self.peers}
            except Exception:  # noqa: BLE001 - any failure to reach the store means its host is gone
                if self.me != 0 and not self._stop.is_set():
                    _die(f"distributed.process_id={self.me}: process 0 (the coordinator) is missing: "
                         "its key-value store stopped answering")
                continue
            now = time.monotonic()
            for i, value in values.items():
                if value == "done":
                    self.peers.remove(i)
                elif value != seen[i][0]:
                    seen[i] = (value, now)
                elif now - seen[i][1] > self.timeout and not self._stop.is_set():
                    _die(f"distributed.process_id={self.me}: process {i} is missing: no sign of life for "
                         f"{now - seen[i][1]:.0f} s (distributed.timeout={self.timeout:g})")

    def _read(self, process: int) -> str | None:
        try:
            return self.client.key_value_try_get(f"robojax/alive/{process}")
        except Exception as error:  # noqa: BLE001 - "not found" until the peer's first beat
            if "NOT_FOUND" in str(error) or "not found" in str(error).lower():
                return None
            raise


#: The running watch of this process's multi-process run (None in a one-process run).
_watch: PeerWatch | None = None


def name_missing_peer(error: BaseException) -> None:
    """After ``error`` in a multi-process run: if a peer has died (a collective with it fails at
    once, e.g. gloo's "connection reset by peer"), exit (code 2) with one line naming it, instead
    of a traceback followed by JAX's abort at the shutdown barrier. Otherwise return."""
    if _watch is None:
        return
    silent = _watch.silent_peers(3 * _BEAT_S)
    if silent:
        what = str(error).strip().splitlines()[0][:200] if str(error).strip() else type(error).__name__
        names = f"process {silent[0]} is" if len(silent) == 1 else f"processes {silent} are"
        _die(f"distributed.process_id={_watch.me}: {names} missing (no sign of life since the failure: {what})")


def initialize(config: DistributedConfig) -> None:
    """Start ``jax.distributed`` as ``config`` says (nothing if it names no multi-process run)."""
    if not config.enabled:
        return
    if not config.auto:
        needed = {"coordinator": config.coordinator, "num_processes": config.num_processes,
                  "process_id": config.process_id}
        missing = [k for k, v in needed.items() if v is None]
        if missing:
            raise ConfigError(
                f"distributed.{missing[0]} is not set: give distributed.coordinator, num_processes and process_id, "
                "or distributed.auto=true to read them from the cluster (SLURM, Open MPI, ...)"
            )

    def give_up() -> None:  # JAX would abort this process moments later, without saying why
        _die(missing_message(config))

    watchdog = threading.Timer(config.timeout, give_up)
    watchdog.daemon = True
    watchdog.start()
    try:
        jax.distributed.initialize(
            coordinator_address=config.coordinator,
            num_processes=config.num_processes,
            process_id=config.process_id,
            cluster_detection_method=None if config.auto else "deactivate",
            initialization_timeout=config.timeout + _JAX_GRACE_S,
            heartbeat_timeout_seconds=config.timeout + _JAX_GRACE_S,
            shutdown_timeout_seconds=config.timeout,
        )
    finally:
        watchdog.cancel()
    from jax._src import distributed as jax_distributed  # the client jax.distributed.initialize made

    global _watch
    state = jax_distributed.global_state
    _watch = PeerWatch(state.client, state.process_id, state.num_processes, config.timeout).start()
