"""Shared test helpers: quiet, fast configs; one compilation cache for the whole session."""

import dataclasses
import os
import shutil
import tempfile

# Tests compile the same small programs many times (each run, each resume, each subprocess):
# JAX's persistent compilation cache, shared with subprocesses through the environment, turns
# the repeats into cache hits. Set before JAX starts.
# Made here (not inherited from a parent pytest or the user): removed when the session ends.
_OWN_CACHE_DIR = None
if "JAX_COMPILATION_CACHE_DIR" not in os.environ:
    _OWN_CACHE_DIR = os.environ["JAX_COMPILATION_CACHE_DIR"] = tempfile.mkdtemp(prefix="robojax-test-xla-cache-")
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")

import jax  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from robojax.config import CheckpointConfig, EvalConfig, LogConfig


def quiet(config, **overrides):
    """``config`` with console and TensorBoard off (tests read metrics.jsonl/summary.json instead)."""
    defaults = {
        "logging": LogConfig(console=False, tensorboard=False, interval=overrides.pop("log_interval", 10_000)),
        "eval": overrides.pop("eval", EvalConfig(interval=0, episodes=8)),
        "checkpoint": overrides.pop("checkpoint", CheckpointConfig(interval=0)),
    }
    return dataclasses.replace(config, **{**defaults, **overrides})


def assert_trees_equal(a, b):
    """Every leaf of two pytrees of the same structure is bit-identical."""
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


@pytest.fixture
def quiet_config():
    return quiet


def pytest_sessionfinish(session, exitstatus):
    if _OWN_CACHE_DIR is not None:
        shutil.rmtree(_OWN_CACHE_DIR, ignore_errors=True)
