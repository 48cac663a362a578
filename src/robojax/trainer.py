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
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import yaml

from robojax import __version__
from robojax.agents.base import Agent
from robojax.checkpoint import latest_checkpoint, read_checkpoint, restore_state, save_checkpoint
from robojax.config import EnvConfig, experiment_dict
from robojax.errors import CheckpointError
from robojax.evaluation import evaluate, summarize
from robojax.host_runner import HostChunk, HostEvaluator, reset_host_loop
from robojax.loggers import RunLogger
from robojax.metrics import pack_metrics
from robojax.video import record_episode, write_mp4

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
    return Path("runs") / f"{agent.name}_{env_id.replace('/', '-')}_{stamp}"


def _experiment(agent: Agent) -> dict[str, Any]:
    env = agent.env_config or EnvConfig(id=f"<object {type(agent.env.unwrapped).__name__}>")
    return experiment_dict(agent.name, env, agent.config)


def _diff(a: dict[str, Any], b: dict[str, Any], prefix: str = "") -> list[str]:
    keys = []
    for k in sorted(set(a) | set(b)):
        if isinstance(a.get(k), dict) and isinstance(b.get(k), dict):
            keys += _diff(a[k], b[k], f"{prefix}{k}.")
        elif a.get(k) != b.get(k):
            keys.append(f"{prefix}{k} (checkpoint {b.get(k)!r}, now {a.get(k)!r})")
    return keys


def nan_mean(metrics: dict[str, Any]) -> dict[str, float]:
    """Mean of each metric over all its entries (seeds, steps), ignoring NaN; NaN if all are."""
    out = {}
    for k, v in jax.device_get(metrics).items():
        v = np.asarray(v, np.float64)
        out[k] = float(np.nanmean(v)) if np.any(~np.isnan(v)) else float("nan")
    return out


def map_seeds(fn, num_seeds: int, in_axes=0):
    """``jax.vmap(fn)`` over the leading seed axis; with one seed, index and re-add the axis instead.

    A batch of one still makes every matmul a batched one, which costs about 10% on CPU.
    """
    if num_seeds > 1:
        return jax.vmap(fn, in_axes=in_axes)
    axes = in_axes if isinstance(in_axes, tuple) else None

    def single(*args):
        args = [a if axes is not None and axes[i] is None else jax.tree.map(lambda x: x[0], a) for i, a in enumerate(args)]
        return jax.tree.map(lambda x: x[None], fn(*args))

    return single


def make_evaluator(agent: Agent, episodes: int, deterministic: bool, state: Any, keys: jax.Array):
    """``(states[seeds], keys[seeds]) -> per-episode results[seeds, episodes]``.

    On JAX envs: the evaluation compiled ahead of time for arguments like ``state``/``keys``.
    On host simulators: a ``HostEvaluator`` with its own vector env.
    """
    if not agent.loop.jittable:
        return HostEvaluator(agent, episodes, deterministic)

    def one_seed(state, key):
        return evaluate(agent.env, lambda obs, k: agent.act(state, obs, k, deterministic), key, episodes)

    return jax.jit(map_seeds(one_seed, agent.config.num_seeds)).lower(state, keys).compile()


def record_video(agent: Agent, state: Any, key: jax.Array, path: Path) -> np.ndarray:
    """Record one greedy episode of the first seed's policy to ``path`` (MP4); returns the frames."""
    single = jax.tree.map(lambda x: x[0], state)
    act = jax.jit(lambda obs, k: agent.act(single, obs, k, True))
    frames = record_episode(agent.env, act, key)
    write_mp4(path, frames)
    return frames


def load_run(run_dir: str | Path) -> tuple[Agent, Any, dict[str, Any]]:
    """Rebuild the agent of a run directory and restore its latest checkpoint: ``(agent, state, meta)``."""
    from robojax.agents import AGENTS
    from robojax.config import load_yaml, split_experiment

    run_dir = Path(run_dir)
    if not (run_dir / "config.yaml").is_file():
        raise CheckpointError(f"{str(run_dir)!r} is not a run directory (no config.yaml)")
    experiment = load_yaml(run_dir / "config.yaml")
    algo = experiment.get("algo")
    if algo not in AGENTS:
        raise CheckpointError(f"{str(run_dir / 'config.yaml')!r}: unknown algo {algo!r}; known: {', '.join(AGENTS)}")
    env_config, config = split_experiment(AGENTS[algo].config_cls, experiment)
    agent = AGENTS[algo](config, env_config)
    trainer = Trainer(agent, run_dir=run_dir, resume=True)
    state, train_steps = trainer._initial_state()
    return agent, state, {"train_steps": train_steps, "env_steps": train_steps * agent.steps_per_train_step}


class Trainer:
    """Runs ``agent.train_step`` to ``total_steps`` with evaluation, logging and checkpoints."""

    def __init__(self, agent: Agent, run_dir: str | Path | None = None, resume: bool = False):
        self.agent = agent
        self.config = agent.config
        self.resume = resume
        if resume:
            if run_dir is None:
                raise CheckpointError("resume=True needs the run directory to resume from")
            run_dir = Path(run_dir)
            if latest_checkpoint(run_dir / "checkpoints") is None:
                raise CheckpointError(f"no checkpoint to resume from in {str(run_dir / 'checkpoints')!r}")
        self.run_dir = Path(run_dir) if run_dir is not None else default_run_dir(agent)
        self.experiment = _experiment(agent)

    # -- compiled pieces -------------------------------------------------------------------

    def _chunk_fn(self):
        agent = self.agent

        def one_seed(state, n):
            names = sorted(jax.eval_shape(agent.train_step, state)[1])  # scalar metrics

            def body(_, carry):
                # NaN-aware running sums, packed in one vector (one loop-carried buffer, not dozens).
                state, sums, counts = carry
                state, metrics = agent.train_step(state)
                values = pack_metrics(metrics)[1]
                valid = ~jnp.isnan(values)
                return state, sums + jnp.where(valid, values, 0.0), counts + valid

            zeros = jnp.zeros(len(names), jnp.float32)
            state, sums, counts = jax.lax.fori_loop(0, n, body, (state, zeros, zeros))
            means = jnp.where(counts > 0, sums / jnp.maximum(counts, 1), jnp.nan)
            return state, {k: means[i] for i, k in enumerate(names)}

        return jax.jit(map_seeds(one_seed, self.config.num_seeds, in_axes=(0, None)))

    # -- host side -------------------------------------------------------------------------

    def _initial_state(self) -> tuple[Any, int]:
        keys = jax.random.split(jax.random.PRNGKey(self.config.seed), self.config.num_seeds)
        init = map_seeds(self.agent.init, self.config.num_seeds)
        state = (jax.jit(init) if self.agent.loop.jittable else init)(keys)  # host sims reset in Python
        if not self.resume:
            return state, 0
        path = latest_checkpoint(self.run_dir / "checkpoints")
        meta, raw = read_checkpoint(path)
        if meta.get("algo") != self.agent.name:
            raise CheckpointError(f"{str(path)!r} was written by {meta.get('algo')!r}, not {self.agent.name!r}")
        changed = _diff(self.experiment, meta.get("config", {}))
        if changed:
            raise CheckpointError(f"{str(path)!r} was written with a different config: {'; '.join(changed)}")
        view = restore_state(raw, self.agent.checkpoint_view(state), path)
        state, train_steps = self.agent.from_checkpoint_view(view, state), int(meta["train_steps"])
        if not self.agent.loop.jittable:
            key = jax.random.fold_in(jax.random.PRNGKey(self.config.seed), train_steps)
            state = reset_host_loop(self.agent, state, key)
        return state, train_steps

    def _save(self, state: Any, train_steps: int) -> Path:
        meta = {
            "algo": self.agent.name,
            "robojax_version": __version__,
            "train_steps": train_steps,
            "env_steps": train_steps * self.agent.steps_per_train_step,
            "config": self.experiment,
        }
        return save_checkpoint(
            self.run_dir / "checkpoints",
            meta["env_steps"],
            self.agent.checkpoint_view(state),
            meta,
            keep=self.config.checkpoint.keep,
        )

    def _eval_keys(self, env_steps: int) -> jax.Array:
        # Eval randomness is derived from (seed, env_steps), never from the training RNG.
        key = jax.random.fold_in(jax.random.PRNGKey(self.config.seed + _EVAL_KEY_SALT), env_steps)
        return jax.random.split(key, self.config.num_seeds)

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
            results = jax.device_get(fn(state, keys))
            prefix = "eval" if deterministic or not self.config.eval.deterministic else "eval_stochastic"
            out.update(summarize(results, prefix))
        if self.config.eval.video:
            path = self.run_dir / "videos" / f"step_{env_steps:012d}.mp4"
            frames = record_video(self.agent, state, keys[0], path)
            logger.video(env_steps, "eval/video", frames, path)
            out["video"] = str(path)
        return out

    def run(self) -> TrainResult:
        cfg, agent = self.config, self.agent
        start = time.perf_counter()
        self.run_dir.mkdir(parents=True, exist_ok=True)
        state, done = self._initial_state()
        (self.run_dir / "config.yaml").write_text(yaml.safe_dump(self.experiment, sort_keys=False))

        t = time.perf_counter()
        # XLA compiles on one thread: compile the evaluation beside the train step.
        with ThreadPoolExecutor(1) as pool:
            evals = pool.submit(self._compile_evals, state)
            if agent.loop.jittable:
                chunk = self._chunk_fn().lower(state, jnp.int32(1)).compile()
            else:  # compiles the policy and the update on first use: time one train step
                chunk = HostChunk(agent)
                if done < agent.num_train_steps:
                    state, _ = chunk(state, 1)
                    done += 1
            compile_s = time.perf_counter() - t
            eval_fns = evals.result()
        eval_compile_wait_s = time.perf_counter() - t - compile_s

        spts, total = agent.steps_per_train_step, agent.num_train_steps
        per_visit = max(1, cfg.logging.interval // spts)
        eval_every = max(1, cfg.eval.interval // spts) if cfg.eval.interval else None
        ckpt_every = max(1, cfg.checkpoint.interval // spts) if cfg.checkpoint.interval else None
        logger = RunLogger(self.run_dir, self.experiment, cfg.logging, total * spts, done * spts, self.run_dir.name)
        logger.print(f"[bold]robojax[/] {agent.name} on {self.experiment['env']['id']}: run dir {self.run_dir}")
        logger.print(f"compiled train step in {compile_s:.2f} s ({cfg.num_seeds} seed(s), {spts} env steps/train step)")

        timers = {"train_s": 0.0, "eval_s": 0.0, "checkpoint_s": 0.0, "log_s": 0.0}
        start_done = done
        try:
            while done < total:
                n = min(per_visit, total - done)
                t = time.perf_counter()
                state, metrics = chunk(state, jnp.int32(n))
                metrics = nan_mean(metrics)  # blocks until the chunk is done
                elapsed = time.perf_counter() - t
                timers["train_s"] += elapsed
                done += n
                env_steps = done * spts
                record = {"wall_s": time.perf_counter() - start, "sps": n * spts * cfg.num_seeds / elapsed}
                record.update({f"train/{k}": v for k, v in metrics.items()})
                if eval_every and (done // eval_every > (done - n) // eval_every) and done < total:
                    t = time.perf_counter()
                    evaluation = self._evaluate(eval_fns, state, env_steps, logger)
                    timers["eval_s"] += time.perf_counter() - t
                    record.update({f"eval/{k[5:]}" if k.startswith("eval_") else k: v for k, v in evaluation.items()
                                   if not isinstance(v, list)})
                    headline = "eval_return_mean" if cfg.eval.deterministic else "eval_stochastic_return_mean"
                    logger.print(f"step {env_steps:,}: eval return {evaluation[headline]:.2f}")
                t = time.perf_counter()
                logger.log(env_steps, record)
                timers["log_s"] += time.perf_counter() - t
                if ckpt_every and (done // ckpt_every > (done - n) // ckpt_every) and done < total:
                    t = time.perf_counter()
                    self._save(state, done)
                    timers["checkpoint_s"] += time.perf_counter() - t
        except KeyboardInterrupt:
            path = self._save(state, done)
            # Always shown, also with the console logger off.
            print(f"interrupted: saved {path}; continue with --resume {self.run_dir}", file=sys.stderr)
            logger.close()
            raise
        t = time.perf_counter()
        final_eval = self._evaluate(eval_fns, state, done * spts, logger)
        timers["eval_s"] += time.perf_counter() - t
        t = time.perf_counter()
        path = self._save(state, done)
        timers["checkpoint_s"] += time.perf_counter() - t
        trained = (done - start_done) * spts * cfg.num_seeds
        summary = {
            **final_eval,
            "env_steps": done * spts,
            "num_seeds": cfg.num_seeds,
            "wall_s": time.perf_counter() - start,
            "compile_s": compile_s,
            "eval_compile_wait_s": eval_compile_wait_s,
            "train_sps": trained / timers["train_s"] if timers["train_s"] > 0 else float("nan"),
            **timers,
            "checkpoint": str(path),
        }
        if not agent.loop.jittable:  # where host-loop time goes: simulator vs policy calls
            summary.update({f"host_{k}": v for k, v in agent.loop.timers.items()})
        (self.run_dir / "summary.json").write_text(json.dumps(summary, indent=2))
        msg = f"final eval return {summary.get('eval_return_mean', summary.get('eval_stochastic_return_mean')):.2f}"
        logger.close(f"{msg} | {summary['train_sps']:,.0f} sps | wall {summary['wall_s']:.1f} s | {path}")
        return TrainResult(state=state, summary=summary, run_dir=self.run_dir)

