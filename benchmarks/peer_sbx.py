#!/usr/bin/env python
"""Peer benchmark: sbx (Stable-Baselines-Jax) or Stable-Baselines3, SAC or PPO, on a Gymnasium env.

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

``--algo ppo --num-envs N`` runs PPO on N sync vector envs with the setting of
benchmarks/halfcheetah.py (rollout 128 steps per env, 10 epochs, minibatch 256, 64x64 tanh,
lr 3e-4, gamma 0.99, gae_lambda 0.95, clip 0.2); there steady_sps is measured after the first
rollout.
"""

import argparse
import importlib.metadata
import json
import time

import gymnasium as gym
import numpy as np
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.monitor import Monitor


class _TimeToReturn(BaseCallback):
    """Records every finished training episode (env steps, wall s since learn(), return) and
    stops training once the mean return of the last ``window`` episodes reaches ``target``."""

    def __init__(self, target: float, window: int = 5):
        super().__init__()
        self.target, self.window, self.episodes, self.reached = target, window, [], None
        self.t0 = time.perf_counter()

    def _on_step(self) -> bool:
        for info in self.locals["infos"]:
            if "episode" in info:
                self.episodes.append((self.num_timesteps, time.perf_counter() - self.t0, float(info["episode"]["r"])))
                last = [r for _, _, r in self.episodes[-self.window:]]
                if self.reached is None and len(last) == self.window and np.mean(last) >= self.target:
                    self.reached = self.episodes[-1][:2]
        return self.reached is None


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
    p.add_argument("--env", default="Pendulum-v1")
    p.add_argument("--library", choices=["sbx", "sb3"], default="sbx")
    p.add_argument("--algo", choices=["sac", "ppo"], default="sac")
    p.add_argument("--num-envs", type=int, default=1)
    p.add_argument("--stop-at-return", type=float, default=None,
                   help="SAC with the library's default hyper-parameters (learning_starts=100, ...) until the mean "
                        "return of the last 5 training episodes reaches this; reports time_to_return_s")
    args = p.parse_args()
    if args.stop_at_return is not None:
        return time_to_return(args)

    if args.library == "sbx":
        import sbx as lib
    else:
        import stable_baselines3 as lib
    if args.algo == "sac":
        env = gym.make(args.env)
        model = lib.SAC(
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
    else:
        env = make_vec_env(args.env, n_envs=args.num_envs, seed=args.seed)
        args.learning_starts = 128 * args.num_envs  # time after the first rollout
        model = lib.PPO(
            "MlpPolicy", env, learning_rate=3e-4, n_steps=128, batch_size=256, n_epochs=10, gamma=0.99,
            gae_lambda=0.95, clip_range=0.2, policy_kwargs=dict(net_arch=[64, 64]), seed=args.seed, verbose=0,
        )
    clock = _Clock(args.learning_starts + (500 if args.algo == "sac" else 0))
    t0 = time.perf_counter()
    model.learn(total_timesteps=args.total_steps, callback=clock)
    t_end = time.perf_counter()
    wall = t_end - t0
    steady = (args.total_steps - clock.mark_at) / (t_end - clock.mark_time)
    rets, _ = evaluate_policy(
        model, Monitor(gym.make(args.env)), n_eval_episodes=args.eval_episodes, deterministic=True, return_episode_rewards=True
    )
    out = {
        "library": args.library,
        "algo": args.algo,
        "version": importlib.metadata.version("sbx-rl" if args.library == "sbx" else "stable_baselines3"),
        "env": f"{args.env} (gymnasium)",
        "num_envs": args.num_envs,
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


def time_to_return(args) -> None:
    """Wall-clock (from the start of ``learn``, compilation included) to a training return."""
    import sbx
    import stable_baselines3

    lib = sbx if args.library == "sbx" else stable_baselines3
    model = lib.SAC("MlpPolicy", Monitor(gym.make(args.env)), seed=args.seed, verbose=0)
    callback = _TimeToReturn(args.stop_at_return)
    callback.t0 = time.perf_counter()
    model.learn(total_timesteps=args.total_steps, callback=callback)
    steps, wall = callback.reached if callback.reached else (None, None)
    out = {"library": args.library, "version": importlib.metadata.version("sbx-rl" if args.library == "sbx" else
           "stable_baselines3"), "env": args.env, "setting": "library defaults", "target": args.stop_at_return,
           "steps_to_return": steps, "time_to_return_s": wall, "episodes": callback.episodes}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
