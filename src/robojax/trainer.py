"""The shared training driver: fused train steps on device, host visits for logs, evals, checkpoints.

Between host visits, ``train_step`` runs ``n`` times inside one compiled ``fori_loop``
(vmapped over seeds), so the Python overhead is paid once per log interval, not per step.
The number of steps is a traced argument: the last, shorter chunk does not recompile.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jax
import jax.numpy as jnp
import numpy as np
import yaml

from robojax import __version__, compile_cache
from robojax.checkpoint import (
    SIMULATORS,
    checkpoint_path,
    latest_checkpoint,
    read_checkpoint,
    remove_stale_temp_files,
    restore_state,
    save_checkpoint,
)
from robojax.config import BaseConfig, EnvConfig, experiment_dict
from robojax.envs import host_state
from robojax.errors import CheckpointError, NonFiniteError, SimulatorStateError
from robojax.evaluation import evaluate, summarize
from robojax.host_runner import HostChunk, HostEvaluator, reset_host_loop
from robojax.interrupts import DeferredInterrupts
from robojax.loggers import NullLogger, RunLogger
from robojax.loops import EPISODE_METRICS
from robojax.metrics import pack_metrics
from robojax.rundir import check_resumable, checked_run_dir, claimed_run_dir
from robojax.sharding import Placement, map_seeds, vary_like
from robojax.results import results_table, split_settings, sweep_rows
from robojax.video import record_episode, write_mp4

if TYPE_CHECKING:  # agents/base.py imports this module: annotations only, no import cycle
    from robojax.agents.base import Agent

_EVAL_KEY_SALT = 0x5EED


@dataclasses.dataclass
class TrainResult:
    """The final train state (leading axis: seeds), the run summary and where the run was written."""

    state: Any
    summary: dict[str, Any]
    run_dir: Path


def default_run_dir(agent: Agent) -> Path:
    env_id = agent.env_config.id if agent.env_config else type(agent.env.unwrapped).__name__
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    base = Path("runs") / f"{agent.name}_{env_id.replace('/', '-')}_{stamp}"
    path, n = base, 1
    while path.exists():  # two runs started in the same second get their own directories
        n += 1
        path = base.with_name(f"{base.name}-{n}")
    return path


def _experiment(agent: Agent) -> dict[str, Any]:
    env = agent.env_config or EnvConfig(id=f"<object {type(agent.env.unwrapped).__name__}>")
    return experiment_dict(agent.name, env, agent.config)


def nan_mean(metrics: dict[str, Any]) -> dict[str, float]:
    """Mean of each metric over all its entries (seeds, steps), ignoring NaN; NaN if all are."""
    out = {}
    for k, v in jax.device_get(metrics).items():
        v = np.asarray(v, np.float64)
        out[k] = float(np.nanmean(v)) if np.any(~np.isnan(v)) else float("nan")
    return out


def run_keys(key: jax.Array, config: BaseConfig) -> jax.Array:
    """One key per run (setting x seed): every setting gets the same ``num_seeds`` keys."""
    keys = jax.random.split(key, config.num_seeds)
    return jnp.tile(keys, (config.num_runs // config.num_seeds,) + (1,) * (keys.ndim - 1))


def sweep_hparams(config: BaseConfig) -> dict[str, jax.Array]:
    """The ``hparams`` of every run (setting x seed, settings outer): ``{field: values[runs]}``."""
    settings = config.sweep_settings()
    return {
        name: jnp.repeat(jnp.asarray([s[name] for s in settings], jnp.float32), config.num_seeds)
        for name in config.sweep
    }


def make_evaluator(agent: Agent, episodes: int, deterministic: bool, state: Any, keys: jax.Array):
    """``(states[seeds], keys[seeds]) -> per-episode results[seeds, episodes]``.

    On JAX envs: the evaluation compiled ahead of time for arguments like ``state``/``keys``.
    On host simulators: a ``HostEvaluator`` with its own vector env.
    """
    if not agent.loop.jittable:
        return HostEvaluator(agent, episodes, deterministic)

    def one_seed(state, key):
        return evaluate(agent.env, lambda obs, k: agent.act(state, obs, k, deterministic), key, episodes)

    return jax.jit(map_seeds(one_seed, agent.config.num_runs)).lower(state, keys).compile()


def record_video(agent: Agent, state: Any, key: jax.Array, path: Path) -> np.ndarray:
    """Record one greedy episode of the first seed's policy to ``path`` (MP4); returns the frames."""
    single = jax.tree.map(lambda x: x[0], state)
    act = jax.jit(lambda obs, k: agent.act(single, obs, k, True))
    frames = record_episode(agent.env, act, key)
    write_mp4(path, frames)
    return frames


def _read_latest(directory: Path, attempts: int = 3) -> tuple[Path, dict[str, Any], dict[str, Any]]:
    """The newest checkpoint's ``(path, meta, raw state)``.

    A run that is still training may delete its oldest checkpoint between our listing and
    reading (``checkpoint.keep``): then look again.
    """
    for attempt in range(attempts):
        path = latest_checkpoint(directory)
        if path is None:
            raise CheckpointError(f"no checkpoint in {str(directory)!r}")
        try:
            return (path, *read_checkpoint(path))
        except CheckpointError:
            if path.exists() or attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


class Trainer:
    """Runs ``agent.train_step`` to ``total_steps`` with evaluation, logging and checkpoints."""

    def __init__(self, agent: Agent, run_dir: str | Path | None = None, resume: bool = False):
        self.agent = agent
        self.config = agent.config
        self.resume = resume
        self.run_dir = checked_run_dir(run_dir, resume) or default_run_dir(agent)
        self.experiment = _experiment(agent)
        self.placement = Placement(agent)  # one device, or the mesh of ``config.mesh``
        self._unsaveable_simulators = False

    # -- compiled pieces -------------------------------------------------------------------

    def _chunk_fn(self, state: Any):
        agent = self.agent
        # Jitted, so that the metric names' ``eval_shape`` and the loop body share one trace
        # (a warm start is mostly tracing); XLA inlines the call.
        train_step = jax.jit(self.placement.train_step(agent.train_step))

        def one_seed(state, n):
            names = sorted(jax.eval_shape(train_step, state)[1])  # scalar metrics

            def body(_, carry):
                # NaN-aware running sums, packed in one vector (one loop-carried buffer, not dozens).
                state, sums, counts = carry
                state, metrics = train_step(state)
                values = pack_metrics(metrics)[1]
                valid = ~jnp.isnan(values)
                return state, sums + jnp.where(valid, values, 0.0), counts + valid

            zeros = vary_like(jnp.zeros(len(names), jnp.float32), state.key)  # a loop carry typed like the state's
            state, sums, counts = jax.lax.fori_loop(0, n, body, (state, zeros, zeros))
            means = jnp.where(counts > 0, sums / jnp.maximum(counts, 1), jnp.nan)
            return state, {k: means[i] for i, k in enumerate(names)}

        return self.placement.jit_over_seeds(one_seed, state)

    def _init_fn(self):
        """The runs' (settings x seeds) initial states from their keys, with each run's swept
        hyper-parameters (jitted by ``Placement.init`` on JAX envs; host simulators reset in Python)."""
        init, hparams = map_seeds(self.agent.init, self.config.num_runs), sweep_hparams(self.config)

        def init_runs(keys: jax.Array) -> Any:
            return init(keys).replace(hparams=hparams)

        return init_runs

    def _seed_keys(self) -> jax.Array:
        return self.placement.replicate(run_keys(jax.random.PRNGKey(self.config.seed), self.config))

    def _prepare(self, stop: DeferredInterrupts) -> tuple[Any, int, Any, dict[bool, Any], float, float]:
        """The initial state and the compiled chunk and evaluations:
        ``(state, train_steps done, chunk, eval fns, compile_s, eval_compile_wait_s)``.

        On JAX envs the train chunk and the evaluation compile in two threads from the state's
        shapes while the main thread builds (or restores) the state itself: XLA compiles a
        program on one thread, so on a cold start the three overlap. On a device mesh the
        programs compile for the state's shardings, so the state comes first.
        """
        agent = self.agent
        t = time.perf_counter()
        with ThreadPoolExecutor(2) as pool:
            if agent.loop.jittable:
                init, state = self._init_fn(), None
                if self.placement.mesh is None:
                    like = jax.eval_shape(init, self._seed_keys())
                else:
                    state, done = self._initial_state(init)
                    like = state
                chunk = pool.submit(
                    lambda: self._chunk_fn(like).lower(like, self.placement.replicate(jnp.int32(1))).compile()
                )
                evals = pool.submit(self._compile_evals, like)
                if state is None:
                    state, done = self._initial_state(init)
                chunk = chunk.result()
            else:  # the simulators start in Python; the policy and update compile on first use
                state, done = self._initial_state()
                t = time.perf_counter()
                evals = pool.submit(self._compile_evals, state)
                chunk = HostChunk(agent, stop=lambda: stop.requested)
                if done < agent.num_train_steps:  # time one train step
                    state, _ = chunk(state, 1)
                    done += chunk.steps_done
            compile_s = time.perf_counter() - t
            eval_fns = evals.result()
        self.placement.sync("robojax: compiled")
        return state, done, chunk, eval_fns, compile_s, time.perf_counter() - t - compile_s

    # -- host side -------------------------------------------------------------------------

    def _initial_state(self, init=None, simulators: bool = True) -> tuple[Any, int]:
        """``(state, train steps done)``: fresh, or restored from the latest checkpoint with
        ``resume``, host simulators included unless ``simulators=False`` (to evaluate a run)."""
        init, keys = init or self._init_fn(), self._seed_keys()
        state = self.placement.init(init, keys) if self.agent.loop.jittable else init(keys)  # host sims: Python
        if not self.resume:
            return state, 0
        path, meta, raw = _read_latest(self.run_dir / "checkpoints")
        check_resumable(path, meta, self.agent.name, self.experiment)
        try:
            view = restore_state(raw, self.placement.host_like(self.agent.checkpoint_view(state)), path)
        except CheckpointError as e:
            written_by = meta.get("robojax_version", "unknown")
            if written_by != __version__:
                raise CheckpointError(f"written by robojax {written_by}, this is robojax {__version__}: {e}") from e
            raise
        view = self.placement.place(view)
        state, train_steps = self.agent.from_checkpoint_view(view, state), int(meta["train_steps"])
        if simulators and not self.agent.loop.jittable:
            state = self._restore_simulators(state, meta, train_steps)
        return state, train_steps

    def _restore_simulators(self, state: Any, meta: dict[str, Any], train_steps: int) -> Any:
        """Host simulators continue their episodes from the checkpoint (an exact resume), or
        restart them where the run could not save them."""
        if SIMULATORS in meta:
            self.agent.loop.sim.set_state(host_state.decode(meta[SIMULATORS]))
            return state
        print("robojax: the checkpoint holds no simulator state: the simulators restart their episodes",
              file=sys.stderr)
        key = jax.random.fold_in(jax.random.PRNGKey(self.config.seed), train_steps)
        return reset_host_loop(self.agent, state, key)

    def _simulator_state(self) -> dict[str, bytes]:
        """``{"simulators": state}`` for a checkpoint of a host-loop run, or ``{}`` (said once)
        where its simulators cannot be saved."""
        if self.agent.loop.jittable or self._unsaveable_simulators:
            return {}
        try:
            return {SIMULATORS: host_state.encode(self.agent.loop.sim.get_state())}
        except SimulatorStateError as e:
            self._unsaveable_simulators = True
            print(f"robojax: {e}: a resume will restart the episodes", file=sys.stderr)
            return {}

    def _save(self, state: Any, train_steps: int) -> Path:
        env_steps = train_steps * self.agent.steps_per_train_step
        view = self.placement.fetch(self.agent.checkpoint_view(state))  # every process takes part
        if not self.placement.is_main:  # process 0 writes the checkpoint (and pickles its simulators)
            return checkpoint_path(self.run_dir / "checkpoints", env_steps)
        meta = {
            "algo": self.agent.name,
            "robojax_version": __version__,
            "train_steps": train_steps,
            "env_steps": env_steps,
            "config": self.experiment,
            **self._simulator_state(),
        }
        return save_checkpoint(self.run_dir / "checkpoints", env_steps, view, meta, self.config.checkpoint.keep)

    def _eval_keys(self, env_steps: int) -> jax.Array:
        # Eval randomness is derived from (seed, env_steps), never from the training RNG.
        key = jax.random.fold_in(jax.random.PRNGKey(self.config.seed + _EVAL_KEY_SALT), env_steps)
        return self.placement.replicate(run_keys(key, self.config))

    def _eval_modes(self) -> list[bool]:
        """``deterministic`` flags to evaluate: greedy and/or stochastic (at least one)."""
        modes = [True] if self.config.eval.deterministic else []
        return modes + ([False] if self.config.eval.stochastic or not modes else [])

    def _compile_evals(self, state: Any) -> dict[bool, Any]:
        episodes, keys = self.config.eval.episodes, self._eval_keys(0)
        return {d: make_evaluator(self.agent, episodes, d, state, keys) for d in self._eval_modes()}

    def _evaluate(self, fns: dict[bool, Any], state: Any, env_steps: int, logger: RunLogger) -> dict[str, Any]:
        keys = self._eval_keys(env_steps)
        out: dict[str, Any] = {}
        for deterministic, fn in fns.items():
            results = self.placement.fetch(fn(state, keys))
            prefix = "eval" if deterministic or not self.config.eval.deterministic else "eval_stochastic"
            out.update(summarize(results, prefix))
        if self.config.eval.video and self.placement.is_main:
            path = self.run_dir / "videos" / f"step_{env_steps:012d}.mp4"
            frames = record_video(self.agent, state, keys[0], path)
            logger.video(env_steps, "eval/video", frames, path)
            out["video"] = str(path)
        return out

    def _guard(self, state: Any, metrics: dict[str, np.ndarray], env_steps: int) -> str | None:
        """A one-line report if parameters or metrics became non-finite in some seed, else None.

        Non-finite parameters (where a NaN loss or an infinite gradient always ends up) or an
        infinite metric trigger it; metrics that are NaN by design (episode statistics when no
        episode ended, losses before learning starts) do not.
        """
        finite = np.asarray(self.placement.fetch(self._params_finite(self.agent.guarded(state))))
        per_seed = {k: np.asarray(v, np.float64).reshape(len(finite), -1) for k, v in metrics.items()}
        infinite = {k for k, v in per_seed.items() if np.isinf(v).any()}
        bad_seeds = sorted(set(np.flatnonzero(~finite)) | {s for k in infinite for s in np.flatnonzero(np.isinf(per_seed[k]).any(1))})
        if not bad_seeds:
            return None
        names = [f"train/{k}" for k, v in per_seed.items()
                 if k not in EPISODE_METRICS and not np.isfinite(v[bad_seeds]).all()]
        names += ["parameters"] if not finite.all() else []
        return f"non-finite values at env step {env_steps:,} in seed(s) {[int(s) for s in bad_seeds]}: {', '.join(names)}"

    @staticmethod
    @jax.jit
    def _params_finite(params: Any) -> jax.Array:
        """Per seed (leading axis): whether every floating-point leaf is finite."""
        leaves = [x for x in jax.tree.leaves(params) if jnp.issubdtype(x.dtype, jnp.inexact)]
        return jnp.stack([jnp.isfinite(x.reshape(x.shape[0], -1)).all(1) for x in leaves]).all(0)

    def run(self) -> TrainResult:
        """Train to ``total_steps``; holds the run directory's lock, defers Ctrl-C/SIGTERM to safe points."""
        if not self.placement.is_main:  # process 0 owns the run directory
            with DeferredInterrupts() as stop:
                return self._run(stop)
        with claimed_run_dir(self.run_dir, self.resume) as stop:
            return self._run(stop)

    def _run(self, stop: DeferredInterrupts) -> TrainResult:
        cfg, agent = self.config, self.agent
        start, cache_counts = time.perf_counter(), compile_cache.counts()
        if self.placement.is_main:
            remove_stale_temp_files(self.run_dir / "checkpoints")
        state, done, chunk, eval_fns, compile_s, eval_compile_wait_s = self._prepare(stop)
        if self.placement.is_main:
            (self.run_dir / "config.yaml").write_text(yaml.safe_dump(self.experiment, sort_keys=False))

        spts, total = agent.steps_per_train_step, agent.num_train_steps
        per_visit = max(1, cfg.logging.interval // spts)
        eval_every = max(1, cfg.eval.interval // spts) if cfg.eval.interval else None
        ckpt_every = max(1, cfg.checkpoint.interval // spts) if cfg.checkpoint.interval else None
        logger = RunLogger(self.run_dir, self.experiment, cfg.logging, total * spts, done * spts, self.run_dir.name) \
            if self.placement.is_main else NullLogger()
        logger.print(f"[bold]robojax[/] {agent.name} on {self.experiment['env']['id']}: run dir {self.run_dir}")
        runs = f"{cfg.num_runs // cfg.num_seeds} settings x " if cfg.sweep else ""
        logger.print(f"compiled train step in {compile_s:.2f} s ({runs}{cfg.num_seeds} seed(s), {spts} env steps/train step)")

        timers = {"train_s": 0.0, "eval_s": 0.0, "checkpoint_s": 0.0, "log_s": 0.0}
        start_done, warned, final_line = done, False, None
        try:
            while done < total:
                if self.placement.agree(stop.requested):  # here ``state`` and ``done`` always belong together
                    raise stop.exception()  # every process of a multi-process run stops at the same point
                t = time.perf_counter()
                new_state, metrics = chunk(state, self.placement.replicate(jnp.int32(min(per_visit, total - done))))
                metrics = self.placement.fetch(metrics)  # blocks until the chunk is done
                means = nan_mean(metrics)
                elapsed = time.perf_counter() - t
                n = chunk.steps_done if isinstance(chunk, HostChunk) else min(per_visit, total - done)
                state, done = new_state, done + n
                timers["train_s"] += elapsed
                env_steps = done * spts
                record = {"wall_s": time.perf_counter() - start, "sps": n * spts * cfg.num_runs / elapsed}
                record.update({f"train/{k}": v for k, v in means.items()})
                problem = self._guard(state, metrics, env_steps)
                if problem and cfg.on_nonfinite == "stop":
                    logger.log(env_steps, record)
                    raise NonFiniteError(f"{problem}; stopped without saving them (set on_nonfinite=continue to go on)")
                if problem and not warned:
                    logger.print(f"[yellow]warning:[/] {problem}; continuing (on_nonfinite=continue)")
                    warned = True
                if eval_every and (done // eval_every > (done - n) // eval_every) and done < total:
                    t = time.perf_counter()
                    evaluation = self._evaluate(eval_fns, state, env_steps, logger)
                    timers["eval_s"] += time.perf_counter() - t
                    record.update({f"eval/{k[5:]}" if k.startswith("eval_") else k: v for k, v in evaluation.items()})
                    headline = "eval_return_mean" if cfg.eval.deterministic else "eval_stochastic_return_mean"
                    logger.print(f"step {env_steps:,}: eval return {evaluation[headline]:.2f}")
                t = time.perf_counter()
                logger.log(env_steps, record)
                timers["log_s"] += time.perf_counter() - t
                if ckpt_every and (done // ckpt_every > (done - n) // ckpt_every) and done < total:
                    t = time.perf_counter()
                    self._save(state, done)
                    timers["checkpoint_s"] += time.perf_counter() - t
            t = time.perf_counter()
            final_eval = self._evaluate(eval_fns, state, done * spts, logger)
            timers["eval_s"] += time.perf_counter() - t
            t = time.perf_counter()
            path = self._save(state, done)
            timers["checkpoint_s"] += time.perf_counter() - t
            trained = (done - start_done) * spts * cfg.num_runs
            summary = {
                **final_eval,
                "env_steps": done * spts,
                "num_seeds": cfg.num_seeds,
                "device": jax.devices()[0].device_kind,  # "cpu" or the accelerator's model
                "wall_s": time.perf_counter() - start,
                "compile_s": compile_s,
                "eval_compile_wait_s": eval_compile_wait_s,
                "train_sps": trained / timers["train_s"] if timers["train_s"] > 0 else float("nan"),
                **timers,
                **compile_cache.report(cache_counts),
                "checkpoint": str(path),
            }
            if not agent.loop.jittable:  # where host-loop time goes: simulator vs policy calls
                summary.update({f"host_{k}": v for k, v in agent.loop.timers.items()})
            if cfg.sweep:
                summary["sweep"] = split_settings(summary, cfg)
                logger.print(results_table(sweep_rows(summary["sweep"], summary)))
            if self.placement.is_main:
                (self.run_dir / "summary.json").write_text(json.dumps(summary, indent=2))
            msg = f"final eval return {summary.get('eval_return_mean', summary.get('eval_stochastic_return_mean')):.2f}"
            final_line = f"{msg} | {summary['train_sps']:,.0f} sps | wall {summary['wall_s']:.1f} s | {path}"
        except KeyboardInterrupt:
            path = self._save(state, done)
            # Always shown, also with the console logger off.
            print(f"interrupted: saved {path}; continue with --resume {self.run_dir}", file=sys.stderr)
            raise
        finally:
            logger.close(final_line)
        return TrainResult(state=state, summary=summary, run_dir=self.run_dir)
