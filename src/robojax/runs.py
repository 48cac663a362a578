"""Run directories: rebuild the agent of a run and restore its latest checkpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from robojax.agents import AGENTS, Agent
from robojax.config import load_yaml, split_experiment
from robojax.errors import CheckpointError
from robojax.trainer import Trainer


def load_run(run_dir: str | Path) -> tuple[Agent, Any, dict[str, Any]]:
    """Rebuild the agent of a run directory and restore its latest checkpoint: ``(agent, state, meta)``."""
    run_dir = Path(run_dir)
    if not (run_dir / "config.yaml").is_file():
        raise CheckpointError(f"{str(run_dir)!r} is not a run directory (no config.yaml)")
    experiment = load_yaml(run_dir / "config.yaml")
    algo = experiment.get("algo")
    if algo not in AGENTS:
        raise CheckpointError(f"{str(run_dir / 'config.yaml')!r}: unknown algo {algo!r}; known: {', '.join(AGENTS)}")
    env_config, config = split_experiment(AGENTS[algo].config_cls, experiment)
    agent = AGENTS[algo](config, env_config)
    state, train_steps = Trainer(agent, run_dir=run_dir, resume=True)._initial_state(simulators=False)
    return agent, state, {"train_steps": train_steps, "env_steps": train_steps * agent.steps_per_train_step}
