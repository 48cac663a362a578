#!/usr/bin/env python
"""GPU measurements in one process: PPO on Brax ant against raw stepping, PPO CartPole at many
envs, SAC on Brax with many envs and updates; compile time and peak device memory for each.

Run through ``benchmarks/gpu/run.sh`` on a GPU machine. ``--dry-run`` runs every measurement at
tiny sizes (and envs quick to compile) on whatever device JAX has, so the script is tested on CPU.
Results are written after each measurement, so a run cut short keeps what it measured.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
import traceback
from pathlib import Path

import jax

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/ for common.py
from common import machine  # noqa: E402
from ppo_brax_ant import raw_brax  # noqa: E402

from robojax import PPO, PPOConfig, SAC, SACConfig, EnvConfig  # noqa: E402
from robojax.config import CheckpointConfig, EvalConfig, LogConfig, load_yaml, split_experiment  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def device() -> str:
    d = jax.devices()[0]
    return f"{d.platform}: {getattr(d, 'device_kind', d)}"


def peak_memory_gb() -> float | None:
    stats = jax.devices()[0].memory_stats() or {}
    peak = stats.get("peak_bytes_in_use")
    return peak / 2**30 if peak is not None else None


def quiet(config, total_steps: int, log_interval: int, eval_episodes: int):
    import dataclasses

    return dataclasses.replace(
        config, total_steps=total_steps, logging=LogConfig(interval=log_interval, console=False, tensorboard=False),
        eval=EvalConfig(interval=0, episodes=eval_episodes), checkpoint=CheckpointConfig(interval=0))


def preset(name: str, **overrides):
    from robojax.agents import AGENTS

    experiment = load_yaml(ROOT / "configs" / name)
    env_config, config = split_experiment(AGENTS[experiment["algo"]].config_cls, {**experiment, **overrides})
    return env_config, config


def train(agent, run_dir: Path) -> dict:
    summary = agent.train(run_dir=run_dir).summary
    return {k: summary[k] for k in ("train_sps", "compile_s", "wall_s", "env_steps", "eval_return_mean")}


def ppo_ant(args, out: Path) -> list[dict]:
    rows = []
    for num_envs in args.ant_envs:
        raw_sps, raw_compile = raw_brax(args.ant_backend, num_envs, args.horizon, env_name=args.ant_env)
        env, cfg = preset("ppo_brax_ant.yaml", num_envs=num_envs)
        env = EnvConfig(id=f"brax/{args.ant_env}", kwargs={**env.kwargs, "backend": args.ant_backend})
        cfg = quiet(cfg, args.ant_steps * num_envs // 128, cfg.rollout_length * num_envs, 8)
        result = train(PPO(cfg, env), out / f"ppo_ant_{num_envs}")
        rows.append({"what": f"PPO brax/{args.ant_env} ({args.ant_backend})", "num_envs": num_envs,
                     "raw_sps": raw_sps, "raw_compile_s": raw_compile, **result,
                     "ratio_vs_raw": result["train_sps"] / raw_sps, "peak_gb": peak_memory_gb()})
    return rows


def ppo_cartpole(args, out: Path) -> list[dict]:
    """Wall time to a greedy 500: evaluations every ``eval_every`` env steps, stop at the first 500."""
    env, cfg = preset("ppo_cartpole_large.yaml", num_envs=args.cartpole_envs)
    import dataclasses

    cfg = dataclasses.replace(quiet(cfg, args.cartpole_steps, args.cartpole_envs * cfg.rollout_length * 8, 16),
                              eval=EvalConfig(interval=args.cartpole_envs * cfg.rollout_length * 8, episodes=16))
    run_dir = out / "ppo_cartpole"
    result = train(PPO(cfg, env), run_dir)
    first_500 = next((json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()
                      if json.loads(line).get("eval/return_mean") == 500.0), None)
    return [{"what": "PPO gymnax/CartPole-v1", "num_envs": args.cartpole_envs, **result,
             "steps_to_greedy_500": first_500 and first_500["env_steps"],
             "wall_s_to_greedy_500": first_500 and first_500["wall_s"], "peak_gb": peak_memory_gb()}]


def sac_brax(args, out: Path) -> list[dict]:
    env, cfg = preset("sac_brax_halfcheetah.yaml", num_envs=args.sac_envs, grad_updates_per_step=args.sac_updates,
                      num_seed_steps=args.sac_envs * 4, batch_size=args.sac_batch)
    if args.sac_env != env.id:  # the dry run: a quick-to-compile env (Brax SAC is tested in tests/)
        env = EnvConfig(id=args.sac_env)
    cfg = quiet(cfg, args.sac_steps, args.sac_envs * 50, 8)
    result = train(SAC(cfg, env), out / "sac_brax")
    updates_per_s = result["train_sps"] / args.sac_envs * args.sac_updates
    return [{"what": f"SAC {args.sac_env}", "num_envs": args.sac_envs, "updates_per_step": args.sac_updates,
             **result, "grad_updates_per_s": updates_per_s, "peak_gb": peak_memory_gb()}]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "gpu" / "gpu.json"))
    parser.add_argument("--dry-run", action="store_true", help="tiny sizes on any device (tests the script)")
    parser.add_argument("--only", nargs="*", default=["ppo_ant", "ppo_cartpole", "sac_brax"])
    args = parser.parse_args()
    sizes = dict(ant_env="ant", ant_backend="mjx", ant_envs=[2048, 8192], ant_steps=200_000, horizon=100,
                 cartpole_envs=4096, cartpole_steps=20_000_000, sac_env="brax/halfcheetah", sac_envs=1024,
                 sac_updates=64, sac_batch=512, sac_steps=1_000_000)
    if args.dry_run:
        sizes = dict(ant_env="inverted_pendulum", ant_backend="positional", ant_envs=[8], ant_steps=2048, horizon=4,
                     cartpole_envs=16, cartpole_steps=16 * 16 * 16, sac_env="gymnax/Pendulum-v1", sac_envs=4,
                     sac_updates=2, sac_batch=16, sac_steps=4 * 60)
    for k, v in sizes.items():
        setattr(args, k, v)
    out_file = Path(args.out)
    runs = out_file.parent / "runs"
    record = {"machine": machine(), "device": device(), "jax": jax.__version__, "python": platform.python_version(),
              "dry_run": args.dry_run, "sizes": sizes, "rows": [], "errors": {}}
    for name in args.only:
        t = time.perf_counter()
        try:
            rows = {"ppo_ant": ppo_ant, "ppo_cartpole": ppo_cartpole, "sac_brax": sac_brax}[name](args, runs)
            record["rows"] += rows
        except Exception:  # keep going: one failing measurement must not lose the others
            record["errors"][name] = traceback.format_exc()[-2000:]
        print(f"{name}: {time.perf_counter() - t:.1f} s", file=sys.stderr, flush=True)
        out_file.parent.mkdir(parents=True, exist_ok=True)
        out_file.write_text(json.dumps(record, indent=2))
    print(json.dumps({k: v for k, v in record.items() if k != "errors"}, indent=1))
    if record["errors"]:
        print(json.dumps(record["errors"], indent=1), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
