"""Training and evaluation driver of the Transporter agent.

It reuses the shared run directory layout, ``RunLogger``, checkpoint files and resume checks of
``robojax.trainer``, but not its RL chunk: there is no env loop to fuse, only jitted gradient
steps on a fixed set of demonstrations, and evaluation runs the MuJoCo tabletop in Python.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jax
import numpy as np
import yaml

from robojax import __version__
from robojax.agents.transporter.config import TEST_SEED_START
from robojax.checkpoint import latest_checkpoint, read_checkpoint, remove_stale_temp_files, restore_state, save_checkpoint
from robojax.config import experiment_dict
from robojax.interrupts import DeferredInterrupts
from robojax.loggers import RunLogger
from robojax.rundir import check_resumable, checked_run_dir, claimed_run_dir
from robojax.trainer import default_run_dir, nan_mean

if TYPE_CHECKING:  # agent.py imports this module when training starts
    from robojax.agents.transporter.agent import Transporter, TransporterState


@dataclasses.dataclass
class TransporterResult:
    state: TransporterState
    summary: dict[str, Any]
    run_dir: Path


def evaluate(agent: Transporter, params: Any, episodes: int, seed: int = 0, video: Path | None = None) -> dict[str, Any]:
    """Greedy test episodes on seeds ``TEST_SEED_START + seed + i``: per-episode final scores,
    mean score and success rate (score 1.0); ``video``: MP4 of the first episode's frames."""
    from robojax.video import write_mp4

    predict = jax.jit(agent.predict)
    scores, frames = [], []
    for i in range(episodes):
        obs, done, score = agent.env.reset(TEST_SEED_START + seed + i), False, agent.env.last_score
        while not done:
            if video is not None and i == 0:
                frames.append(np.kron(obs["color"], np.ones((4, 4, 1), np.uint8)))
            obs, _, done, info = agent.env.step(*agent.act(params, obs, predict))
            score = info["score"]
        scores.append(score)
    out = {"eval_score_mean": float(np.mean(scores)), "eval_success_rate": float(np.mean(np.array(scores) >= 1.0)),
           "eval_episodes": episodes, "eval_scores": [float(s) for s in scores]}
    if video is not None:
        frames.append(np.kron(obs["color"], np.ones((4, 4, 1), np.uint8)))
        write_mp4(video, np.stack(frames), fps=1)
        out["video"] = str(video)
    return out


class TransporterTrainer:
    """``train_steps`` jitted Adam steps with logs, test evaluations and checkpoints."""

    def __init__(self, agent: Transporter, run_dir: str | Path | None = None, resume: bool = False):
        self.agent, self.config, self.resume = agent, agent.config, resume
        self.run_dir = checked_run_dir(run_dir, resume) or default_run_dir(agent)
        self.experiment = experiment_dict(agent.name, agent.env_config, agent.config)

    def initial_state(self) -> tuple[TransporterState, int]:
        state = self.agent.init(jax.random.PRNGKey(self.config.seed))
        if not self.resume:
            return state, 0
        path = latest_checkpoint(self.run_dir / "checkpoints")
        meta, raw = read_checkpoint(path)
        check_resumable(path, meta, self.agent.name, self.experiment)
        return restore_state(raw, state, path), int(meta["train_steps"])

    def _save(self, state: TransporterState, steps: int) -> Path:
        meta = {"algo": self.agent.name, "robojax_version": __version__, "train_steps": steps,
                "env_steps": steps, "config": self.experiment}
        return save_checkpoint(self.run_dir / "checkpoints", steps, state, meta, keep=self.config.checkpoint.keep)

    def _evaluate(self, state: TransporterState, steps: int) -> dict[str, Any]:
        cfg = self.config.eval
        video = self.run_dir / "videos" / f"step_{steps:012d}.mp4" if cfg.video else None
        return evaluate(self.agent, state.params, cfg.episodes, cfg.seed, video)

    def run(self) -> TransporterResult:
        """Train to ``train_steps``; holds the run directory's lock, defers Ctrl-C/SIGTERM to whole steps."""
        start = time.perf_counter()
        _, data = self.agent.load_demos()  # bad demos fail before the run directory is made
        with claimed_run_dir(self.run_dir, self.resume) as stop:
            return self._run(stop, data, start)

    def _run(self, stop: DeferredInterrupts, data: Any, start: float) -> TransporterResult:
        cfg = self.config
        remove_stale_temp_files(self.run_dir / "checkpoints")
        state, done = self.initial_state()
        (self.run_dir / "config.yaml").write_text(yaml.safe_dump(self.experiment, sort_keys=False))
        t = time.perf_counter()
        step = jax.jit(self.agent.train_step).lower(state, data).compile()
        compile_s = time.perf_counter() - t
        total = cfg.train_steps
        logger = RunLogger(self.run_dir, self.experiment, cfg.logging, total, done, self.run_dir.name)
        logger.print(f"[bold]robojax[/] transporter on {self.experiment['env']['id']}: {data.image.shape[0]} demo "
                     f"steps, run dir {self.run_dir}; compiled train step in {compile_s:.2f} s")
        timers = {"train_s": 0.0, "eval_s": 0.0, "checkpoint_s": 0.0}
        try:
            while done < total:
                if stop.requested:  # here ``state`` and ``done`` belong together
                    raise stop.exception()
                t = time.perf_counter()
                history = []
                for _ in range(min(cfg.logging.interval, total - done)):
                    state, metrics = step(state, data)
                    history.append(metrics)
                    if stop.requested:  # log and save what is done
                        break
                n = len(history)
                means = nan_mean(jax.tree.map(lambda *xs: np.stack(xs), *history))  # blocks
                elapsed = time.perf_counter() - t
                timers["train_s"] += elapsed
                done += n
                record = {"wall_s": time.perf_counter() - start, "sps": n / elapsed,
                          **{f"train/{k}": v for k, v in means.items()}}
                if cfg.eval.interval and done // cfg.eval.interval > (done - n) // cfg.eval.interval and done < total:
                    t = time.perf_counter()
                    ev = self._evaluate(state, done)
                    timers["eval_s"] += time.perf_counter() - t
                    record.update({f"eval/{k[5:]}": v for k, v in ev.items() if not isinstance(v, (list, str))})
                    logger.print(f"step {done:,}: test score {ev['eval_score_mean']:.3f}")
                logger.log(done, record)
                every = cfg.checkpoint.interval
                if every and done // every > (done - n) // every and done < total:
                    t = time.perf_counter()
                    self._save(state, done)
                    timers["checkpoint_s"] += time.perf_counter() - t
        except KeyboardInterrupt:
            path = self._save(state, done)
            print(f"interrupted: saved {path}; continue with --resume {self.run_dir}", file=sys.stderr)
            logger.close()
            raise
        t = time.perf_counter()
        final = self._evaluate(state, done)
        timers["eval_s"] += time.perf_counter() - t
        t = time.perf_counter()
        path = self._save(state, done)
        timers["checkpoint_s"] += time.perf_counter() - t
        summary = {**final, "train_steps": done, "demo_episodes": cfg.demos.count, "demo_steps": int(data.image.shape[0]),
                   "wall_s": time.perf_counter() - start, "compile_s": compile_s, **timers, "checkpoint": str(path)}
        (self.run_dir / "summary.json").write_text(json.dumps(summary, indent=2))
        logger.print(f"test score {final['eval_score_mean']:.3f} (success {final['eval_success_rate']:.2f}) | "
                     f"train {timers['train_s']:.1f} s | {path}")
        logger.close()
        return TransporterResult(state=state, summary=summary, run_dir=self.run_dir)


def evaluate_run(agent_cls: type[Transporter], run_dir: str | Path, episodes: int | None, seed: int,
                 video: bool) -> dict[str, Any]:
    """``robojax eval`` for a run of ``agent_cls``: the latest checkpoint on ``episodes`` test episodes."""
    from robojax.config import load_yaml, split_experiment

    experiment = load_yaml(Path(run_dir) / "config.yaml")
    env_config, config = split_experiment(agent_cls.config_cls, experiment)
    agent = agent_cls(config, env_config)
    state, steps = TransporterTrainer(agent, run_dir=run_dir, resume=True).initial_state()
    episodes = episodes or config.eval.episodes
    path = Path(run_dir) / "videos" / f"eval_step_{steps:012d}.mp4" if video else None
    return {"run_dir": str(run_dir), "train_steps": steps, "episodes": episodes, "seed": seed,
            **evaluate(agent, state.params, episodes, seed, path)}
