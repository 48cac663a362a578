"""Command line: ``robojax train``, ``robojax eval``, ``robojax envs``."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path

import yaml

from robojax.errors import RobojaxError

USAGE = """robojax train ALGO [--env SUITE/NAME] [--config FILE] [--run-dir DIR] [--resume DIR] [key=value ...]
       robojax eval RUN_DIR [--episodes N] [--stochastic] [--seed S] [--video]
       robojax envs [SUITE]"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="robojax", usage=USAGE, description="Fast RL in JAX for robot learning.")
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="train an agent")
    train.add_argument("algo", help="agent name, e.g. ppo")
    train.add_argument("--env", help="env id SUITE/NAME (default: the config file's, else the agent's default)")
    train.add_argument("--config", help="YAML preset; command-line key=value overrides win")
    train.add_argument("--run-dir", help="output directory (default runs/ALGO_ENV_TIME)")
    train.add_argument("--resume", metavar="RUN_DIR", help="continue the run in RUN_DIR from its latest checkpoint")
    train.add_argument("overrides", nargs="*", metavar="key=value", help="config overrides, dotted for nested fields")
    ev = sub.add_parser("eval", help="evaluate the latest checkpoint of a run; prints JSON")
    ev.add_argument("run_dir")
    ev.add_argument("--episodes", type=int, default=None, help="episodes per seed (default: the run's eval.episodes)")
    ev.add_argument("--stochastic", action="store_true", help="sample actions instead of the greedy policy")
    ev.add_argument("--seed", type=int, default=0, help="seed of the evaluation episodes")
    ev.add_argument("--video", action="store_true", help="also write an MP4 of one greedy episode to RUN_DIR/videos/")
    envs = sub.add_parser("envs", help="list env ids")
    envs.add_argument("suite", nargs="?", help="only this suite")
    return parser


class Terminated(KeyboardInterrupt):
    """SIGTERM (a scheduler's pre-emption, ``kill``): handled like Ctrl-C, checkpoint first."""


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated()


def _train(args: argparse.Namespace) -> int:
    from robojax.config import DistributedConfig, from_dict, load_yaml, merge, parse_overrides, split_experiment
    from robojax.distributed import initialize

    overrides = parse_overrides(args.overrides)
    # distributed.* say how this process joins the run, not what it trains: not saved, allowed on resume.
    distributed = overrides.pop("distributed", {})
    if not isinstance(distributed, dict):
        raise RobojaxError(f"distributed={distributed!r}: set its fields, e.g. distributed.coordinator=HOST:PORT")
    initialize(from_dict(DistributedConfig, distributed, prefix="distributed."))  # before any other JAX call
    from robojax.agents import AGENTS

    if args.algo not in AGENTS:
        raise RobojaxError(f"unknown algo {args.algo!r}; available: {', '.join(AGENTS)}")
    agent_cls = AGENTS[args.algo]
    if args.resume:
        if overrides or args.config:
            raise RobojaxError("--resume continues a run with its saved config; drop --config and key=value overrides")
        experiment = load_yaml(Path(args.resume) / "config.yaml")
        if experiment.get("algo") != args.algo:
            raise RobojaxError(f"{args.resume!r} is a {experiment.get('algo')!r} run, not {args.algo!r}")
        if args.env and args.env != experiment.get("env", {}).get("id"):
            raise RobojaxError(f"--env {args.env} differs from the run's env {experiment['env']['id']}")
        run_dir = args.resume
    else:
        experiment = load_yaml(args.config) if args.config else {}
        if experiment.get("algo", args.algo) != args.algo:
            raise RobojaxError(f"config file {args.config!r} is for {experiment['algo']!r}, not {args.algo!r}")
        if args.env:
            experiment = merge(experiment, {"env": {"id": args.env}})
        experiment = merge(experiment, overrides)
        run_dir = args.run_dir
    env_config, config = split_experiment(agent_cls.config_cls, experiment)
    agent = agent_cls(config, env_config)
    print(yaml.safe_dump(_resolved(agent), sort_keys=False), end="", flush=True)
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        result = agent.train(run_dir=run_dir, resume=bool(args.resume))
    except KeyboardInterrupt as stop:  # the trainer has saved a checkpoint and said where
        return 128 + signal.SIGTERM if isinstance(stop, Terminated) else 130
    finally:
        signal.signal(signal.SIGTERM, previous)
    print(json.dumps({k: v for k, v in result.summary.items() if not isinstance(v, list)}))
    return 0


def _resolved(agent) -> dict:
    from robojax.config import experiment_dict

    return experiment_dict(agent.name, agent.env_config, agent.config)


def _eval(args: argparse.Namespace) -> int:
    import jax

    from robojax.evaluation import summarize
    from robojax.trainer import load_run, make_evaluator

    agent, state, meta = load_run(args.run_dir)
    episodes = args.episodes or agent.config.eval.episodes
    if episodes < 1:
        raise RobojaxError(f"--episodes={episodes}: must be >= 1")
    keys = jax.random.split(jax.random.PRNGKey(args.seed), agent.config.num_seeds)
    results = jax.device_get(make_evaluator(agent, episodes, not args.stochastic, state, keys)(state, keys))
    out = {"run_dir": str(args.run_dir), "env_steps": meta["env_steps"], "episodes": episodes,
           "policy": "stochastic" if args.stochastic else "deterministic", **summarize(results, "eval")}
    if args.video:
        from robojax.trainer import record_video

        path = Path(args.run_dir) / "videos" / f"eval_step_{meta['env_steps']:012d}.mp4"
        out["video"] = str(path)
        out["video_frames"] = len(record_video(agent, state, keys[0], path))
    print(json.dumps(out))
    return 0


def _envs(args: argparse.Namespace) -> int:
    from robojax.envs import list_envs

    for env_id in list_envs(args.suite):
        print(env_id)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args, unknown = parser.parse_known_args(argv)
    # key=value overrides may stand anywhere after ALGO, also between options.
    bad = [u for u in unknown if "=" not in u or u.startswith("-") or args.command != "train"]
    if bad:
        parser.error(f"unrecognized arguments: {' '.join(bad)}")
    if args.command == "train":
        args.overrides = list(args.overrides) + unknown
    try:
        return {"train": _train, "eval": _eval, "envs": _envs}[args.command](args)
    except RobojaxError as e:
        print(f"robojax: error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `robojax envs | head`
        return 0


if __name__ == "__main__":
    sys.exit(main())
