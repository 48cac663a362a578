"""Overhead of the device mesh on one machine: the 1 x 1 mesh against the pre-mesh code, and the
cost of one gradient all-reduce over gloo between two processes on loopback.

    python benchmarks/mesh_overhead.py --baseline-src /path/to/pre-mesh/src [--repeats 3]

The baseline is the same PPO run from another source tree (e.g. ``git archive`` of the commit
before the mesh); runs alternate between the two trees and the medians are reported. Writes
``benchmarks/results/mesh_overhead.json``. Scaling over several GPUs is not measured here.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, machine  # noqa: E402

PPO_ARGS = ["--env", "gymnax/CartPole-v1", "num_envs=4", "total_steps=1e6", "logging.interval=5e5",
            "logging.console=false", "logging.tensorboard=false", "eval.interval=0", "eval.episodes=4"]

#: Parameter counts of the default networks: PPO on CartPole-v1 (64x64 actor and critic) and
#: SAC on Pendulum-v1 (256x256 actor, 2 critics), both measured with ``ravel_pytree``.
ALLREDUCE_SCRIPT = """
import sys, time, json, jax, jax.numpy as jnp, numpy as np
from jax.sharding import PartitionSpec as P, AxisType
jax.distributed.initialize(sys.argv[1], 2, int(sys.argv[2]), cluster_detection_method="deactivate",
                           initialization_timeout=60)
from jax.experimental import multihost_utils
mesh = jax.make_mesh((2,), ("data",), axis_types=(AxisType.Auto,))
out = {}
for name, size in json.loads(sys.argv[3]).items():
    f = jax.jit(jax.shard_map(lambda g: jax.lax.pmean(g, "data"), mesh=mesh, in_specs=P("data"), out_specs=P()))
    x = multihost_utils.host_local_array_to_global_array(np.ones((1, size), np.float32), mesh, P("data"))
    f(x).block_until_ready()
    times = []
    for _ in range(200):
        t = time.perf_counter(); f(x).block_until_ready(); times.append(time.perf_counter() - t)
    out[name] = {"params": size, "median_us": 1e6 * float(np.median(times))}
if jax.process_index() == 0:
    print(json.dumps(out))
"""


def param_counts() -> dict[str, int]:
    import jax
    from jax.flatten_util import ravel_pytree

    from robojax import PPO, SAC

    ppo = PPO(env="gymnax/CartPole-v1").init(jax.random.PRNGKey(0)).params
    sac = SAC(env="gymnax/Pendulum-v1").init(jax.random.PRNGKey(0)).params
    sac = {k: v for k, v in sac.items() if k != "target_critic"}  # targets are not trained by gradients
    return {"ppo_cartpole": int(ravel_pytree(ppo)[0].size), "sac_pendulum": int(ravel_pytree(sac)[0].size)}


def ppo_run(src: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "robojax.cli", "train", "ppo", "--run-dir", f"{tmp}/run", *PPO_ARGS]
        env = dict(os.environ, PYTHONPATH=src)
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800, cwd=tmp, env=env)
        if proc.returncode:
            raise RuntimeError(proc.stderr[-3000:])
        summary = json.loads(proc.stdout.strip().splitlines()[-1])
        return {"compile_s": summary["compile_s"], "train_sps": summary["train_sps"]}


def allreduce(counts: dict[str, int]) -> dict:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, JAX_PLATFORMS="cpu", XLA_FLAGS="--xla_force_host_platform_device_count=1")
    procs = [subprocess.Popen([sys.executable, "-c", ALLREDUCE_SCRIPT, f"127.0.0.1:{port}", str(i), json.dumps(counts)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) for i in range(2)]
    outs = [p.communicate(timeout=600) for p in procs]
    for p, (_, err) in zip(procs, outs, strict=True):
        if p.returncode:
            raise RuntimeError(err[-3000:])
    return json.loads(outs[0][0].strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline-src", required=True, help="src/ of the code before the mesh")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    runs = {"mesh_1x1": [], "baseline": []}
    for _ in range(args.repeats):  # alternate, so that load on a shared machine hits both alike
        runs["mesh_1x1"].append(ppo_run(str(ROOT / "src")))
        runs["baseline"].append(ppo_run(args.baseline_src))
    medians = {k: {m: statistics.median(r[m] for r in v) for m in ("compile_s", "train_sps")} for k, v in runs.items()}
    result = {
        "machine": machine(),
        "load_average": os.getloadavg(),
        "ppo_cartpole": {"runs": runs, "median": medians,
                         "sps_ratio": medians["mesh_1x1"]["train_sps"] / medians["baseline"]["train_sps"],
                         "compile_ratio": medians["mesh_1x1"]["compile_s"] / medians["baseline"]["compile_s"]},
        "gloo_allreduce_2_processes_loopback": allreduce(param_counts()),
        "time": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    out = ROOT / "benchmarks" / "results" / "mesh_overhead.json"
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
