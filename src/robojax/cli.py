"""Command line: ``robojax train``, ``eval``, ``envs``, ``plot``, ``compare``, ``demos``."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path

import yaml

from robojax.errors import NonFiniteError, RobojaxError
from robojax.interrupts import Terminated

USAGE = """robojax train ALGO [--env SUITE/NAME] [--config FILE] [--run-dir DIR] [--resume DIR] [key=value ...]
       robojax eval RUN_DIR [--episodes N] [--stochastic] [--seed S] [--video]
       robojax envs [SUITE]
       robojax plot RUN_DIR... [--metric eval_return_mean] [--x env_steps|wall_s] [--out FILE]
       robojax compare RUN_DIR... [--metric eval_return_mean]
       robojax demos tabletop/NAME --episodes K --out DIR [--seed S] [--pixel-size M]"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="robojax", usage=USAGE, description="Fast RL in JAX for robot learning.")
    sub = parser.add_subparsers(dest="command", required=True)
    # An explicit prog: argparse otherwise builds it from the custom top-level usage above.
    train = sub.add_parser("train", prog="robojax train", help="train an agent")
    train.add_argument("algo", help="agent name, e.g. ppo")
    train.add_argument("--env", help="env id SUITE/NAME (default: the config file's, else the agent's default)")
    train.add_argument("--config", help="YAML preset; command-line key=value overrides win")
    train.add_argument("--run-dir", help="output directory (default runs/ALGO_ENV_TIME)")
    train.add_argument("--resume", metavar="RUN_DIR", help="continue the run in RUN_DIR from its latest checkpoint")
    train.add_argument("overrides", nargs="*", metavar="key=value", help="config overrides, dotted for nested fields")
    ev = sub.add_parser("eval", prog="robojax eval", help="evaluate the latest checkpoint of a run; prints JSON")
    ev.add_argument("run_dir")
    ev.add_argument("--episodes", type=int, default=None, help="episodes per seed (default: the run's eval.episodes)")
    ev.add_argument("--stochastic", action="store_true", help="sample actions instead of the greedy policy")
    ev.add_argument("--seed", type=int, default=0, help="seed of the evaluation episodes")
    ev.add_argument("--video", action="store_true", help="also write an MP4 of one greedy episode to RUN_DIR/videos/")
    envs = sub.add_parser("envs", prog="robojax envs", help="list env ids")
    envs.add_argument("suite", nargs="?", help="only this suite")
    plot = sub.add_parser("plot", prog="robojax plot", help="learning curves of runs (mean over seeds, bootstrap CI)")
    plot.add_argument("run_dirs", nargs="+", metavar="RUN_DIR")
    plot.add_argument("--metric", default="eval_return_mean", help="eval_return_mean (default), train/episode_return, ...")
    plot.add_argument("--x", default="env_steps", choices=["env_steps", "wall_s"], help="x axis")
    plot.add_argument("--out", default="learning_curves.png", help="output file, .png or .svg")
    compare = sub.add_parser("compare", prog="robojax compare", help="table of final results per run or swept setting")
    compare.add_argument("run_dirs", nargs="+", metavar="RUN_DIR")
    compare.add_argument("--metric", default="eval_return_mean", help="eval_return_mean (default), ...")
    demos = sub.add_parser("demos", prog="robojax demos", help="write oracle demonstrations of a tabletop task")
    demos.add_argument("env", help="tabletop/NAME")
    demos.add_argument("--episodes", type=int, required=True, help="solved episodes to keep")
    demos.add_argument("--out", required=True, help="directory to write (must not hold demos yet)")
    demos.add_argument("--seed", type=int, default=0, help="first episode seed (seeds S, S+1, ...)")
    demos.add_argument("--pixel-size", type=float, default=None, help="metres per pixel (default 0.00625)")
    return parser


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

    from robojax.agents import AGENTS
    from robojax.config import load_yaml
    from robojax.evaluation import summarize
    from robojax.runs import load_run
    from robojax.trainer import make_evaluator, run_keys

    config_file = Path(args.run_dir) / "config.yaml"
    agent_cls = AGENTS.get(load_yaml(config_file).get("algo")) if config_file.is_file() else None
    if hasattr(agent_cls, "evaluate_run"):  # agents with their own driver (transporter)
        if args.episodes is not None and args.episodes < 1:
            raise RobojaxError(f"--episodes={args.episodes}: must be >= 1")
        if args.stochastic:
            raise RobojaxError(f"--stochastic: {agent_cls.name} evaluates its greedy policy only")
        print(json.dumps(agent_cls.evaluate_run(args.run_dir, args.episodes, args.seed, args.video)))
        return 0
    agent, state, meta = load_run(args.run_dir)
    episodes = args.episodes or agent.config.eval.episodes
    if episodes < 1:
        raise RobojaxError(f"--episodes={episodes}: must be >= 1")
    keys = run_keys(jax.random.PRNGKey(args.seed), agent.config)
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
    from robojax.envs import list_envs, missing_envs
    from robojax.envs.registry import DEMO_AGENTS, DEMO_SUITE, demo_tasks

    if args.suite == DEMO_SUITE:
        print("\n".join(demo_tasks()))
        return 0
    for env_id in list_envs(args.suite):
        print(env_id)
    # Ids that cannot run on this machine go to stderr, so stdout stays a list of runnable ids.
    for env_id, why in missing_envs(args.suite).items():
        print(f"left out: {env_id}: {why}", file=sys.stderr)
    if args.suite is None:
        print(f"demonstration tasks ({DEMO_AGENTS}; not RL envs): {', '.join(demo_tasks())}", file=sys.stderr)
    return 0


def _series(args: argparse.Namespace) -> list:
    from robojax.results import label_series, load_series

    return label_series([s for run_dir in args.run_dirs for s in load_series(run_dir, args.metric)])


def _plot(args: argparse.Namespace) -> int:
    from robojax.plotting import plot_curves

    print(plot_curves(_series(args), args.metric, args.x, args.out))
    return 0


def _compare(args: argparse.Namespace) -> int:
    from rich.console import Console

    from robojax.results import results_table

    rows = [(s.label, s.final, s.env_steps[-1], s.wall_s[-1]) for s in _series(args)]
    # Not a terminal (a pipe, a file): wide enough that labels are not cut.
    Console(width=None if sys.stdout.isatty() else 200).print(results_table(rows, title=f"final {args.metric}"))
    return 0


def _demos(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import Progress

    from robojax.envs.tabletop import task_name
    from robojax.envs.tabletop.demos import generate

    name = task_name(args.env)
    with Progress(console=Console(stderr=True)) as progress:
        task = progress.add_task(f"{args.env} demos", total=args.episodes)
        for _ in generate(name, args.episodes, args.out, seed=args.seed, pixel_size=args.pixel_size):
            progress.advance(task)
    print(json.dumps({"env": args.env, "episodes": args.episodes, "out": str(args.out)}))
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
        commands = {"train": _train, "eval": _eval, "envs": _envs, "plot": _plot, "compare": _compare, "demos": _demos}
        return commands[args.command](args)
    except NonFiniteError as e:  # a training failure, not bad input
        print(f"robojax: error: {e}", file=sys.stderr)
        return 3
    except RobojaxError as e:
        print(f"robojax: error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `robojax envs | head`
        return 0
    except Exception as e:
        from robojax.distributed import name_missing_peer

        name_missing_peer(e)  # a dead peer of a multi-process run: exits with one line naming it
        raise


if __name__ == "__main__":
    sys.exit(main())
