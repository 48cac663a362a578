"""SAC hyper-parameters. Defaults follow the SAC paper / CleanRL (256x256 ReLU, lr 3e-4, tau 0.005)."""

from __future__ import annotations

import dataclasses

from robojax.config import BaseConfig, EvalConfig, LogConfig, check_divides
from robojax.errors import ConfigError
from robojax.models import NetworkConfig
from robojax.policies import PolicyConfig


@dataclasses.dataclass(frozen=True)
class SACConfig(BaseConfig):
    """Soft Actor-Critic with a critic ensemble, target networks and automatic temperature.

    One train step = one step of each of the ``num_envs`` envs (``num_envs`` transitions into
    the buffer), then ``grad_updates_per_step`` gradient updates on minibatches of
    ``batch_size``. The replay ratio (updates per collected transition) is therefore
    ``grad_updates_per_step / num_envs``.
    """

    total_steps: int = 100_000  # env steps per seed (summed over the parallel envs)
    num_envs: int = 1
    eval: EvalConfig = EvalConfig(interval=10_000, episodes=10)
    logging: LogConfig = LogConfig(interval=5_000)

    buffer_size: int = 1_000_000  # transitions per seed
    batch_size: int = 256
    num_seed_steps: int = 5_000  # env steps (over all envs) of uniform random actions before learning
    grad_updates_per_step: int = 1  # gradient updates per train step (per vectorised env step)
    actor_update_frequency: int = 1  # actor (and alpha) updated every k-th gradient update
    target_update_frequency: int = 1  # Polyak update of the target critics every k-th gradient update
    learning_rate: float = 3e-4
    actor_learning_rate: float | None = None  # None: learning_rate
    critic_learning_rate: float | None = None  # None: learning_rate
    alpha_learning_rate: float | None = None  # None: learning_rate
    gamma: float = 0.99
    tau: float = 0.005  # target <- tau * online + (1 - tau) * target
    num_critics: int = 2
    num_critic_subset: int | None = None  # REDQ: min over a random subset of this size; None = all
    autotune_alpha: bool = True
    init_alpha: float = 1.0
    target_entropy: float | None = None  # None: -action_dim (entropy of the squashed action in [-1, 1]^d)
    backup_entropy: bool = True  # include -alpha * log_prob in the critic target
    reward_scale: float = 1.0
    save_buffer: bool = True  # include the replay buffer in checkpoints
    augmentation: str = "none"  # "shift": DrQ's random shift of image observations (obs and next obs)
    shift_pad: int = 4  # pixels of edge padding (maximum shift) for augmentation=shift
    network: NetworkConfig = NetworkConfig(hidden_sizes=(256, 256), activation="relu")
    policy: PolicyConfig = PolicyConfig(log_std="state_dependent", action_bounds="tanh")

    SWEEPABLE = (
        "learning_rate", "actor_learning_rate", "critic_learning_rate", "alpha_learning_rate",
        "gamma", "tau", "reward_scale",
    )

    def __post_init__(self):
        super().__post_init__()
        for name in (
            "buffer_size",
            "batch_size",
            "grad_updates_per_step",
            "actor_update_frequency",
            "target_update_frequency",
            "num_critics",
        ):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name}={getattr(self, name)!r}: must be >= 1")
        if self.num_seed_steps < 0:
            raise ConfigError(f"num_seed_steps={self.num_seed_steps!r}: must be >= 0")
        check_divides("mesh.data", self.mesh.data, "batch_size", self.batch_size)
        check_divides("mesh.data", self.mesh.data, "buffer_size", self.buffer_size)
        if self.buffer_size < self.num_envs:
            raise ConfigError(f"buffer_size={self.buffer_size} must be >= num_envs={self.num_envs}")
        if self.num_critic_subset is not None and not 1 <= self.num_critic_subset <= self.num_critics:
            raise ConfigError(
                f"num_critic_subset={self.num_critic_subset!r}: must be None or in [1, num_critics={self.num_critics}]"
            )
        if not 0.0 <= self.gamma <= 1.0:
            raise ConfigError(f"gamma={self.gamma!r}: must be in [0, 1]")
        if not 0.0 < self.tau <= 1.0:
            raise ConfigError(f"tau={self.tau!r}: must be in (0, 1]")
        for name in ("learning_rate", "init_alpha", "actor_learning_rate", "critic_learning_rate", "alpha_learning_rate"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ConfigError(f"{name}={value!r}: must be > 0")
        if self.policy.action_bounds != "tanh":
            raise ConfigError(
                f"policy.action_bounds={self.policy.action_bounds!r}: SAC needs a tanh-squashed policy; allowed values are ['tanh']"
            )

    def lr(self, part: str) -> float:
        """Learning rate of ``part`` (``actor``, ``critic`` or ``alpha``)."""
        value = getattr(self, f"{part}_learning_rate")
        return self.learning_rate if value is None else value
