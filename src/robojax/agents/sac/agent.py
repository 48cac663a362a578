"""The SAC agent: one vectorised env step into a device replay buffer, then fused gradient updates."""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import distrax
import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import struct

from robojax.agents.base import Agent
from robojax.agents.sac.config import SACConfig
from robojax.agents.sac.losses import actor_loss, alpha_loss, critic_loss
from robojax.agents.sac.networks import Critic, make_actor_critic
from robojax.augment import make_augmentation
from robojax.config import EnvConfig
from robojax.envs import Env, HostEnv
from robojax.envs.spaces import Box, zeros_observation
from robojax.errors import ConfigError
from robojax.loops import LoopState, Transition, episode_metrics
from robojax.policies import deterministic_action, scale_unit_action
from robojax.replay import ReplayBuffer
from robojax.sharding import data_shards, mean_grad, vary_like


@struct.dataclass
class SACState:
    """Everything SAC needs to continue training (the buffer can be left out of checkpoints)."""

    params: dict[str, Any]  # actor, critic, target_critic, log_alpha
    opt_state: dict[str, optax.OptState]  # actor, critic, alpha
    buffer: ReplayBuffer
    loop: LoopState
    key: jax.Array
    step: jax.Array  # train steps done (env steps = step * num_envs)
    updates: jax.Array  # gradient updates applied
    hparams: dict[str, jax.Array]  # swept hyper-parameters (Agent.hyperparams)


class SAC(Agent):
    """Soft Actor-Critic for continuous (bounded Box) action spaces.

    Per train step: every one of the ``num_envs`` envs takes one step (uniformly random
    actions during the first ``num_seed_steps`` env steps), the ``num_envs`` transitions go
    into the device replay buffer, then ``grad_updates_per_step`` gradient updates run as one
    ``lax.scan``. Replay ratio = ``grad_updates_per_step / num_envs`` updates per transition.

    >>> agent = SAC(SACConfig(total_steps=20_000), "gymnax/Pendulum-v1")
    >>> result = agent.train()
    """

    name = "sac"
    config_cls = SACConfig

    def __init__(self, config: SACConfig = SACConfig(), env: Env | HostEnv | str | EnvConfig = "gymnax/Pendulum-v1"):
        super().__init__(config, env)
        space = self.env.action_space
        if not isinstance(space, Box):
            raise ConfigError(
                f"SAC needs a continuous (Box) action space; this env's action space is {type(space).__name__}"
                f"{f'(n={space.n})' if hasattr(space, 'n') else ''}. Use PPO for discrete actions."
            )
        if not space.bounded or len(space.shape) != 1:
            raise ConfigError(
                f"SAC needs a bounded 1-D Box action space (it squashes actions with tanh); got shape {space.shape}, "
                f"low={space.low}, high={space.high}"
            )
        self.action_dim = space.shape[0]
        obs_space = self.env.observation_space
        self.actor, self.critic = make_actor_critic(config.network, config.policy, obs_space, space, config.num_critics)
        self.augment = make_augmentation(config.augmentation, config.shift_pad, obs_space)
        # Adam without its learning rate: the update scales by it (it may be a swept, traced value).
        self.optimizers = {part: optax.scale_by_adam() for part in ("actor", "critic", "alpha")}
        self.target_entropy = float(-self.action_dim if config.target_entropy is None else config.target_entropy)
        # Updates start once the buffer holds this many transitions (after a resume without a
        # saved buffer, the restored policy refills it before updates continue).
        self.learning_starts = max(1, min(config.num_seed_steps, config.buffer_size))

    rollout_length = 1  # one step of every env, then the updates

    # -- state -------------------------------------------------------------------------------

    def init(self, key: jax.Array) -> SACState:
        actor_key, critic_key, env_key, key = jax.random.split(key, 4)
        obs = zeros_observation(self.env.observation_space)
        action = jnp.zeros((self.action_dim,), jnp.float32)
        critic_params = self.critic.init(critic_key, obs, action)
        actor_input = self.critic.apply(critic_params, obs, method=Critic.encode) if self.shares_encoder else obs
        params = {
            "actor": self.actor.init(actor_key, actor_input),
            "critic": critic_params,
            # A copy, not the same arrays: a jitted update that donates the state must not
            # see one buffer twice.
            "target_critic": jax.tree.map(jnp.copy, critic_params),
            "log_alpha": jnp.asarray(np.log(self.config.init_alpha), jnp.float32),
        }
        opt_state = {
            "actor": self.optimizers["actor"].init(params["actor"]),
            "critic": self.optimizers["critic"].init(params["critic"]),
            "alpha": self.optimizers["alpha"].init(params["log_alpha"]),
        }
        zero = jnp.zeros((), jnp.float32)
        # Observations keep their dtypes: images stay uint8 in the buffer.
        example = {"obs": obs, "action": action, "reward": zero, "terminated": zero, "next_obs": obs}
        return SACState(
            params=params,
            opt_state=opt_state,
            buffer=ReplayBuffer.create(example, self.config.buffer_size),
            loop=self.loop.reset(env_key),
            key=key,
            step=jnp.zeros((), jnp.int32),
            updates=jnp.zeros((), jnp.int32),
            hparams=self.init_hparams(),
        )

    def checkpoint_view(self, state: SACState) -> Any:
        if self.config.save_buffer:
            return state
        return {f.name: getattr(state, f.name) for f in dataclasses.fields(state) if f.name != "buffer"}

    def from_checkpoint_view(self, view: Any, fresh: SACState) -> SACState:
        return view if self.config.save_buffer else fresh.replace(**view)

    def data_sharded(self, state: SACState) -> Any:
        flags = super().data_sharded(state)  # plus one replay shard per device
        return flags.replace(buffer=flags.buffer.replace(data=jax.tree.map(lambda _: True, state.buffer.data)))

    # -- acting ------------------------------------------------------------------------------

    @property
    def shares_encoder(self) -> bool:
        return self.config.network.share_encoder

    def policy(self, actor_params, obs, critic_params) -> distrax.Distribution:
        """The actor's distribution over pre-tanh actions; with ``network.share_encoder`` it sees the
        critic's observation features (``critic_params``) with the gradient stopped."""
        if self.shares_encoder:
            obs = jax.lax.stop_gradient(self.critic.apply(critic_params, obs, method=Critic.encode))
        return self.actor.apply(actor_params, obs)

    def act(self, state: SACState, obs: jax.Array, key: jax.Array, deterministic: bool) -> jax.Array:
        dist = self.policy(state.params["actor"], obs, state.params["critic"])
        raw = deterministic_action(dist) if deterministic else dist.sample(seed=key)
        return scale_unit_action(jnp.tanh(raw), self.env.action_space)

    # -- training ----------------------------------------------------------------------------

    def behaviour(self, state: SACState, obs: jax.Array, key: jax.Array):
        """Sample from the current policy, or uniformly during the first ``num_seed_steps`` env steps."""
        sample_key, uniform_key = jax.random.split(key)
        dist = self.policy(state.params["actor"], obs, state.params["critic"])
        unit = jnp.tanh(dist.sample(seed=sample_key))
        uniform = jax.random.uniform(uniform_key, unit.shape, unit.dtype, -1.0, 1.0)
        warmup = state.step * self.config.num_envs < self.config.num_seed_steps
        unit = jnp.where(warmup, uniform, unit)
        return scale_unit_action(unit, self.env.action_space), unit, {}

    def update(self, state: SACState, batch: Transition) -> tuple[SACState, dict[str, jax.Array]]:
        cfg = self.config
        key, update_key = jax.random.split(state.key)
        data = {
            "obs": batch.obs,
            "action": batch.action,
            "reward": batch.reward,
            "terminated": batch.terminated.astype(jnp.float32),
            "next_obs": batch.next_obs,  # true final obs where an episode ended
        }
        data = jax.tree.map(lambda x: x.reshape(-1, *x.shape[2:]), data)
        buffer = state.buffer.add(data)

        # On a data mesh the buffer is one of several equal shards: compare the total size.
        ready = buffer.size * data_shards(data["reward"]) >= self.learning_starts

        # Jitted, so that ``skip``'s shapes and the branch share one trace of the update (tracing
        # is most of a warm start); XLA inlines the call.
        @jax.jit
        def learn():
            return self._update(self.hyperparams(state), state.params, state.opt_state, buffer, update_key, state.updates)

        def skip():
            shapes = jax.eval_shape(learn)[2]
            nans = {k: vary_like(jnp.full(v.shape, jnp.nan, v.dtype), state.step) for k, v in shapes.items()}
            return state.params, state.opt_state, nans  # typed like learn's on a mesh

        # With one seed this skips the updates during warm-up; vmapped over seeds, lax.cond
        # becomes a select (both branches run, the result is the same).
        params, opt_state, stats = jax.lax.cond(ready, learn, skip)
        updates = state.updates + jnp.where(ready, cfg.grad_updates_per_step, 0)
        metrics = {k: v.mean() for k, v in stats.items()}
        metrics["alpha"] = jnp.exp(params["log_alpha"])
        metrics.update(episode_metrics(batch))
        new_state = SACState(params, opt_state, buffer, state.loop, key, state.step + 1, updates, state.hparams)
        return new_state, metrics

    def _update(self, cfg: SACConfig, params, opt_state, buffer: ReplayBuffer, key: jax.Array, updates: jax.Array):
        """``grad_updates_per_step`` updates of critic, actor, alpha and targets, as one scan."""
        batch_size = cfg.batch_size // data_shards(jax.tree.leaves(buffer.data)[0])  # each replay shard's share

        def one_update(carry, xs):
            k, i = xs
            batch_key, critic_key, actor_key, obs_key, next_key = jax.random.split(k, 5)
            batch = buffer.sample(batch_key, batch_size)
            # Independent augmentations of obs and next obs (DrQ); the identity without one.
            batch = {**batch, "obs": self.augment(obs_key, batch["obs"]), "next_obs": self.augment(next_key, batch["next_obs"])}
            return self.learn(*carry, batch, critic_key, actor_key, i, cfg)

        xs = (jax.random.split(key, cfg.grad_updates_per_step), updates + jnp.arange(cfg.grad_updates_per_step))
        (params, opt_state), stats = jax.lax.scan(one_update, (params, opt_state), xs)
        if cfg.actor_update_frequency > 1:  # NaN where the actor was not updated
            stats = {k: jnp.nanmean(v) for k, v in stats.items()}
        return params, opt_state, stats

    def learn(self, params, opt_state, batch: dict[str, jax.Array], critic_key: jax.Array, actor_key: jax.Array,
              i: jax.Array, cfg: SACConfig | None = None):
        """One gradient update of critic, actor, alpha and targets on ``batch`` (update number ``i``).

        ``cfg``: the config with any swept hyper-parameters as traced values (default: the agent's).
        Returns ``((params, opt_state), stats)``. On a data mesh ``batch`` is this device's share
        and the gradients are averaged over the data axis.
        """
        cfg = cfg or self.config
        alpha = jnp.exp(params["log_alpha"])

        def masked(flag, new, old):
            return jax.tree.map(lambda a, b: jnp.where(flag, a, b), new, old)

        def apply_adam(part, grads, opt_state, params):
            step, opt_state = self.optimizers[part].update(grads, opt_state, params)
            return optax.apply_updates(params, jax.tree.map(lambda g: -cfg.lr(part) * g, step)), opt_state

        grads, stats = mean_grad(critic_loss, has_aux=True)(
            params["critic"], self.critic.apply, params["target_critic"], params["actor"],
            functools.partial(self.policy, critic_params=params["critic"]), batch, alpha, critic_key, cfg,
        )
        critic, critic_opt = apply_adam("critic", grads, opt_state["critic"], params["critic"])

        grads, actor_stats = mean_grad(actor_loss, has_aux=True)(
            params["actor"], functools.partial(self.policy, critic_params=critic), critic, self.critic.apply,
            batch["obs"], alpha, actor_key, cfg,
        )
        stats.update(actor_stats)
        actor, actor_opt = apply_adam("actor", grads, opt_state["actor"], params["actor"])
        log_alpha, alpha_opt = params["log_alpha"], opt_state["alpha"]
        if cfg.autotune_alpha:
            grad = mean_grad(alpha_loss)(log_alpha, actor_stats["log_prob"], self.target_entropy)
            log_alpha, alpha_opt = apply_adam("alpha", grad, alpha_opt, log_alpha)
        if cfg.actor_update_frequency > 1:
            do_actor = i % cfg.actor_update_frequency == 0
            actor, actor_opt, log_alpha, alpha_opt = masked(
                do_actor,
                (actor, actor_opt, log_alpha, alpha_opt),
                (params["actor"], opt_state["actor"], params["log_alpha"], opt_state["alpha"]),
            )
            stats.update({k: jnp.where(do_actor, v, jnp.nan) for k, v in actor_stats.items()})

        target = optax.incremental_update(critic, params["target_critic"], cfg.tau)
        if cfg.target_update_frequency > 1:
            target = masked(i % cfg.target_update_frequency == 0, target, params["target_critic"])

        params = {"actor": actor, "critic": critic, "target_critic": target, "log_alpha": log_alpha}
        opt_state = {"actor": actor_opt, "critic": critic_opt, "alpha": alpha_opt}
        return (params, opt_state), stats
