"""The PPO agent: rollout through the env loop, GAE, several epochs of shuffled minibatch updates."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import optax
from flax import struct
from jax.flatten_util import ravel_pytree

from robojax.agents.base import Agent
from robojax.agents.ppo.config import PPOConfig
from robojax.agents.ppo.losses import ppo_loss
from robojax.agents.ppo.networks import make_actor_critic
from robojax.config import EnvConfig
from robojax.envs import Env, HostEnv
from robojax.loops import LoopState, Transition, episode_metrics
from robojax.minibatches import shuffled_minibatches
from robojax.envs.spaces import zeros_observation
from robojax.normalization import ObsStats, ReturnScaler, create_obs_stats, normalize_obs, update_obs_stats
from robojax.policies import deterministic_action, to_env_action
from robojax.returns import gae_advantages, next_state_values
from robojax.sharding import mean_grad, reduce


@struct.dataclass
class PPOState:
    """Everything PPO needs to continue training: checkpointing this is enough to resume."""

    params: dict[str, Any]
    opt_state: optax.OptState
    obs_stats: ObsStats
    reward_scaler: ReturnScaler  # used with ``normalize_rewards``
    loop: LoopState
    key: jax.Array
    step: jax.Array
    hparams: dict[str, jax.Array]  # swept hyper-parameters (Agent.hyperparams)


class PPO(Agent):
    """Proximal Policy Optimisation for discrete and continuous actions.

    >>> agent = PPO(PPOConfig(total_steps=100_000), "gymnax/CartPole-v1")
    >>> result = agent.train()          # or: state = agent.init(key); agent.train_step(state)

    The same agent trains on JAX envs (everything jitted) and on host simulators
    (``gymnasium/...``: the rollout runs in Python, the update is jitted).
    """

    name = "ppo"
    config_cls = PPOConfig

    def __init__(self, config: PPOConfig = PPOConfig(), env: Env | HostEnv | str | EnvConfig = "gymnax/CartPole-v1"):
        super().__init__(config, env)
        self.actor, self.critic = make_actor_critic(
            config.network, config.policy, self.env.observation_space, self.env.action_space
        )
        updates = self.num_train_steps * config.epochs * config.num_minibatches
        anneal = [optax.scale_by_schedule(optax.linear_schedule(1.0, 0.0, updates))] if config.anneal_lr else []
        # Flattened: clipping and Adam run on one vector instead of one small kernel per leaf.
        # The learning rate is applied in the update (it may be a swept, traced value).
        self.optimizer = optax.flatten(
            optax.chain(optax.clip_by_global_norm(config.max_grad_norm), optax.scale_by_adam(eps=config.adam_eps), *anneal)
        )

    @property
    def rollout_length(self) -> int:
        return self.config.rollout_length

    def init(self, key: jax.Array) -> PPOState:
        actor_key, critic_key, env_key, key = jax.random.split(key, 4)
        obs = zeros_observation(self.env.observation_space)
        params = {"actor": self.actor.init(actor_key, obs), "critic": self.critic.init(critic_key, obs)}
        return PPOState(
            params=params,
            opt_state=self.optimizer.init(params),
            obs_stats=create_obs_stats(self.env.observation_space),
            reward_scaler=ReturnScaler.create(self.config.num_envs),
            loop=self.loop.reset(env_key),
            key=key,
            step=jnp.zeros((), jnp.int32),
            hparams=self.init_hparams(),
        )

    def _normalize(self, obs_stats: ObsStats, obs: Any) -> Any:
        return normalize_obs(obs_stats, obs) if self.config.normalize_obs else obs

    def data_sharded(self, state: PPOState) -> Any:
        """The envs and each env's running discounted return (reward normalisation) are split over a data mesh."""
        flags = super().data_sharded(state)
        return flags.replace(reward_scaler=flags.reward_scaler.replace(returns=True))

    def act(self, state: PPOState, obs: jax.Array, key: jax.Array, deterministic: bool) -> jax.Array:
        dist = self.actor.apply(state.params["actor"], self._normalize(state.obs_stats, obs))
        raw = deterministic_action(dist) if deterministic else dist.sample(seed=key)
        return to_env_action(raw, self.env.action_space, self.config.policy.action_bounds)

    def behaviour(self, state: PPOState, obs: jax.Array, key: jax.Array):
        """Sample from the current policy; the stored action is the raw (pre-clip/squash) sample."""
        obs = self._normalize(state.obs_stats, obs)
        raw, log_prob = self.actor.apply(state.params["actor"], obs).sample_and_log_prob(seed=key)
        value = self.critic.apply(state.params["critic"], obs)
        env_action = to_env_action(raw, self.env.action_space, self.config.policy.action_bounds)
        return env_action, raw, {"log_prob": log_prob, "value": value}

    def update(self, state: PPOState, batch: Transition) -> tuple[PPOState, dict[str, jax.Array]]:
        cfg = self.hyperparams(state)
        key, update_key = jax.random.split(state.key)
        params = state.params
        obs = self._normalize(state.obs_stats, batch.obs)
        next_value = next_state_values(
            lambda o: self.critic.apply(params["critic"], self._normalize(state.obs_stats, o)),
            batch.extras["value"],
            batch.next_obs,
            batch.truncated,
            self.env.max_episode_steps,
        )
        reward, reward_scaler = batch.reward * cfg.reward_scale, state.reward_scaler
        if cfg.normalize_rewards:
            reward_scaler = reward_scaler.update(reward, jnp.logical_or(batch.terminated, batch.truncated), cfg.gamma)
            reward = reward_scaler.scale(reward)
        advantage, target = gae_advantages(
            reward,
            batch.extras["value"],
            next_value,
            batch.terminated,
            batch.truncated,
            cfg.gamma,
            cfg.gae_lambda,
        )
        data = {
            "obs": obs,
            "action": batch.action,
            "old_log_prob": batch.extras["log_prob"],
            "old_value": batch.extras["value"],
            "advantage": advantage,
            "target": target,
        }
        # (T, N, ...) -> (T * N, ...): the time/env structure is not needed after GAE.
        data = jax.tree.map(lambda x: x.reshape(-1, *x.shape[2:]), data)
        params, opt_state, metrics = self._update(cfg, params, state.opt_state, data, update_key)

        obs_stats = update_obs_stats(state.obs_stats, batch.obs) if cfg.normalize_obs else state.obs_stats
        new_state = state.replace(
            params=params, opt_state=opt_state, obs_stats=obs_stats, reward_scaler=reward_scaler, key=key,
            step=state.step + 1,
        )
        metrics.update(episode_metrics(batch))
        metrics["value_target_mean"] = reduce(target.mean())
        return new_state, metrics

    def _update(self, cfg: PPOConfig, params, opt_state, data: dict[str, jax.Array], key: jax.Array):
        grad_fn = mean_grad(ppo_loss, has_aux=True)  # averaged over a data mesh's devices

        def sgd_step(carry, mb):
            params, opt_state = carry
            grads, stats = grad_fn(params, self.actor.apply, self.critic.apply, **mb, config=cfg)
            updates, opt_state = self.optimizer.update(grads, opt_state, params)
            updates = jax.tree.map(lambda u: -cfg.learning_rate * u, updates)
            # Of the raveled gradient, like the flattened optimizer's clipping: XLA computes it once.
            stats["grad_norm"] = optax.tree.norm(ravel_pytree(grads)[0])
            return (optax.apply_updates(params, updates), opt_state), stats

        def epoch(carry, k):
            return jax.lax.scan(sgd_step, carry, shuffled_minibatches(k, data, cfg.num_minibatches))

        (params, opt_state), stats = jax.lax.scan(
            epoch, (params, opt_state), jax.random.split(key, cfg.epochs)
        )
        return params, opt_state, {k: v.mean() for k, v in stats.items()}
