"""PPO hyper-parameters. Defaults are PureJaxRL's CartPole settings."""

from __future__ import annotations

import dataclasses

from robojax.config import BaseConfig
from robojax.errors import ConfigError
from robojax.models import NetworkConfig
from robojax.policies import PolicyConfig


@dataclasses.dataclass(frozen=True)
class PPOConfig(BaseConfig):
    """Proximal Policy Optimisation with GAE, clipped surrogate and optional value clipping."""

    rollout_length: int = 128  # steps per env per train step
    epochs: int = 4
    num_minibatches: int = 4
    learning_rate: float = 2.5e-4
    anneal_lr: bool = True  # linear decay to 0 over training
    adam_eps: float = 1e-5
    gamma: float = 0.99
    gae_lambda: float = 0.95
    clip_eps: float = 0.2
    clip_value_loss: bool = True
    # Value clipping range, in the critic's units: returns of rewards after reward_scale and,
    # with normalize_rewards, divided by the discounted return's running std (then O(1)).
    clip_value_eps: float = 0.2
    vf_coef: float = 0.5
    ent_coef: float = 0.01
    max_grad_norm: float = 0.5  # global norm over actor and critic gradients
    normalize_advantages: bool = True  # per minibatch
    normalize_obs: bool = False  # running mean/std kept in the train state
    reward_scale: float = 1.0  # rewards are multiplied by this before GAE
    normalize_rewards: bool = False  # divide by the running std of the discounted return
    network: NetworkConfig = NetworkConfig()
    policy: PolicyConfig = PolicyConfig()

    SWEEPABLE = ("learning_rate", "gamma", "gae_lambda", "clip_eps", "vf_coef", "ent_coef", "reward_scale")

    def __post_init__(self):
        super().__post_init__()
        for name in ("rollout_length", "epochs", "num_minibatches"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name}={getattr(self, name)!r}: must be >= 1")
        batch = self.num_envs // self.mesh.data * self.rollout_length  # each device's share
        if batch % self.num_minibatches:
            per_device = " / mesh.data" if self.mesh.data > 1 else ""
            raise ConfigError(
                f"num_minibatches={self.num_minibatches} must divide num_envs{per_device} * rollout_length = {batch}"
            )
        for name in ("gamma", "gae_lambda"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ConfigError(f"{name}={getattr(self, name)!r}: must be in [0, 1]")
        if self.network.share_encoder:
            raise ConfigError("network.share_encoder=true is not supported by PPO (its actor and critic have their own encoders)")
        for name in ("learning_rate", "clip_eps", "clip_value_eps", "max_grad_norm"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name}={getattr(self, name)!r}: must be > 0")
