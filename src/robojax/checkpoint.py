"""Checkpoints of the complete train state, written atomically and verified on load.

A checkpoint is one file: a magic header, the SHA-256 of the payload, and a msgpack payload
(flax.serialization) holding a JSON metadata record (config, counters) and every array of the
train state keyed by its pytree path, so any pytree (flax modules, optax states, Brax/MJX
physics states) can be saved and checked leaf by leaf on restore.
It is written to a temporary file in the same directory, flushed to disk and renamed over
the destination, so a crash mid-write leaves the previous checkpoint intact.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import jax
import numpy as np
from flax import serialization

from robojax.errors import CheckpointError

MAGIC = b"ROBOJAX\x01"
_NAME = re.compile(r"^step_(\d{12})\.ckpt$")
TEMP_PREFIX = ".tmp_"
SIMULATORS = "simulators"  # the meta key of host simulators' saved state (bytes)


def checkpoint_path(directory: str | Path, env_steps: int) -> Path:
    return Path(directory) / f"step_{env_steps:012d}.ckpt"


def list_checkpoints(directory: str | Path) -> list[Path]:
    """Checkpoints in ``directory``, oldest first."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if _NAME.match(p.name))


def latest_checkpoint(directory: str | Path) -> Path | None:
    found = list_checkpoints(directory)
    return found[-1] if found else None


def remove_stale_temp_files(directory: str | Path) -> None:
    """Delete half-written checkpoints left by a process that was killed while saving.

    Only safe while holding the run directory's lock (no other process can be writing).
    """
    directory = Path(directory)
    if directory.is_dir():
        for tmp in directory.glob(f"{TEMP_PREFIX}*.ckpt"):
            tmp.unlink(missing_ok=True)


def save_checkpoint(directory: str | Path, env_steps: int, state: Any, meta: dict[str, Any], keep: int) -> Path:
    """Atomically write ``state`` and ``meta``; then delete all but the ``keep`` newest.

    ``meta`` is JSON except ``meta["simulators"]``: bytes (host simulators' state), stored beside it.
    """
    directory = Path(directory)
    leaves = jax.tree_util.tree_flatten_with_path(jax.device_get(state))[0]
    arrays = {jax.tree_util.keystr(path): np.asarray(leaf) for path, leaf in leaves}
    meta = dict(meta)
    extra = {SIMULATORS: meta.pop(SIMULATORS)} if SIMULATORS in meta else {}
    payload = serialization.msgpack_serialize({"meta": json.dumps(meta), "state": arrays, **extra})
    path = checkpoint_path(directory, env_steps)
    tmp = None
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=TEMP_PREFIX, suffix=".ckpt")
        with os.fdopen(fd, "wb") as f:
            f.write(MAGIC + hashlib.sha256(payload).digest() + payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        if isinstance(e, OSError):  # full disk, unwritable directory: the previous checkpoint is untouched
            raise CheckpointError(
                f"cannot write checkpoint {str(path)!r}: {e.strerror or e}; earlier checkpoints are intact"
            ) from e
        raise
    for old in list_checkpoints(directory)[:-keep]:
        old.unlink(missing_ok=True)
    return path


def read_checkpoint(path: str | Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(meta, raw state dict)`` of a checkpoint file; raises ``CheckpointError`` if corrupt.
    ``meta["simulators"]`` holds the host simulators' state where the run saved it."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {str(path)!r} does not exist")
    blob = path.read_bytes()
    header = len(MAGIC) + 32
    if len(blob) < header or not blob.startswith(MAGIC):
        raise CheckpointError(f"{str(path)!r} is not a robojax checkpoint (bad header)")
    digest, payload = blob[len(MAGIC) : header], blob[header:]
    if hashlib.sha256(payload).digest() != digest:
        raise CheckpointError(f"checkpoint {str(path)!r} is corrupt (checksum mismatch)")
    data = serialization.msgpack_restore(payload)
    meta = json.loads(data["meta"])
    if SIMULATORS in data:
        meta[SIMULATORS] = data[SIMULATORS]
    return meta, data["state"]


def restore_state(raw_state: dict[str, Any], target: Any, path: str | Path = "checkpoint") -> Any:
    """Fill ``target``'s pytree structure with ``raw_state``, checking every array's shape and dtype."""
    leaves, treedef = jax.tree_util.tree_flatten_with_path(target)
    names = [jax.tree_util.keystr(p) for p, _ in leaves]
    missing = [n for n in names if n not in raw_state]
    extra = [n for n in raw_state if n not in set(names)]
    if missing or extra:
        raise CheckpointError(
            f"{str(path)!r} does not match this agent/config: "
            f"missing {missing[:3]}{'...' if len(missing) > 3 else ''}, unexpected {extra[:3]}{'...' if len(extra) > 3 else ''}"
        )
    restored = []
    for name, (_, want) in zip(names, leaves, strict=True):
        got = np.asarray(raw_state[name])
        if got.shape != np.shape(want) or got.dtype != np.asarray(want).dtype:
            raise CheckpointError(
                f"{str(path)!r} does not match this agent/config: {name} has shape {got.shape} "
                f"{got.dtype}, expected {np.shape(want)} {np.asarray(want).dtype}"
            )
        restored.append(got)
    return jax.tree_util.tree_unflatten(treedef, restored)
