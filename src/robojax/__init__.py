"""robojax: fast reinforcement learning in JAX for robot learning."""

__version__ = "0.1.0"

import os as _os

# Headless machines: MuJoCo renders offscreen through EGL unless the user chose a backend.
if not _os.environ.get("DISPLAY"):
    _os.environ.setdefault("MUJOCO_GL", "egl")

from robojax import compile_cache as _compile_cache  # noqa: E402

_compile_cache.setup()  # before anything compiles: JAX decides at its first compile

from robojax.cpu_prng import use_unrolled_threefry_on_cpu as _use_unrolled_threefry_on_cpu  # noqa: E402

_use_unrolled_threefry_on_cpu()  # before anything is lowered: fewer, fused random-number kernels

import robojax.encoders  # noqa: E402,F401  (registers the encoders)
from robojax.agents import AGENTS, PPO, SAC, PPOConfig, SACConfig  # noqa: E402
from robojax.compile_cache import set_compilation_cache  # noqa: E402
from robojax.config import EnvConfig  # noqa: E402
from robojax.envs import list_envs, make_env  # noqa: E402

__all__ = ["AGENTS", "PPO", "SAC", "EnvConfig", "PPOConfig", "SACConfig", "__version__", "list_envs", "make_env", "set_compilation_cache"]
