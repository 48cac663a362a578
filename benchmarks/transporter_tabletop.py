"""Transporter Networks on a tabletop task: test score after training on 1 and 10 demos.

Writes ``benchmarks/results/transporter_TASK.json`` (TASK with underscores), keyed
by agent (``transporter`` or the ``conv_mlp`` baseline) and demo count. Demos come from seeds 0.. (the
oracle keeps solved episodes only); test episodes use seeds from 1,000,000 (disjoint).

    PYTHONPATH=src python benchmarks/transporter_tabletop.py --task block-insertion --demos 10 1 --steps 500 --episodes 100 [--agent conv_mlp]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, machine  # noqa: E402

from robojax.agents import AGENTS  # noqa: E402
from robojax.agents.transporter import DemosConfig, TransporterConfig  # noqa: E402
from robojax.agents.transporter.config import TabletopEvalConfig  # noqa: E402
from robojax.config import LogConfig  # noqa: E402
from robojax.envs.tabletop.demos import generate  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--task", default="block-insertion")
    parser.add_argument("--agent", default="transporter", choices=["transporter", "conv_mlp"])
    parser.add_argument("--demos", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--steps", type=int, default=800)
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument("--work", default="/tmp/transporter_bench")
    parser.add_argument("--out", default=None, help="default benchmarks/results/transporter_TASK.json")
    args = parser.parse_args()
    args.out = args.out or str(ROOT / f"benchmarks/results/transporter_{args.task.replace('-', '_')}.json")
    work = Path(args.work) / args.task
    demo_dir = work / "demos"
    if not (demo_dir / "meta.json").exists():
        for _ in generate(args.task, max(args.demos), demo_dir, seed=0):
            pass
    results = json.loads(Path(args.out).read_text()) if Path(args.out).exists() else {}
    for count in args.demos:
        config = TransporterConfig(train_steps=args.steps, demos=DemosConfig(str(demo_dir), count),
                                   eval=TabletopEvalConfig(episodes=args.episodes),
                                   logging=LogConfig(interval=100, console=False, tensorboard=False))
        t = time.perf_counter()
        agent = AGENTS[args.agent](config, f"tabletop/{args.task}")
        run_dir = work / f"{args.agent}_{count}"
        shutil.rmtree(run_dir, ignore_errors=True)  # scratch: each benchmark run trains afresh
        summary = agent.train(run_dir=run_dir).summary
        print(f"{args.agent}, {count} demos: score {summary['eval_score_mean']:.3f}, train {summary['train_s']:.0f} s", flush=True)
        results[f"{args.agent}_demos_{count}"] = {**summary, "total_s": time.perf_counter() - t, "config": {
            "train_steps": args.steps, "batch_size": config.batch_size, "learning_rate": config.learning_rate,
            "channels": list(config.channels), "crop_size": config.crop_size, "num_rotations": config.num_rotations}}
        results["machine"] = machine()
        Path(args.out).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
