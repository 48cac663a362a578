"""Fault injection: signals and kills at many instants, non-finite values, run-directory safety.

Every interrupted run is resumed and must end bit-identical (every leaf of the train state) to
the same run done in one go, with each log point in ``metrics.jsonl`` exactly once.
"""

import errno
import json
import os
import signal
import subprocess
import sys
import threading
import time
import types
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from robojax.agents.ppo import PPO, PPOConfig
from robojax.agents.sac import SAC, SACConfig
from robojax.checkpoint import list_checkpoints, read_checkpoint, save_checkpoint
from robojax.config import CheckpointConfig, EvalConfig
from robojax.errors import CheckpointError, NonFiniteError, RunDirError
from robojax.interrupts import Terminated
from robojax.rundir import RunDirLock
from robojax.runs import load_run
from robojax.trainer import Trainer

from conftest import assert_trees_equal, quiet

ROOT = Path(__file__).resolve().parents[1]
# Small runs with a host visit every train step, an evaluation every 2 and a checkpoint every 3,
# so that signals land in every phase: compilation, chunks, evaluations, logging, checkpoint writes.
PPO_RUN = dict(total_steps=8 * 16 * 24, num_envs=8, rollout_length=16, num_minibatches=2, log_interval=8 * 16,
               eval=EvalConfig(interval=8 * 16 * 2, episodes=2),
               checkpoint=CheckpointConfig(interval=8 * 16 * 3, keep=2))
SAC_RUN = dict(total_steps=4 * 150, num_envs=4, num_seed_steps=100, batch_size=32, log_interval=4 * 10,
               eval=EvalConfig(interval=4 * 20, episodes=2), checkpoint=CheckpointConfig(interval=4 * 30, keep=2))


@pytest.fixture(autouse=True)
def signals_reach_the_process():
    """SIGINT as in an interactive shell, also where pytest was started with it ignored (background jobs)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def ppo_agent(**kw):
    cfg = quiet(PPOConfig(), **{**PPO_RUN, **kw})
    return PPO(dataclasses_replace_network(cfg, (16, 16)), "gymnax/CartPole-v1")


def sac_agent(**kw):
    cfg = quiet(SACConfig(), **{**SAC_RUN, **kw})
    return SAC(dataclasses_replace_network(cfg, (16, 16)), "gymnax/Pendulum-v1")


def dataclasses_replace_network(cfg, sizes):
    import dataclasses

    return dataclasses.replace(cfg, network=dataclasses.replace(cfg.network, hidden_sizes=sizes))


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """Each agent's run done in one go: ``{name: (TrainResult, log steps)}``, computed once per module."""
    done = {}

    def get(name):
        if name not in done:
            run_dir = tmp_path_factory.mktemp(f"reference_{name}")
            done[name] = ({"ppo": ppo_agent, "sac": sac_agent}[name]().train(run_dir=run_dir), log_steps(run_dir))
        return done[name]

    return get


def log_steps(run_dir: Path) -> list[int]:
    return [json.loads(line)["env_steps"] for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


class SignalAt:
    """Sends ``signum`` to this process after ``delay`` seconds, from a timer thread.

    Outside the trainer the test's own handlers record stray signals, so a timer that fires
    between two runs never reaches pytest.
    """

    def __init__(self, signum: int, delay: float):
        self.signum, self.fired = signum, False
        self.timer = threading.Timer(delay, self._fire)

    def _fire(self):
        self.fired = True
        os.kill(os.getpid(), self.signum)

    def __enter__(self):
        self.previous = {s: signal.signal(s, lambda *_: None) for s in (signal.SIGINT, signal.SIGTERM)}
        self.timer.start()
        return self

    def __exit__(self, *exc):
        self.timer.cancel()
        self.timer.join()
        for s, h in self.previous.items():
            signal.signal(s, h)


def interrupted_then_resumed(make_agent, run_dir: Path, signum: int, delay: float):
    """Train with a signal after ``delay`` s; resume until done. Returns (final state, was interrupted)."""
    expected = Terminated if signum == signal.SIGTERM else KeyboardInterrupt
    interrupted = False
    with SignalAt(signum, delay):
        try:
            result = make_agent().train(run_dir=run_dir)
        except KeyboardInterrupt as e:
            assert type(e) is expected
            interrupted = True
    if interrupted:
        result = make_agent().train(run_dir=run_dir, resume=True)
    return result.state, interrupted


@pytest.mark.parametrize("name", ["ppo", "sac"])
def test_signals_at_random_instants_resume_bit_identical(name, reference, tmp_path):
    make_agent = {"ppo": ppo_agent, "sac": sac_agent}[name]
    reference, full_log = reference(name)
    # The trials' programs come from the compilation cache: a run lasts about its training,
    # evaluation and checkpoint time, plus a little to load the programs.
    s = reference.summary
    wall = s["train_s"] + s["eval_s"] + s["checkpoint_s"] + s["log_s"] + 1.0
    rng = np.random.default_rng(1234)  # reproducible instants
    trials, interrupted = 4, 0
    for trial in range(trials):
        signum = (signal.SIGTERM, signal.SIGINT)[trial % 2]
        run_dir = tmp_path / f"trial{trial}"
        state, was = interrupted_then_resumed(make_agent, run_dir, signum, rng.uniform(0.0, 1.1 * wall))
        interrupted += was
        assert_trees_equal(state, reference.state)
        assert log_steps(run_dir) == full_log  # no duplicated or missing log points
    assert interrupted >= trials // 2  # most signals landed mid-run


@pytest.mark.parametrize("phase", ["_evaluate", "_save", "log", "chunk"])
def test_signal_in_each_phase_and_a_second_signal_while_saving(phase, reference, tmp_path, monkeypatch):
    """A signal sent from inside each phase, plus a second one during the checkpoint write it causes."""
    reference, full_log = reference("ppo")
    calls = {"n": 0}

    def send_on_third_call(original):
        def wrapped(*args, **kwargs):
            calls["n"] += 1
            if calls["n"] == 3:
                os.kill(os.getpid(), signal.SIGINT)
            return original(*args, **kwargs)
        return wrapped

    from robojax import checkpoint, loggers

    if phase == "log":
        monkeypatch.setattr(loggers.RunLogger, "log", send_on_third_call(loggers.RunLogger.log))
    elif phase == "chunk":  # sent right after the 3rd chunk is dispatched, while it runs
        real_chunk_fn = Trainer._chunk_fn

        def chunk_fn(self, *args):
            jitted = real_chunk_fn(self, *args)
            lower = lambda *args: types.SimpleNamespace(  # noqa: E731
                compile=lambda: send_on_third_call(jitted.lower(*args).compile()))
            return types.SimpleNamespace(lower=lower)

        monkeypatch.setattr(Trainer, "_chunk_fn", chunk_fn)
    else:
        monkeypatch.setattr(Trainer, phase, send_on_third_call(getattr(Trainer, phase)))
    real_save = checkpoint.save_checkpoint

    def save_with_second_signal(*args, **kwargs):
        if calls["n"] >= 3:  # a second signal while a checkpoint is written: ignored, the write completes
            os.kill(os.getpid(), signal.SIGTERM)
        return real_save(*args, **kwargs)

    with pytest.raises(KeyboardInterrupt) as stop:
        monkeypatch.setattr("robojax.trainer.save_checkpoint", save_with_second_signal)
        ppo_agent().train(run_dir=tmp_path / "run")
    assert type(stop.value) is KeyboardInterrupt  # the first signal (SIGINT) decides
    monkeypatch.undo()
    resumed = ppo_agent().train(run_dir=tmp_path / "run", resume=True)
    assert_trees_equal(resumed.state, reference.state)
    assert log_steps(tmp_path / "run") == full_log


KILL_SCRIPT = """
import os, signal, sys
from robojax import checkpoint
calls = {"n": 0}
real_fsync = os.fsync
def fsync(fd):  # SIGKILL in the middle of the K-th checkpoint write (temp file written, not renamed)
    calls["n"] += 1
    if calls["n"] == int(sys.argv[2]):
        os.kill(os.getpid(), signal.SIGKILL)
    real_fsync(fd)
checkpoint.os.fsync = fsync
from robojax.cli import main
sys.exit(main(["train", "ppo", "--run-dir", sys.argv[1], *sys.argv[3:]]))
"""
CLI_RUN = ["total_steps=3072", "num_envs=8", "rollout_length=16", "num_minibatches=2", "logging.interval=128",
           "eval.interval=256", "eval.episodes=2", "checkpoint.interval=384", "checkpoint.keep=2",
           "network.hidden_sizes=[16,16]", "logging.console=false", "logging.tensorboard=false"]


def run_cli(*args, timeout=300):
    return subprocess.run([sys.executable, "-c", KILL_SCRIPT, *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


def test_sigkill_at_random_instants_and_mid_checkpoint_write(reference, tmp_path):
    # The CLI run below is the in-process reference run's config (same final state).
    reference, full_log = reference("ppo")
    want = {jax.tree_util.keystr(k): v for k, v in jax.tree_util.tree_flatten_with_path(reference.state)[0]}
    rng = np.random.default_rng(7)
    # Kills mid-write of the 2nd and 5th checkpoint, then kills from outside at random instants.
    cases = [("write", 2), ("write", 5)] + [("time", float(d)) for d in rng.uniform(2.0, 10.0, size=2)]
    for i, (how, when) in enumerate(cases):
        run_dir = tmp_path / f"kill{i}"
        if how == "write":
            proc = run_cli(str(run_dir), str(when), *CLI_RUN)
            assert proc.returncode == -signal.SIGKILL
        else:
            proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(run_dir), "0", *CLI_RUN], cwd=ROOT,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(when)
            proc.kill()
            proc.wait(timeout=60)
        saved = list_checkpoints(run_dir / "checkpoints")
        for path in saved:
            read_checkpoint(path)  # every checkpoint on disk is complete and loadable
        if saved:  # lost at most one checkpoint interval of work
            resumed = run_cli(str(run_dir), "0", "--resume", str(run_dir))
        else:  # killed before its first checkpoint: start over
            resumed = run_cli(str(run_dir / "again"), "0", *CLI_RUN)
            run_dir = run_dir / "again"
        assert resumed.returncode == 0, resumed.stderr
        assert not list((run_dir / "checkpoints").glob(".tmp_*")), "half-written checkpoint left behind"
        _, got = read_checkpoint(list_checkpoints(run_dir / "checkpoints")[-1])
        assert sorted(got) == sorted(want)
        for name in want:
            np.testing.assert_array_equal(np.asarray(got[name]), np.asarray(want[name]), err_msg=name)
        assert log_steps(run_dir) == full_log


def test_host_simulator_interrupt_then_resume_is_exact(tmp_path, monkeypatch):
    pytest.importorskip("gymnasium")
    cfg = quiet(PPOConfig(), total_steps=4 * 32 * 30, num_envs=4, rollout_length=32, num_minibatches=2,
                log_interval=4 * 32 * 10, checkpoint=CheckpointConfig(interval=4 * 32 * 10))
    make = lambda: PPO(dataclasses_replace_network(cfg, (16, 16)), "gymnasium/Pendulum-v1")  # noqa: E731
    run_dir = tmp_path / "run"
    from robojax import host_runner

    real_call, calls = host_runner.HostChunk.__call__, {"n": 0}

    def signal_then_collect(self, state, n):
        # Call 1 is the trainer's first (compiling) train step; SIGTERM lands as the first
        # chunk starts, which then stops after one train step instead of ten.
        calls["n"] += 1
        if calls["n"] == 2:
            os.kill(os.getpid(), signal.SIGTERM)
        return real_call(self, state, n)

    monkeypatch.setattr(host_runner.HostChunk, "__call__", signal_then_collect)
    with pytest.raises(Terminated):
        make().train(run_dir=run_dir)
    monkeypatch.undo()
    saved = list_checkpoints(run_dir / "checkpoints")
    meta, raw = read_checkpoint(saved[-1])
    step = int(np.asarray(raw[".step"])[0])
    assert step == meta["train_steps"] == 2  # counters belong to the saved learner state
    assert log_steps(run_dir)[-1] == meta["env_steps"]
    resumed = make().train(run_dir=run_dir, resume=True)
    assert resumed.summary["env_steps"] == 4 * 32 * 30 and int(resumed.state.step[0]) == 30
    steps = log_steps(run_dir)
    assert steps == sorted(set(steps)) and steps[-1] == 4 * 32 * 30
    # the simulators' state was saved with the learner's: the same run as one done in one go
    assert "simulators" in meta
    assert_trees_equal(resumed.state, make().train(run_dir=tmp_path / "in_one_go").state)


class PoisonedPPO(PPO):
    """PPO whose parameters turn NaN after its 3rd update (a stand-in for a diverging run)."""

    def update(self, state, batch):
        state, metrics = super().update(state, batch)
        poison = jnp.where(state.step >= 3, jnp.nan, 1.0)
        return state.replace(params=jax.tree.map(lambda p: p * poison, state.params)), metrics


def test_nonfinite_guard_stops_before_saving(tmp_path):
    cfg = quiet(PPOConfig(), **{**PPO_RUN, "num_seeds": 2})
    agent = PoisonedPPO(dataclasses_replace_network(cfg, (16, 16)), "gymnax/CartPole-v1")
    with pytest.raises(NonFiniteError, match=r"env step 384 in seed\(s\) \[0, 1\]: .*parameters"):
        agent.train(run_dir=tmp_path / "stop")
    for path in list_checkpoints(tmp_path / "stop" / "checkpoints"):  # nothing non-finite was saved
        _, raw = read_checkpoint(path)
        assert all(np.isfinite(np.asarray(v)).all() for k, v in raw.items() if "params" in k)
    import dataclasses

    going = PoisonedPPO(dataclasses.replace(agent.config, on_nonfinite="continue"), "gymnax/CartPole-v1")
    result = going.train(run_dir=tmp_path / "continue")
    assert result.summary["env_steps"] == PPO_RUN["total_steps"]


def test_run_directory_lock_and_reuse(tmp_path):
    run_dir = tmp_path / "run"
    with RunDirLock(run_dir), pytest.raises(RunDirError, match=f"in use by another robojax process \\(pid {os.getpid()}\\)"):
        ppo_agent().train(run_dir=run_dir)
    # a process killed while holding the lock does not leave it stuck
    code = f"from robojax.rundir import RunDirLock; import os, signal; RunDirLock({str(run_dir)!r}).__enter__(); os.kill(os.getpid(), signal.SIGKILL)"
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == -signal.SIGKILL
    ppo_agent(total_steps=128).train(run_dir=run_dir)
    with pytest.raises(RunDirError, match="already holds a run"):
        ppo_agent(total_steps=128).train(run_dir=run_dir)
    (tmp_path / "file").write_text("")
    with pytest.raises(RunDirError, match="cannot use run directory"):
        ppo_agent().train(run_dir=tmp_path / "file" / "run")


def test_full_disk_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    good = save_checkpoint(tmp_path, 1, {"x": np.arange(3)}, {"n": 1}, keep=3)

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("robojax.checkpoint.os.fsync", full)
    with pytest.raises(CheckpointError, match="No space left on device; earlier checkpoints are intact"):
        save_checkpoint(tmp_path, 2, {"x": np.arange(3)}, {"n": 2}, keep=3)
    assert list_checkpoints(tmp_path) == [good] and sorted(p.name for p in tmp_path.iterdir()) == [good.name]
    assert read_checkpoint(good)[0] == {"n": 1}


def test_other_version_with_other_structure_is_named(tmp_path):
    ppo_agent(total_steps=128).train(run_dir=tmp_path)
    meta, _ = read_checkpoint(list_checkpoints(tmp_path / "checkpoints")[-1])
    # a train state of another structure (extra LayerNorm parameters), as another version might write
    import dataclasses

    cfg = ppo_agent().config
    other = PPO(dataclasses.replace(cfg, network=dataclasses.replace(cfg.network, layer_norm=True)), "gymnax/CartPole-v1")
    state = jax.tree.map(lambda x: x[None], other.init(jax.random.PRNGKey(0)))
    save_checkpoint(tmp_path / "checkpoints", meta["env_steps"], state, {**meta, "robojax_version": "0.0.9"}, keep=5)
    with pytest.raises(CheckpointError, match=r"written by robojax 0\.0\.9, this is robojax .*unexpected .*LayerNorm"):
        load_run(tmp_path)


def test_eval_reads_the_latest_complete_checkpoint_while_training_writes(tmp_path):
    result = ppo_agent(total_steps=256).train(run_dir=tmp_path)
    # a half-written checkpoint of a run still in progress is never read
    (tmp_path / "checkpoints" / ".tmp_abc.ckpt").write_bytes(b"partial")
    _, state, meta = load_run(tmp_path)
    assert meta["env_steps"] == 256
    assert_trees_equal(state, result.state)
