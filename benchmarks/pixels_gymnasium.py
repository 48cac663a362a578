"""Gymnasium MuJoCo from pixels: rendering rate at 84x84 next to the state-only simulator rate,
and the memory of a 100k-transition pixel replay buffer (84x84x3, 3 stacked frames, uint8).

    MUJOCO_GL=egl python benchmarks/pixels_gymnasium.py [--env HalfCheetah-v5] [--steps 1000] [--repeats 3]

Writes benchmarks/results/pixels_gymnasium.json. Steps one env (robojax's host vector env)
with random actions, alternating the two settings, and reports medians.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np

from common import ROOT, machine
from robojax.envs import make_env


def steps_per_second(env_id: str, steps: int, **kwargs) -> float:
    env = make_env(env_id, **kwargs)
    sim = env.create(1)
    sim.reset(0)
    rng = np.random.default_rng(0)
    actions = rng.uniform(env.action_space.low, env.action_space.high, (steps, 1, *env.action_space.shape))
    t = time.perf_counter()
    for a in actions:
        sim.step(a.astype(np.float32))
    rate = steps / (time.perf_counter() - t)
    sim.close()
    return rate


def buffer_bytes(env_id: str, capacity: int, **kwargs) -> int:
    """Bytes of SAC's replay buffer for this env: obs and next obs (uint8 stacks), action,
    reward, termination flag per transition (the same items ``SAC.init`` stores)."""
    env = make_env(env_id, **kwargs)
    obs = env.observation_space
    item = 2 * int(np.prod(obs.shape)) * obs.dtype.itemsize + 4 * (int(np.prod(env.action_space.shape)) + 2)
    return capacity * item


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--env", default="HalfCheetah-v5")
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    env_id = f"gymnasium/{args.env}"
    state, pixels = [], []
    for _ in range(args.repeats):
        state.append(steps_per_second(env_id, args.steps))
        pixels.append(steps_per_second(env_id, args.steps, pixels=84))
    memory = buffer_bytes(env_id, 100_000, pixels=84, frame_stack=3)
    result = {
        "env": env_id,
        "machine": machine(),
        "state_steps_per_s": statistics.median(state),
        "pixels84_frames_per_s": statistics.median(pixels),
        "runs": {"state": state, "pixels84": pixels},
        "replay_100k_84x84x9_uint8_bytes": memory,
    }
    print(json.dumps(result, indent=2))
    (ROOT / "benchmarks" / "results" / "pixels_gymnasium.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
