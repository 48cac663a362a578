#!/usr/bin/env python
"""Peer benchmark: rejax PPO on gymnax CartPole-v1 (PureJaxRL default hyper-parameters).

Standalone: depends only on rejax, jax, gymnax and numpy; run it in its own venv, e.g.

    python3 -m venv /tmp/venv-rejax
    /tmp/venv-rejax/bin/pip install "jax[cpu]" rejax "gymnax<1.0"
    /tmp/venv-rejax/bin/python benchmarks/peer_rejax.py --json

`gymnax<1.0` is required: gymnax >= 1.0.0 changed `env.step` to return a 6-tuple
(obs, state, reward, terminated, truncated, info) while rejax 0.1.3 unpacks the old
5-tuple (ValueError: too many values to unpack). With gymnax 0.0.9, rejax 0.1.3 runs
unmodified on jax 0.10.2 / flax 0.12 / optax 0.2.8.

Hyper-parameters (PureJaxRL ppo.py CartPole defaults): 4 envs x 128 steps, 4 epochs,
4 minibatches, 64x64 tanh MLP (separate actor and critic), lr 2.5e-4 linearly annealed,
gamma 0.99, gae_lambda 0.95, clip 0.2, ent_coef 0.01, vf_coef 0.5, max_grad_norm 0.5,
5e5 env steps.

Remaining differences vs PureJaxRL that rejax does not expose (left at rejax's choice):
  * rejax keeps separate Adam optimisers (and separate grad-norm clipping) for actor
    and critic; PureJaxRL uses one optimiser on the summed loss with a global clip.
  * rejax uses flax default (lecun-normal) init instead of orthogonal init.
  * rejax also clips the value loss with clip_eps (as PureJaxRL does).
The learning-rate annealing is done by handing rejax an optax schedule as
`learning_rate` (rejax passes it straight to `optax.adam`); the schedule reproduces
PureJaxRL's `1 - (count // (num_minibatches * num_epochs)) / num_updates`.

Timing method:
  * compile_s: wall time of `jax.jit(train).lower(rng).compile()` (trace + lower + XLA
    compile, ahead of time, nothing executed).
  * train_s: wall time of one call of the compiled executable, ended by
    `jax.block_until_ready` on the returned train state (includes the in-graph
    `init_state`, which is negligible).
  * sps = total_steps / train_s, where total_steps is the number of env steps actually
    executed: num_updates * num_envs * num_steps with
    num_updates = requested_total_steps // (num_envs * num_steps) (PureJaxRL's rule).

rejax's periodic evaluation is disabled for the timed run: `eval_freq` is set to the
whole run (so rejax's outer scan has exactly one iteration), `skip_initial_evaluation`
is True and `eval_callback` is replaced by a no-op returning an empty tuple, so no
evaluation rollouts are compiled into or executed in the train function.

The final evaluation uses rejax's own `rejax.evaluate.evaluate` (vmapped
while_loop rollouts until done or max_steps_in_episode), but with a greedy
(argmax-logits) policy instead of rejax's sampling `make_act`; it is run after and
outside the timed region, over --eval-episodes episodes (default 32).
"""

import argparse
import importlib.metadata
import json
import time

import gymnax  # noqa: F401  (imported for the dependency check / version)
import jax
import jax.numpy as jnp
import numpy as np
from rejax import PPO
from rejax.evaluate import evaluate


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--total-steps", type=int, default=500_000)
    p.add_argument("--num-envs", type=int, default=4)
    p.add_argument("--num-steps", type=int, default=128, help="rollout length")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--eval-episodes", type=int, default=32)
    p.add_argument("--json", action="store_true", help="print one JSON line")
    return p.parse_args()


def make_algo(args):
    num_epochs, num_minibatches, lr = 4, 4, 2.5e-4
    batch = args.num_envs * args.num_steps
    num_updates = args.total_steps // batch
    if num_updates < 1:
        raise SystemExit("--total-steps must be >= num_envs * num_steps")
    total_steps = num_updates * batch

    def lr_schedule(count):
        # PureJaxRL linear_schedule; `count` = optimiser step (one per minibatch).
        frac = 1.0 - (count // (num_minibatches * num_epochs)) / num_updates
        return lr * frac

    algo = PPO.create(
        env="CartPole-v1",
        agent_kwargs={"activation": "tanh", "hidden_layer_sizes": (64, 64)},
        num_envs=args.num_envs,
        num_steps=args.num_steps,
        num_epochs=num_epochs,
        num_minibatches=num_minibatches,
        learning_rate=lr_schedule,
        gamma=0.99,
        gae_lambda=0.95,
        clip_eps=0.2,
        ent_coef=0.01,
        vf_coef=0.5,
        max_grad_norm=0.5,
        normalize_observations=False,
        normalize_rewards=False,
        total_timesteps=total_steps,
        # Periodic evaluation off: one eval "chunk" spanning the whole run, no
        # initial evaluation, and a no-op callback (see module docstring).
        eval_freq=total_steps,
        skip_initial_evaluation=True,
    )
    algo = algo.replace(eval_callback=lambda algo, ts, rng: ())
    return algo, total_steps, num_updates


def greedy_eval(algo, ts, rng, num_episodes):
    params = ts.actor_ts.params

    def act(obs, rng):
        logits = algo.actor.apply(
            params, obs[None], method=lambda m, o: m.action_logits(m.features(o))
        )
        return jnp.argmax(logits[0])

    _, returns = evaluate(
        act, rng, algo.env, algo.env_params, num_episodes,
        algo.env_params.max_steps_in_episode,
    )
    return float(np.mean(np.asarray(returns)))


def main():
    args = parse_args()
    algo, total_steps, num_updates = make_algo(args)
    rng = jax.random.PRNGKey(args.seed)
    rng_train, rng_eval = jax.random.split(rng)

    # `algo` is closed over (static), only the PRNG key is a traced argument.
    train = jax.jit(lambda key: algo.train(key)[0])

    t0 = time.perf_counter()
    compiled = train.lower(rng_train).compile()
    compile_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    ts = compiled(rng_train)
    jax.block_until_ready(ts)
    train_s = time.perf_counter() - t0

    eval_return = greedy_eval(algo, ts, rng_eval, args.eval_episodes)

    result = {
        "library": "rejax",
        "version": importlib.metadata.version("rejax"),
        "jax_version": jax.__version__,
        "env": "CartPole-v1",
        "total_steps": int(total_steps),
        "num_envs": args.num_envs,
        "num_steps": args.num_steps,
        "compile_s": round(compile_s, 4),
        "train_s": round(train_s, 4),
        "sps": round(total_steps / train_s, 1),
        "eval_return_mean": round(eval_return, 3),
    }
    if args.json:
        print(json.dumps(result))
    else:
        result.update(
            gymnax_version=importlib.metadata.version("gymnax"),
            num_updates=num_updates,
            global_step=int(ts.global_step),
            backend=jax.default_backend(),
        )
        for k, v in result.items():
            print(f"{k:>18}: {v}")


if __name__ == "__main__":
    main()
