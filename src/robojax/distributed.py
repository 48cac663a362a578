"""Joining a multi-process run with ``jax.distributed`` (gloo collectives on CPU).

``initialize`` must run before any other JAX call. Every process then sees all processes'
devices (``jax.devices()``) and runs the same program on its own (``jax.local_devices()``).
JAX ends a process that cannot reach its peers with a bare ``DEADLINE_EXCEEDED`` abort; a
watchdog here fires first, with a message that says which process is missing.
"""

from __future__ import annotations

import os
import socket
import sys
import threading

import jax

from robojax.config import DistributedConfig
from robojax.errors import ConfigError

#: JAX's own deadline comes this much later than the watchdog's, so the watchdog speaks first.
_JAX_GRACE_S = 10


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
        print(f"robojax: error: {missing_message(config)}", file=sys.stderr, flush=True)
        os._exit(2)

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
            heartbeat_timeout_seconds=config.timeout,
            shutdown_timeout_seconds=config.timeout,
        )
    finally:
        watchdog.cancel()
