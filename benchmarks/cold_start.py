#!/usr/bin/env python
"""Whole-process time, from the shell prompt to exit: ``robojax train ppo --env gymnax/CartPole-v1``
on a cold start (empty compilation cache) and a warm one (the same command again), against a
single-file PureJaxRL-style script doing the same training and a greedy evaluation
(``peer_purejaxrl_style.py``, same virtualenv).

    python benchmarks/cold_start.py [--repeats 5] [--total-steps 500000]

Each repeat runs robojax cold (a fresh cache directory through ``ROBOJAX_COMPILATION_CACHE``),
then the peer, then robojax warm (the same directory), each a fresh process: interleaved, so a
slow spell of a shared machine falls on all three. Reported: median wall seconds (and the
range), median CPU seconds of the process (user + system; less sensitive to other load on the
machine) and the peer's time divided by robojax's. robojax runs with its defaults (console
progress, TensorBoard, 20 log points, 5 evaluations, 3 checkpoints); the peer evaluates once.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

from common import ROOT, machine, save, table


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """(wall s, CPU s of the child, stdout) of one process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=3600)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu, proc.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--total-steps", type=int, default=500_000)
    args = parser.parse_args()
    runs: dict[str, list[dict]] = {"robojax, cold (empty cache)": [], "PureJaxRL-style script": [],
                                   "robojax, warm (repeated run)": []}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.repeats):
            env = {**os.environ, "ROBOJAX_COMPILATION_CACHE": f"{tmp}/cache{r}"}
            robojax = [sys.executable, "-m", "robojax.cli", "train", "ppo", "--env", "gymnax/CartPole-v1",
                       f"total_steps={args.total_steps}"]
            peer = [sys.executable, str(ROOT / "benchmarks" / "peer_purejaxrl_style.py"), "--json",
                    "--total-steps", str(args.total_steps)]
            for label, cmd in (("robojax, cold (empty cache)", robojax + ["--run-dir", f"{tmp}/cold{r}"]),
                               ("PureJaxRL-style script", peer),
                               ("robojax, warm (repeated run)", robojax + ["--run-dir", f"{tmp}/warm{r}"])):
                wall, cpu, out = timed(cmd, env)
                result = json.loads(out.strip().splitlines()[-1])
                runs[label].append({"wall_s": wall, "cpu_s": cpu, "eval_return": result["eval_return_mean"],
                                    **{k: result[k] for k in ("compile_s", "train_sps", "compile_cache_hits",
                                                              "compile_cache_misses") if k in result}})
                print(f"{label}: {wall:.1f} s wall, {cpu:.1f} s CPU", flush=True)
    peer_wall = statistics.median(r["wall_s"] for r in runs["PureJaxRL-style script"])
    peer_cpu = statistics.median(r["cpu_s"] for r in runs["PureJaxRL-style script"])
    rows = []
    for label, rs in runs.items():
        wall = statistics.median(r["wall_s"] for r in rs)
        cpu = statistics.median(r["cpu_s"] for r in rs)
        rows.append({"run": label, "wall_s": wall, "wall_range": f"{min(r['wall_s'] for r in rs):.1f}-"
                     f"{max(r['wall_s'] for r in rs):.1f}", "speedup_wall": peer_wall / wall, "cpu_s": cpu,
                     "speedup_cpu": peer_cpu / cpu, "eval_return": statistics.median(r["eval_return"] for r in rs),
                     "all": rs})
    print(f"machine: {machine()}")
    print(table(rows, ["run", "wall_s", "wall_range", "speedup_wall", "cpu_s", "speedup_cpu", "eval_return"]))
    print(f"saved {save('cold_start', {'args': vars(args), 'rows': rows})}")


if __name__ == "__main__":
    main()
