"""Checkpoints of the complete train state, written atomically and verified on load.

A checkpoint is one file: a magic header, the SHA-256 of the payload, and a msgpack payload
(flax.serialization) holding the train state and a JSON metadata record (config, counters).
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


def save_checkpoint(directory: str | Path, env_steps: int, state: Any, meta: dict[str, Any], keep: int) -> Path:
    """Atomically write ``state`` and ``meta``; then delete all but the ``keep`` newest."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    host_state = jax.tree.map(np.asarray, serialization.to_state_dict(jax.device_get(state)))
    payload = serialization.msgpack_serialize({"meta": json.dumps(meta), "state": host_state})
    path = checkpoint_path(directory, env_steps)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp_", suffix=".ckpt")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(MAGIC + hashlib.sha256(payload).digest() + payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    for old in list_checkpoints(directory)[:-keep]:
        old.unlink(missing_ok=True)
    return path


def read_checkpoint(path: str | Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(meta, raw state dict)`` of a checkpoint file; raises ``CheckpointError`` if corrupt."""
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
    return json.loads(data["meta"]), data["state"]


def restore_state(raw_state: dict[str, Any], target: Any, path: str | Path = "checkpoint") -> Any:
    """Fill ``target``'s structure with ``raw_state``, checking every array's shape and dtype."""
    try:
        restored = serialization.from_state_dict(target, raw_state)
    except (ValueError, KeyError, TypeError) as e:
        raise CheckpointError(f"{str(path)!r} does not match this agent/config: {e}") from e
    want = jax.tree_util.tree_leaves_with_path(target)
    got = jax.tree.leaves(restored)
    for (keypath, w), g in zip(want, got, strict=True):
        if np.shape(w) != np.shape(g) or np.asarray(g).dtype != np.asarray(w).dtype:
            name = jax.tree_util.keystr(keypath)
            raise CheckpointError(
                f"{str(path)!r} does not match this agent/config: {name} has shape {np.shape(g)} "
                f"{np.asarray(g).dtype}, expected {np.shape(w)} {np.asarray(w).dtype}"
            )
    return restored
