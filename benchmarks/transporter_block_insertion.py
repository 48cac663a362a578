"""Transporter Networks on tabletop/block-insertion: test score after training on 1 and 10 demos.

Writes ``benchmarks/results/transporter_block_insertion.json``. Demos come from seeds 0.. (the
oracle keeps solved episodes only); test episodes use seeds from 1,000,000 (disjoint).

    PYTHONPATH=src python benchmarks/transporter_block_insertion.py --demos 1 10 --steps 800 --episodes 100
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, machine  # noqa: E402

from robojax.agents.transporter import DemosConfig, Transporter, TransporterConfig  # noqa: E402
from robojax.agents.transporter.config import TabletopEvalConfig  # noqa: E402
from robojax.config import LogConfig  # noqa: E402
from robojax.envs.tabletop.demos import generate  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--demos", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--steps", type=int, default=800)
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument("--work", default="/tmp/transporter_bench")
    parser.add_argument("--out", default=str(ROOT / "benchmarks/results/transporter_block_insertion.json"))
    args = parser.parse_args()
    work = Path(args.work)
    demo_dir = work / "demos"
    if not (demo_dir / "meta.json").exists():
        for _ in generate("block-insertion", max(args.demos), demo_dir, seed=0):
            pass
    results = json.loads(Path(args.out).read_text()) if Path(args.out).exists() else {}
    for count in args.demos:
        config = TransporterConfig(train_steps=args.steps, demos=DemosConfig(str(demo_dir), count),
                                   eval=TabletopEvalConfig(episodes=args.episodes),
                                   logging=LogConfig(interval=100, console=False, tensorboard=False))
        t = time.perf_counter()
        summary = Transporter(config, "tabletop/block-insertion").train(run_dir=work / f"run_{count}").summary
        print(f"{count} demos: score {summary['eval_score_mean']:.3f}, train {summary['train_s']:.0f} s", flush=True)
        results[f"demos_{count}"] = {**summary, "total_s": time.perf_counter() - t, "config": {
            "train_steps": args.steps, "batch_size": config.batch_size, "learning_rate": config.learning_rate,
            "channels": list(config.channels), "crop_size": config.crop_size, "num_rotations": config.num_rotations}}
        results["machine"] = machine()
        Path(args.out).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
