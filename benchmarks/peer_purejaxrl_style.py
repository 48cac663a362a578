#!/usr/bin/env python
"""Peer: PPO on gymnax as one single-file script in the style of PureJaxRL (one
``make_train(config)`` closure, the whole run in one ``jax.jit``, then a greedy evaluation),
written for these benchmarks.

    python benchmarks/peer_purejaxrl_style.py [--setting cartpole|minatar-breakout] [--total-steps N] [--json]

Runs in robojax's own virtualenv (jax, flax, optax, distrax, gymnax >= 1.0); it does not import
robojax. Settings (the same hyper-parameters as the robojax preset each is compared with):

- ``cartpole`` (``configs/ppo_cartpole.yaml``, PureJaxRL's CartPole setting): CartPole-v1, 4
  envs x 128 steps, 4 epochs x 4 minibatches, 64x64 tanh actor and critic, lr 2.5e-4.
- ``minatar-breakout`` (``configs/ppo_minatar_breakout.yaml``, PureJaxRL's MinAtar setting):
  Breakout-MinAtar, 64 envs x 128 steps, 4 epochs x 8 minibatches, lr 5e-3; actor and critic
  are each the MinAtar network (one 3x3 conv of 16 channels, VALID, ReLU, dense 128 + ReLU).

Both: orthogonal init, one Adam (lr annealed linearly, eps 1e-5) on the summed loss with a
global gradient clip of 0.5, gamma 0.99, GAE lambda 0.95, clip 0.2, value clipping, entropy
0.01, value 0.5. The program is compiled ahead of time, so ``train_sps`` excludes compilation
as robojax's does. The evaluation plays ``--eval-episodes`` greedy episodes (default 16,
robojax's default), like robojax's final evaluation. Like PureJaxRL it treats time-limit
truncation as termination.
"""

from __future__ import annotations

import argparse
import json
import time

T0 = time.perf_counter()

import distrax  # noqa: E402
import flax.linen as nn  # noqa: E402
import gymnax  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402
from flax.training.train_state import TrainState  # noqa: E402

IMPORT_S = time.perf_counter() - T0


SETTINGS = {
    "cartpole": dict(env="CartPole-v1", network="mlp", num_envs=4, num_steps=128, total_steps=500_000, epochs=4,
                     minibatches=4, lr=2.5e-4),
    "minatar-breakout": dict(env="Breakout-MinAtar", network="minatar", num_envs=64, num_steps=128,
                             total_steps=1_000_000, epochs=4, minibatches=8, lr=5e-3),
}
COMMON = dict(gamma=0.99, gae_lambda=0.95, clip=0.2, vf_coef=0.5, ent_coef=0.01)


class ActorCritic(nn.Module):
    num_actions: int
    network: str  # "mlp" (64x64 tanh) or "minatar" (conv 3x3x16 VALID + dense 128, ReLU)

    @nn.compact
    def __call__(self, x):
        def torso_and_head(x, out, scale):
            init = nn.initializers.orthogonal(np.sqrt(2))
            if self.network == "minatar":
                x = nn.relu(nn.Conv(16, (3, 3), padding="VALID", kernel_init=init)(x))
                x = nn.relu(nn.Dense(128, kernel_init=init)(x.reshape(*x.shape[:-3], -1)))
            else:
                for _ in range(2):
                    x = nn.tanh(nn.Dense(64, kernel_init=init)(x))
            return nn.Dense(out, kernel_init=nn.initializers.orthogonal(scale))(x)

        logits = torso_and_head(x, self.num_actions, 0.01)
        value = torso_and_head(x, 1, 1.0)
        return distrax.Categorical(logits=logits), jnp.squeeze(value, -1)


def make_train(config: dict):
    env, params = gymnax.make(config["env"])
    n_envs, n_steps = config["num_envs"], config["num_steps"]
    n_updates = config["total_steps"] // (n_envs * n_steps)
    batch = n_envs * n_steps
    net = ActorCritic(env.action_space(params).n, config["network"])

    def lr(count):
        return config["lr"] * (1.0 - (count // (config["epochs"] * config["minibatches"])) / n_updates)

    def train(rng):
        rng, init_rng, reset_rng = jax.random.split(rng, 3)
        obs0 = jnp.zeros(env.observation_space(params).shape)
        tx = optax.chain(optax.clip_by_global_norm(0.5), optax.adam(lr, eps=1e-5))
        ts = TrainState.create(apply_fn=net.apply, params=net.init(init_rng, obs0), tx=tx)
        obs, env_state = jax.vmap(env.reset, in_axes=(0, None))(jax.random.split(reset_rng, n_envs), params)

        def update(carry, _):
            ts, env_state, obs, ep_ret, rng = carry

            def env_step(carry, _):
                env_state, obs, ep_ret, rng = carry
                rng, act_rng, step_rng = jax.random.split(rng, 3)
                pi, value = net.apply(ts.params, obs)
                action = pi.sample(seed=act_rng)
                log_prob = pi.log_prob(action)
                next_obs, env_state, reward, term, trunc, _ = jax.vmap(env.step, in_axes=(0, 0, 0, None))(
                    jax.random.split(step_rng, n_envs), env_state, action, params
                )
                done = jnp.logical_or(term, trunc)
                ep_ret = ep_ret + reward
                finished = jnp.where(done, ep_ret, jnp.nan)
                out = (obs, action, log_prob, value, reward, done, finished)
                return (env_state, next_obs, jnp.where(done, 0.0, ep_ret), rng), out

            (env_state, obs, ep_ret, rng), traj = jax.lax.scan(env_step, (env_state, obs, ep_ret, rng), None, n_steps)
            t_obs, t_action, t_logp, t_value, t_reward, t_done, finished = traj
            _, last_value = net.apply(ts.params, obs)

            def gae(carry, x):
                adv, next_value = carry
                done, value, reward = x
                delta = reward + config["gamma"] * next_value * (1 - done) - value
                adv = delta + config["gamma"] * config["gae_lambda"] * (1 - done) * adv
                return (adv, value), adv

            _, advantages = jax.lax.scan(
                gae, (jnp.zeros_like(last_value), last_value), (t_done, t_value, t_reward), reverse=True
            )
            targets = advantages + t_value

            def loss_fn(p, mb):
                obs, action, old_logp, old_value, adv, target = mb
                pi, value = net.apply(p, obs)
                v_clipped = old_value + jnp.clip(value - old_value, -config["clip"], config["clip"])
                v_loss = 0.5 * jnp.maximum((value - target) ** 2, (v_clipped - target) ** 2).mean()
                ratio = jnp.exp(pi.log_prob(action) - old_logp)
                adv = (adv - adv.mean()) / (adv.std() + 1e-8)
                clipped = jnp.clip(ratio, 1 - config["clip"], 1 + config["clip"]) * adv
                pg_loss = -jnp.minimum(ratio * adv, clipped).mean()
                return pg_loss + config["vf_coef"] * v_loss - config["ent_coef"] * pi.entropy().mean()

            def epoch(carry, _):
                ts, rng = carry
                rng, perm_rng = jax.random.split(rng)
                perm = jax.random.permutation(perm_rng, batch)
                data = (t_obs, t_action, t_logp, t_value, advantages, targets)
                data = jax.tree.map(lambda x: x.reshape(batch, *x.shape[2:])[perm], data)
                data = jax.tree.map(lambda x: x.reshape(config["minibatches"], -1, *x.shape[1:]), data)

                def minibatch(ts, mb):
                    return ts.apply_gradients(grads=jax.grad(loss_fn)(ts.params, mb)), None

                ts, _ = jax.lax.scan(minibatch, ts, data)
                return (ts, rng), None

            (ts, rng), _ = jax.lax.scan(epoch, (ts, rng), None, config["epochs"])
            return (ts, env_state, obs, ep_ret, rng), jnp.nanmean(finished)

        carry = (ts, env_state, obs, jnp.zeros(n_envs), rng)
        (ts, *_), returns = jax.lax.scan(update, carry, None, n_updates)
        return ts, returns

    return train, env, params, net, n_updates * batch


def evaluate(net, env, params, ts, rng, episodes: int):
    """Mean return of ``episodes`` greedy episodes, stepped together until all are done."""

    def run(p, rng):
        obs, state = jax.vmap(env.reset, in_axes=(0, None))(jax.random.split(rng, episodes), params)

        def cond(c):
            return ~jnp.all(c[3])

        def body(c):
            obs, state, ret, done, rng = c
            rng, step_rng = jax.random.split(rng)
            action = jnp.argmax(net.apply(p, obs)[0].logits, -1)
            obs, state, reward, term, trunc, _ = jax.vmap(env.step, in_axes=(0, 0, 0, None))(
                jax.random.split(step_rng, episodes), state, action, params
            )
            ret = ret + reward * ~done
            return obs, state, ret, done | term | trunc, rng

        zeros = jnp.zeros(episodes)
        return jax.lax.while_loop(cond, body, (obs, state, zeros, zeros.astype(bool), rng))[2]

    return float(jax.jit(run)(ts.params, rng).mean())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--setting", choices=sorted(SETTINGS), default="cartpole")
    p.add_argument("--total-steps", type=int, help="default: the setting's")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--eval-episodes", type=int, default=16)
    p.add_argument("--json", action="store_true", help="print one JSON line")
    args = p.parse_args()
    config = {**SETTINGS[args.setting], **COMMON}
    config["total_steps"] = args.total_steps or config["total_steps"]
    train, env, params, net, steps = make_train(config)
    rng, eval_rng = jax.random.split(jax.random.PRNGKey(args.seed))
    t = time.perf_counter()
    compiled = jax.jit(train).lower(rng).compile()
    compile_s = time.perf_counter() - t
    t = time.perf_counter()
    ts, returns = jax.block_until_ready(compiled(rng))
    train_s = time.perf_counter() - t
    t = time.perf_counter()
    eval_return = evaluate(net, env, params, ts, eval_rng, args.eval_episodes)
    result = {"library": "PureJaxRL-style script", "setting": args.setting, "env_steps": steps,
              "import_s": IMPORT_S, "compile_s": compile_s, "train_s": train_s, "train_sps": steps / train_s,
              "compile_and_train_s": compile_s + train_s, "eval_s": time.perf_counter() - t,
              "train_return_last": float(returns[-1]), "eval_return_mean": eval_return,
              "process_s": time.perf_counter() - T0}
    print(json.dumps(result) if args.json else "\n".join(f"{k:>20}: {v}" for k, v in result.items()))


if __name__ == "__main__":
    main()
