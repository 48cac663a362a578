"""Shared test helpers: quiet, fast configs."""

import dataclasses

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


@pytest.fixture
def quiet_config():
    return quiet
