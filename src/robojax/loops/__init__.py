"""Env loops: they turn an env plus a policy into ``(T, N, ...)`` rollout data."""

from robojax.loops.jax_loop import JaxLoop, LoopState, Transition, episode_metrics

__all__ = ["JaxLoop", "LoopState", "Transition", "episode_metrics"]
