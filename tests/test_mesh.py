"""Device mesh (seeds x data) and multi-process runs; several CPU devices come from subprocesses."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from robojax import PPO, PPOConfig, SACConfig
from robojax.checkpoint import latest_checkpoint, list_checkpoints, read_checkpoint
from robojax.config import MeshConfig
from robojax.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def _env(devices: int) -> dict:
    env = dict(os.environ, XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}", JAX_PLATFORMS="cpu")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    return env


def _python(args: list[str], devices: int = 2, timeout: int = 300, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], env=_env(devices), capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT, **kwargs)


def test_mesh_updates_match_one_device():
    """PPO and SAC updates, seeds, replicas and collectives on 2 devices (one subprocess)."""
    proc = _python([str(ROOT / "tests" / "mesh_checks.py"), "ppo_update", "sac_update", "trainer_meshes"], timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["devices"] == 2
    ppo, sac = out["ppo"], out["sac"]
    # Same global batch on 1 and 2 devices: the same update, to float32 rounding ...
    assert ppo["change"] > 0.1 and ppo["params"] < 1e-5 and ppo["obs_stats"] < 1e-5
    for name, (one, two) in ppo["metrics"].items():
        np.testing.assert_allclose(two, one, rtol=1e-5, atol=1e-6, err_msg=name)
    assert sac["change"] > 0.01 and sac["params"] < 1e-6
    # ... and the check would catch per-device gradients (summed over devices by shard_map).
    assert ppo["summed_params"] > 0.1 and ppo["summed_grad_norm_ratio"] > 1.5
    assert sac["summed_params"] > 0.01
    assert out["seeds_vs_vmapped"] < 1e-5
    assert out["replicas"] == 2 and out["replicas_identical"]
    assert out["all_reduces"]["plain"] == 0 and out["all_reduces"]["seeds"] == 0
    assert out["all_reduces"]["data"] > 0
    assert out["data_vs_plain"] > 0  # each device draws its own env/policy randomness


def test_mesh_config_errors():
    with pytest.raises(ConfigError, match="mesh.data=3 must divide num_envs=4"):
        PPOConfig(num_envs=4, mesh=MeshConfig(data=3))
    with pytest.raises(ConfigError, match="mesh.seeds=2 must divide num_seeds=3"):
        PPOConfig(num_seeds=3, mesh=MeshConfig(seeds=2))
    with pytest.raises(ConfigError, match=r"num_minibatches=4 must divide num_envs / mesh.data \* rollout_length = 6"):
        PPOConfig(num_envs=4, rollout_length=3, mesh=MeshConfig(data=2))
    with pytest.raises(ConfigError, match="mesh.data=2 must divide batch_size=5"):
        SACConfig(num_envs=2, batch_size=5, mesh=MeshConfig(data=2))
    with pytest.raises(ConfigError, match="mesh.data=0"):
        MeshConfig(data=0)


def test_mesh_larger_than_devices(tmp_path):
    # This process has one CPU device.
    agent = PPO(PPOConfig(num_envs=4, mesh=MeshConfig(seeds=1, data=2)), "gymnax/CartPole-v1")
    with pytest.raises(ConfigError, match=r"mesh.seeds \* mesh.data = 1 \* 2 = 2 devices, but only 1 cpu device"):
        agent.train(run_dir=tmp_path)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


TRAIN = ["-m", "robojax.cli", "train", "ppo", "--env", "gymnax/CartPole-v1"]
SETTINGS = ["num_envs=4", "rollout_length=16", "num_minibatches=2", "total_steps=384", "network.hidden_sizes=[16,16]",
            "mesh.data=2", "logging.interval=64", "logging.console=false", "logging.tensorboard=false",
            "checkpoint.interval=128", "checkpoint.keep=5", "eval.episodes=2", "eval.interval=0"]


def _start_two(args: list[str], peer_timeout: int = 60) -> list[subprocess.Popen]:
    port = _free_port()
    return [
        subprocess.Popen([sys.executable, *args, f"distributed.coordinator=127.0.0.1:{port}",
                          "distributed.num_processes=2", f"distributed.process_id={i}",
                          f"distributed.timeout={peer_timeout}"],
                         env=_env(1), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in range(2)
    ]


def _two_processes(args: list[str], timeout: int = 300) -> list[subprocess.CompletedProcess]:
    procs = _start_two(args)
    try:
        outs = [p.communicate(timeout=timeout) for p in procs]
    finally:
        for p in procs:
            p.kill()
    return [subprocess.CompletedProcess(p.args, p.returncode, o, e) for p, (o, e) in zip(procs, outs, strict=True)]


def _params(path: Path) -> dict:
    state = read_checkpoint(path)[1]
    return {k: v for k, v in state.items() if k.startswith(".params") or k.startswith(".obs_stats")}


def test_two_processes_match_two_devices_and_resume(tmp_path):
    """PPO over 2 processes (gloo, 1 CPU device each) = 1 process with 2 devices; resume from process 0's checkpoint."""
    ref = _python([*TRAIN, "--run-dir", str(tmp_path / "ref"), *SETTINGS])
    assert ref.returncode == 0, ref.stderr[-3000:]
    run = tmp_path / "multi"
    first = _two_processes([*TRAIN, "--run-dir", str(run), *SETTINGS])
    for p in first:
        assert p.returncode == 0, p.stderr[-3000:]
    final = latest_checkpoint(run / "checkpoints")
    want = _params(final)
    for key, value in _params(latest_checkpoint(tmp_path / "ref" / "checkpoints")).items():
        np.testing.assert_allclose(want[key], value, rtol=1e-6, atol=1e-6, err_msg=key)
    assert len(list_checkpoints(run / "checkpoints")) == 3  # steps 128, 256, 384: written by process 0 only
    assert json.loads((run / "summary.json").read_text())["env_steps"] == 384
    final.rename(tmp_path / "final.ckpt")  # resume from step 256 and redo the last chunks
    second = _two_processes([*TRAIN[:-2], "--resume", str(run)])
    for p in second:
        assert p.returncode == 0, p.stderr[-3000:]
    for key, value in _params(latest_checkpoint(run / "checkpoints")).items():
        np.testing.assert_array_equal(value, want[key], err_msg=key)


def test_missing_peer_fails_fast_with_its_number():
    port = _free_port()
    proc = _python([*TRAIN, *SETTINGS, f"distributed.coordinator=127.0.0.1:{port}", "distributed.num_processes=2",
                    "distributed.process_id=0", "distributed.timeout=5"], devices=1, timeout=60)
    assert proc.returncode == 2
    assert "process 1 is missing" in proc.stderr


@pytest.mark.parametrize("fault", ["killed", "hung"])
def test_peer_lost_mid_run_stops_the_run_naming_it(tmp_path, fault):
    """Process 1 dies (SIGKILL: its collectives fail at once) or hangs (SIGSTOP: silence) mid-run:
    process 0 exits with code 2 and one line naming process 1, not a traceback or JAX's abort."""
    run = tmp_path / "run"
    settings = [s for s in SETTINGS if not s.startswith(("total_steps=", "checkpoint.interval="))]
    args = [*TRAIN, "--run-dir", str(run), *settings, "total_steps=100000000", "checkpoint.interval=0"]
    procs = _start_two(args, peer_timeout=5)
    try:
        deadline = time.monotonic() + 240
        while not ((run / "metrics.jsonl").exists() and (run / "metrics.jsonl").stat().st_size):
            assert time.monotonic() < deadline and procs[0].poll() is None, procs[0].communicate()[1][-3000:]
            time.sleep(0.5)
        procs[1].send_signal(signal.SIGKILL if fault == "killed" else signal.SIGSTOP)
        start = time.monotonic()
        _, err = procs[0].communicate(timeout=60)
        assert procs[0].returncode == 2, err[-3000:]
        assert "process 1 is missing" in err and "Traceback" not in err, err[-3000:]
        assert time.monotonic() - start < 30
    finally:
        for p in procs:
            p.kill()
            p.communicate()


def test_distributed_settings_errors(capsys):
    from robojax.cli import main

    assert main(["train", "ppo", "distributed.num_processes=2", "distributed.process_id=1"]) == 2
    assert "distributed.coordinator is not set" in capsys.readouterr().err
    assert main(["train", "ppo", "distributed.num_processes=2", "distributed.process_id=2"]) == 2
    assert "distributed.process_id=2: must be in [0, 1]" in capsys.readouterr().err
    assert main(["train", "ppo", "distributed.port=1"]) == 2
    assert "unknown config key 'distributed.port'" in capsys.readouterr().err


@pytest.mark.parametrize("algo", ["ppo", "sac"])
def test_one_by_one_mesh_is_the_plain_program(algo):
    """The default 1 x 1 mesh keeps today's program: no mesh, and no collective in the compiled
    train chunk (the data-axis reductions are the identity outside a data mesh)."""
    import jax

    from robojax import SAC
    from robojax.trainer import Trainer

    agent = PPO(PPOConfig(num_envs=4, rollout_length=8), "gymnax/CartPole-v1") if algo == "ppo" else \
        SAC(SACConfig(num_envs=2, batch_size=8, buffer_size=64, num_seed_steps=4), "gymnax/Pendulum-v1")
    trainer = Trainer(agent, run_dir="/nonexistent")
    assert trainer.placement.mesh is None
    like = jax.eval_shape(trainer._init_fn(), trainer._seed_keys())
    hlo = trainer._chunk_fn(like).lower(like, 1).as_text()
    for op in ("all_reduce", "all_gather", "reduce_scatter", "collective_permute", "all_to_all", "sharding"):
        assert op not in hlo, op
