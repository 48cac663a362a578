"""Shared test helpers: quiet, fast configs."""

import dataclasses

import jax
import numpy as np
import pytest

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
