#!/usr/bin/env python
"""Peer benchmark: sbx (Stable-Baselines-Jax) SAC on gymnasium Pendulum-v1.

Standalone: depends only on sbx-rl, gymnasium and numpy; run it in its own venv, e.g.

    python3 -m venv /tmp/venv-sbx
    /tmp/venv-sbx/bin/pip install sbx-rl gymnasium
    /tmp/venv-sbx/bin/python benchmarks/peer_sbx.py --json

(tested with sbx-rl 0.28.0, stable-baselines3 2.9.2, jax 0.10.2, flax 0.12.8, gymnasium 1.4.0.)

Setting (the same as benchmarks/sac_pendulum.py): 20,000 env steps, 1 env, 1 gradient
update per env step (train_freq=1, gradient_steps=1), batch 256, 256x256 ReLU actor and
critics (2 critics), lr 3e-4, gamma 0.99, tau 0.005, automatic entropy tuning (init 1.0,
target -action_dim), buffer 1e6, `--learning-starts` (default 1000) uniformly random steps.

Timing method:
  * wall_s: wall time of `model.learn(total_steps)` (includes sbx's JIT compilation, which
    happens on the first gradient update, and the host-side env loop).
  * steady_sps: env steps per second between a callback at step learning_starts + 500 and the
    end of training (excludes the warm-up and compilation); sps = total_steps / wall_s.
The final evaluation (deterministic, --eval-episodes episodes, SB3's evaluate_policy) is
outside the timed region.
"""

import argparse
import importlib.metadata
import json
import time

import gymnasium as gym
import numpy as np
from sbx import SAC
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.monitor import Monitor


class _Clock(BaseCallback):
    def __init__(self, mark_at: int):
        super().__init__()
        self.mark_at, self.mark_time = mark_at, None

    def _on_step(self) -> bool:
        if self.mark_time is None and self.num_timesteps >= self.mark_at:
            self.mark_time = time.perf_counter()
        return True


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--total-steps", type=int, default=20_000)
    p.add_argument("--learning-starts", type=int, default=1_000)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--eval-episodes", type=int, default=10)
    p.add_argument("--json", action="store_true", help="print one JSON line")
    args = p.parse_args()

    env = gym.make("Pendulum-v1")
    model = SAC(
        "MlpPolicy",
        env,
        learning_rate=3e-4,
        buffer_size=1_000_000,
        learning_starts=args.learning_starts,
        batch_size=args.batch_size,
        tau=0.005,
        gamma=0.99,
        train_freq=1,
        gradient_steps=1,
        ent_coef="auto",
        policy_kwargs=dict(net_arch=[256, 256], n_critics=2),
        seed=args.seed,
        verbose=0,
    )
    clock = _Clock(args.learning_starts + 500)
    t0 = time.perf_counter()
    model.learn(total_timesteps=args.total_steps, callback=clock)
    t_end = time.perf_counter()
    wall = t_end - t0
    steady = (args.total_steps - clock.mark_at) / (t_end - clock.mark_time)
    rets, _ = evaluate_policy(
        model, Monitor(gym.make("Pendulum-v1")), n_eval_episodes=args.eval_episodes, deterministic=True, return_episode_rewards=True
    )
    out = {
        "library": "sbx",
        "version": importlib.metadata.version("sbx-rl"),
        "env": "Pendulum-v1 (gymnasium)",
        "total_steps": args.total_steps,
        "wall_s": wall,
        "sps": args.total_steps / wall,
        "steady_sps": steady,
        "eval_return_mean": float(np.mean(rets)),
    }
    if args.json:
        print(json.dumps(out))
    else:
        for k, v in out.items():
            print(f"{k}: {v:.2f}" if isinstance(v, float) else f"{k}: {v}")


if __name__ == "__main__":
    main()
