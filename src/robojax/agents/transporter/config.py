"""Transporter Networks config: model sizes, optimisation, demonstrations, evaluation."""

from __future__ import annotations

import dataclasses

from robojax.config import CheckpointConfig, LogConfig, _check_min
from robojax.errors import ConfigError

# Seeds of test episodes start here; demo seeds must lie below (train and test never share a seed).
TEST_SEED_START = 1_000_000


@dataclasses.dataclass(frozen=True)
class DemosConfig:
    """Where the oracle demonstrations are (``robojax demos``) and how many episodes to train on."""

    path: str = ""
    count: int = 10

    def __post_init__(self):
        _check_min("demos.count", self.count, 1)


@dataclasses.dataclass(frozen=True)
class TabletopEvalConfig:
    """Evaluation on ``episodes`` test episodes (seeds ``TEST_SEED_START + seed + i``) every
    ``interval`` training steps (0: only at the end)."""

    interval: int = 0
    episodes: int = 20
    seed: int = 0
    video: bool = False  # record the first test episode to videos/ (top-down colour frames)

    def __post_init__(self):
        _check_min("eval.interval", self.interval, 0)
        _check_min("eval.episodes", self.episodes, 1)
        _check_min("eval.seed", self.seed, 0)


@dataclasses.dataclass(frozen=True)
class TransporterConfig:
    """Hyper-parameters. ``channels``: FCN widths at full and half resolution; ``feature_dim``:
    channels of the key and query features; ``crop_size`` (odd, pixels): the query crop around
    the pick; ``num_rotations``: place yaw bins over 360 degrees. Steps are gradient steps."""

    seed: int = 0
    train_steps: int = 1500
    batch_size: int = 1
    learning_rate: float = 5e-4
    channels: tuple[int, ...] = (16, 32)
    feature_dim: int = 3
    crop_size: int = 33
    num_rotations: int = 16
    augment: bool = True
    demos: DemosConfig = DemosConfig()
    eval: TabletopEvalConfig = TabletopEvalConfig()
    logging: LogConfig = LogConfig(interval=100)
    checkpoint: CheckpointConfig = CheckpointConfig(interval=0)

    def __post_init__(self):
        _check_min("train_steps", self.train_steps, 1)
        _check_min("batch_size", self.batch_size, 1)
        _check_min("feature_dim", self.feature_dim, 1)
        if self.learning_rate <= 0:
            raise ConfigError(f"learning_rate={self.learning_rate!r}: must be > 0")
        if len(self.channels) != 2 or min(self.channels) < 1:
            raise ConfigError(f"channels={list(self.channels)!r}: need two positive widths [full-res, half-res]")
        if self.crop_size < 9 or self.crop_size % 2 == 0:
            raise ConfigError(f"crop_size={self.crop_size}: must be odd and >= 9 (the crop is centred on the pick pixel)")
        if self.num_rotations < 16:
            raise ConfigError(
                f"num_rotations={self.num_rotations}: must be >= 16 so the yaw bin (360/k degrees) "
                "stays well inside twice the 15 degree tolerance"
            )
