#!/usr/bin/env python
"""PPO with the pointnet and transformer encoders next to the MLP.

    python benchmarks/encoders.py memory [--seeds 3 --steps 1000000]
    python benchmarks/encoders.py pointcloud [--seeds 3 --steps 500000]
    python benchmarks/encoders.py pointcloud_state [--seeds 3 --steps 500000]
    python benchmarks/encoders.py breakout [--seeds 3 --steps 500000]
    python benchmarks/encoders.py cost

- ``memory``: gymnax MemoryChain-bsuite (memory_length 5). A transformer over a window of the
  last 6 observations (configs/ppo_memorychain_transformer.yaml) against the same PPO with an
  MLP on the current observation alone. Greedy eval return per seed (+1 right, -1 wrong).
- ``pointcloud``: Brax inverted_pendulum, PointNet on 64 surface points
  (configs/ppo_brax_inverted_pendulum_pointcloud.yaml) against state PPO
  (configs/ppo_brax_inverted_pendulum.yaml), same steps.
- ``pointcloud_state``: the same preset with the state beside the cloud (``{points, state}``),
  the ``multi`` encoder with PointNet on the points and the MLP on the state.
- ``breakout``: gymnax Breakout-MinAtar, a transformer over the frame's 2x2-cell patches with
  2-D position embeddings (configs/ppo_minatar_breakout_transformer.yaml) against the MinAtar
  CNN (configs/ppo_minatar_breakout.yaml), same steps.
- ``cost``: seconds per PPO update (collect + learn on 64 envs x 32 steps) and env steps/s of
  each encoder at its preset size, against the MLP on the same env.

Seeds run as ``num_seeds`` in one compiled program, split from ``--seed``'s key (default 0); another
``--seed`` gives other seeds, saved with a ``_seed<S>`` suffix. Results go to
benchmarks/results/encoders_*.json.
"""

from __future__ import annotations

import argparse
import time

from common import machine, run_robojax, save, table

QUIET = ["logging.console=false", "logging.tensorboard=false", "checkpoint.interval=0"]


def run(config: str, args: argparse.Namespace, *overrides: str) -> dict:
    """PPO with ``config`` for ``args.steps`` env steps; ``args.seeds`` seeds split from ``args.seed``'s key."""
    s = run_robojax("ppo", "--config", config, f"total_steps={args.steps}", f"num_seeds={args.seeds}",
                    f"seed={args.seed}", *QUIET, *overrides)
    evals = [m for m in s["metrics"] if "eval/return_mean" in m]
    return {
        "eval_return_mean": s["eval_return_mean"],
        "eval_return_std": s["eval_return_std"],  # over all seeds' episodes
        "eval_return_per_seed": s.get("eval_return_per_seed"),
        "train_sps": s["train_sps"], "compile_s": s["compile_s"], "wall_s": s["wall_s"],
        "curve": [(m["env_steps"], m["eval/return_mean"]) for m in evals],
    }


def memory(args) -> list[dict]:
    preset = "configs/ppo_memorychain_transformer.yaml"
    mlp = ["network.encoder=mlp", "env.kwargs.history=null", "network.hidden_sizes=[64,64]"]
    return [
        {"setup": "transformer, history 6", **run(preset, args)},
        {"setup": "MLP, current obs", **run(preset, args, *mlp)},
    ]


def pointcloud(args) -> list[dict]:
    return [
        {"setup": "pointnet, 64 points", **run("configs/ppo_brax_inverted_pendulum_pointcloud.yaml", args)},
        {"setup": "MLP, state", **run("configs/ppo_brax_inverted_pendulum.yaml", args)},
    ]


def pointcloud_state(args) -> list[dict]:
    """The dict form: ``{points, state}``, PointNet on the points and the MLP on the state (``multi``)."""
    dict_form = ["env.kwargs.pointcloud.state=true", "network.encoder=multi", "network.multi.parts={points: pointnet}"]
    return [{"setup": "multi: pointnet points + state", **run("configs/ppo_brax_inverted_pendulum_pointcloud.yaml",
                                                              args, *dict_form)}]


def breakout(args) -> list[dict]:
    return [
        {"setup": "transformer, 2x2-cell patches", **run("configs/ppo_minatar_breakout_transformer.yaml", args)},
        {"setup": "cnn (MinAtar)", **run("configs/ppo_minatar_breakout.yaml", args)},
    ]


def cost(args) -> list[dict]:
    """Time per jitted train step (collect + update), medians of interleaved repeats."""
    import jax

    from robojax import PPO, PPOConfig
    from robojax.config import load_yaml, merge, parse_overrides, split_experiment

    mlp = ["network.encoder=mlp", "env.kwargs.history=null"]
    setups = {
        "MemoryChain transformer": ("configs/ppo_memorychain_transformer.yaml", []),
        "MemoryChain MLP": ("configs/ppo_memorychain_transformer.yaml", mlp),
        "inverted_pendulum pointnet": ("configs/ppo_brax_inverted_pendulum_pointcloud.yaml", []),
        "inverted_pendulum MLP (state)": ("configs/ppo_brax_inverted_pendulum.yaml", []),
        "Breakout transformer (2x2 patches)": ("configs/ppo_minatar_breakout_transformer.yaml", []),
        "Breakout CNN": ("configs/ppo_minatar_breakout.yaml", []),
        "Breakout MLP (flattened)": ("configs/ppo_minatar_breakout.yaml", ["network.encoder=mlp", "network.hidden_sizes=[64,64]"]),
    }
    steps = {}
    for name, (path, overrides) in setups.items():
        data = merge(load_yaml(path), parse_overrides([*overrides, "num_envs=64", "rollout_length=32"]))
        env, config = split_experiment(PPOConfig, data)
        agent = PPO(config, env)
        state = agent.init(jax.random.PRNGKey(0))
        step = jax.jit(agent.train_step).lower(state).compile()
        state, _ = step(state)
        jax.block_until_ready(state)
        steps[name] = (step, state, agent.config.num_envs * agent.rollout_length)
    times = {name: [] for name in setups}
    for _ in range(args.repeats):
        for name, (step, state, _) in steps.items():  # interleaved: the same machine load for all
            start = time.perf_counter()
            jax.block_until_ready(step(state))
            times[name].append(time.perf_counter() - start)
    rows = []
    for name, ts in times.items():
        median = sorted(ts)[len(ts) // 2]
        rows.append({"setup": name, "update_s": median, "sps": steps[name][2] / median})
    return rows


#: Each benchmark and its default number of env steps.
BENCHMARKS = {"memory": (memory, 1_000_000), "pointcloud": (pointcloud, 500_000),
              "pointcloud_state": (pointcloud_state, 500_000), "breakout": (breakout, 500_000), "cost": (cost, 0)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("which", choices=list(BENCHMARKS))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0,
                        help="the run's seed: its --seeds seeds are split from this key, so another value gives other seeds")
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    bench, default_steps = BENCHMARKS[args.which]
    if args.steps is None:
        args.steps = default_steps
    rows = bench(args)
    columns = ["setup", "update_s", "sps"] if args.which == "cost" else [
        "setup", "eval_return_mean", "eval_return_std", "eval_return_per_seed", "train_sps", "wall_s"]
    print(machine())
    print(table(rows, columns))
    save(f"encoders_{args.which}" + (f"_seed{args.seed}" if args.seed else ""), {"args": vars(args), "rows": rows})


if __name__ == "__main__":
    main()
