#!/usr/bin/env python
"""PPO with the pointnet and transformer encoders next to the MLP.

    python benchmarks/encoders.py memory [--seeds 3 --steps 1000000]
    python benchmarks/encoders.py pointcloud [--seeds 3 --steps 500000]
    python benchmarks/encoders.py pointcloud_state [--seeds 3 --steps 500000]
    python benchmarks/encoders.py breakout [--seeds 3 --steps 500000]
    python benchmarks/encoders.py breakout_cells [--seeds 3 --steps 500000]
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
- ``breakout_cells``: every cell a token (100 tokens) against the same CNN: each embedded from the
  3x3 cells around it (configs/ppo_minatar_breakout_transformer_cells.yaml), then from its own
  cells alone (``embed_kernel: null``) at widths 16 and 32 (about 6x slower than 2x2 patches on a
  CPU: meant for a GPU).
- ``cost``: seconds per PPO update (collect + learn on 64 envs x 32 steps) and env steps/s of
  each encoder at its preset size, against the MLP on the same env.

Seeds run as ``num_seeds`` in one compiled program, split from ``--seed``'s key (default 0); another
``--seed`` gives other seeds, saved with a ``_seed<S>`` suffix. Results go to
benchmarks/results/<CPU family or accelerator>/encoders_*.json, saved after each row.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator

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
        "train_sps": s["train_sps"], "compile_s": s["compile_s"], "wall_s": s["wall_s"], "device": s.get("device"),
        "curve": [(m["env_steps"], m["eval/return_mean"]) for m in evals],
    }


Rows = Iterator[dict]  # each benchmark yields its rows one by one: each is saved as it comes


def memory(args) -> Rows:
    preset = "configs/ppo_memorychain_transformer.yaml"
    mlp = ["network.encoder=mlp", "env.kwargs.history=null", "network.hidden_sizes=[64,64]"]
    yield {"setup": "transformer, history 6", **run(preset, args)}
    yield {"setup": "MLP, current obs", **run(preset, args, *mlp)}


def pointcloud(args) -> Rows:
    yield {"setup": "pointnet, 64 points", **run("configs/ppo_brax_inverted_pendulum_pointcloud.yaml", args)}
    yield {"setup": "MLP, state", **run("configs/ppo_brax_inverted_pendulum.yaml", args)}


def pointcloud_state(args) -> Rows:
    """The dict form: ``{points, state}``, PointNet on the points and the MLP on the state (``multi``)."""
    dict_form = ["env.kwargs.pointcloud.state=true", "network.encoder=multi", "network.multi.parts={points: pointnet}"]
    yield {"setup": "multi: pointnet points + state",
           **run("configs/ppo_brax_inverted_pendulum_pointcloud.yaml", args, *dict_form)}


BREAKOUT_TRANSFORMER, BREAKOUT_CNN = "configs/ppo_minatar_breakout_transformer.yaml", "configs/ppo_minatar_breakout.yaml"
BREAKOUT_TRANSFORMER_CELLS = "configs/ppo_minatar_breakout_transformer_cells.yaml"
OWN_CELLS_EMBEDDING = "network.transformer.embed_kernel=null"  # each token embedded from its own cells only


def breakout(args) -> Rows:
    yield {"setup": "transformer, 2x2-cell patches", **run(BREAKOUT_TRANSFORMER, args)}
    yield {"setup": "cnn (MinAtar)", **run(BREAKOUT_CNN, args)}


def breakout_cells(args) -> Rows:
    """Every cell a token (100 tokens with 2-D position embeddings): embedded from the 3x3 cells
    around it (its own preset), then from its own cells alone at widths 16 and 32."""
    yield {"setup": "cnn (MinAtar)", **run(BREAKOUT_CNN, args)}
    yield {"setup": "transformer, cells, embed_kernel 3", **run(BREAKOUT_TRANSFORMER_CELLS, args)}
    for width in (16, 32):
        yield {"setup": f"transformer, cells, width {width}", **run(
            BREAKOUT_TRANSFORMER_CELLS, args, OWN_CELLS_EMBEDDING, f"network.transformer.width={width}")}


#: Transformer variants on Breakout (overrides of the preset with each token embedded from its own
#: cells, as they were run before the preset took ``embed_kernel: 4``), for ``breakout_sweep``.
BREAKOUT_VARIANTS = {  # the slowest (cells) first: they bound the sweep's wall time
    "cells, width 32, lr 1e-3": ["network.transformer.patch_size=1", "network.transformer.width=32", "learning_rate=1e-3"],
    "cells, width 64, 4 heads, lr 5e-4": ["network.transformer.patch_size=1", "network.transformer.width=64",
                                          "network.transformer.heads=4", "learning_rate=5e-4"],
    "2x2, width 32, lr 1e-3": ["network.transformer.width=32", "learning_rate=1e-3"],
    "2x2, width 64, 4 heads, lr 1e-3": ["network.transformer.width=64", "network.transformer.heads=4", "learning_rate=1e-3"],
    "2x2, width 64, 4 heads, lr 5e-4": ["network.transformer.width=64", "network.transformer.heads=4", "learning_rate=5e-4"],
    "2x2, width 16, depth 2": ["network.transformer.depth=2"],
    "2x2, width 32, depth 2, lr 1e-3": ["network.transformer.width=32", "network.transformer.depth=2", "learning_rate=1e-3"],
    "2x2, width 16, hidden 256": ["network.hidden_sizes=[256]"],
    "2x2, width 16, lr 1e-3": ["learning_rate=1e-3"],
    "2x2, width 32, 4 heads": ["network.transformer.width=32", "network.transformer.heads=4"],
}


def breakout_sweep(args) -> Rows:
    """The transformer variants above, ``--parallel`` runs at a time (for a GPU; their steps/s then
    share the device and are not speed figures; each cells run at 8 seeds takes about 12 GiB)."""
    from concurrent.futures import ThreadPoolExecutor, as_completed

    with ThreadPoolExecutor(args.parallel) as pool:
        futures = {pool.submit(run, BREAKOUT_TRANSFORMER, args, OWN_CELLS_EMBEDDING, *overrides): name
                   for name, overrides in BREAKOUT_VARIANTS.items()}
        for future in as_completed(futures):
            try:
                yield {"setup": f"transformer, {futures[future]}", **future.result()}
            except RuntimeError as e:  # one failing run (out of device memory, say) keeps the others' rows
                yield {"setup": f"transformer, {futures[future]}", "error": str(e)[-500:]}


def cost(args) -> Rows:
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
    for name, ts in times.items():
        median = sorted(ts)[len(ts) // 2]
        yield {"setup": name, "update_s": median, "sps": steps[name][2] / median, "device": jax.devices()[0].device_kind}


#: Each benchmark and its default number of env steps.
BENCHMARKS = {"memory": (memory, 1_000_000), "pointcloud": (pointcloud, 500_000),
              "pointcloud_state": (pointcloud_state, 500_000), "breakout": (breakout, 500_000),
              "breakout_cells": (breakout_cells, 500_000), "breakout_sweep": (breakout_sweep, 1_000_000),
              "cost": (cost, 0)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("which", choices=list(BENCHMARKS))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0,
                        help="the run's seed: its --seeds seeds are split from this key, so another value gives other seeds")
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--parallel", type=int, default=1, help="breakout_sweep: runs at a time")
    args = parser.parse_args()
    bench, default_steps = BENCHMARKS[args.which]
    if args.steps is None:
        args.steps = default_steps
    columns = ["setup", "update_s", "sps"] if args.which == "cost" else [
        "setup", "eval_return_mean", "eval_return_std", "eval_return_per_seed", "train_sps", "wall_s"]
    rows = []
    for row in bench(args):  # saved after each row: a run cut short keeps what it measured
        rows.append(row)
        path = save(f"encoders_{args.which}" + (f"_seed{args.seed}" if args.seed else ""), {"args": vars(args), "rows": rows})
    print(machine())
    print(table(rows, columns))
    print(path)


if __name__ == "__main__":
    main()
