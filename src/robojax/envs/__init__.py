"""Environments: the functional interface, suite adapters, wrappers and the id registry."""

from robojax.envs.core import Env, TimeStep
from robojax.envs.host import HostEnv, HostVectorEnv
from robojax.envs.registry import list_envs, make_env, missing_envs, parse_env_id
from robojax.envs.spaces import Box, Dict, Discrete

__all__ = [
    "Box", "Dict", "Discrete", "Env", "HostEnv", "HostVectorEnv", "TimeStep", "list_envs", "make_env", "missing_envs",
    "parse_env_id",
]
