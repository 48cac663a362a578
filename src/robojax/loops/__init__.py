"""Env loops: they turn an env plus a policy into ``(T, N, ...)`` rollout data.

``JaxLoop`` runs JAX envs on device (jittable); ``HostLoop`` steps Python simulators on the
host with a jitted policy. Both produce the same ``Transition`` fields and layout.
"""

from robojax.loops.core import EPISODE_METRICS, LoopState, PolicyFn, PolicyOutputs, Transition, episode_metrics, policy_step
from robojax.loops.host_loop import HostLoop
from robojax.loops.jax_loop import JaxLoop

__all__ = [
    "EPISODE_METRICS",
    "HostLoop",
    "JaxLoop",
    "LoopState",
    "PolicyFn",
    "PolicyOutputs",
    "Transition",
    "episode_metrics",
    "policy_step",
]
