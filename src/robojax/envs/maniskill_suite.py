"""Adapter for ManiSkill 3 tasks (``maniskill/PickCube-v1``, ``maniskill/PushCube-v1``, ...).

ManiSkill simulates a whole batch of envs on the GPU (SAPIEN/PhysX) and returns torch tensors;
its ``ManiSkillVectorEnv`` resets ended episodes in the same step. The adapter turns that into
NumPy ``HostStep``s. SAPIEN needs a GPU with a Vulkan driver even for state observations.
Install: ``pip install 'robojax[maniskill]'`` (install a torch build for your CUDA first).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from robojax.envs.host import HostEnv, HostStep, HostVectorEnv, convert_gymnasium_space
from robojax.envs.spaces import Box
from robojax.errors import EnvError, SimulatorStateError

INSTALL_HINT = "pip install 'robojax[maniskill]'"
NO_GPU = "ManiSkill needs a GPU with a Vulkan driver; none was found on this machine"
SIM_BACKENDS = ("auto", "gpu", "cpu")
OBS_MODES = ("state", "pointcloud")
#: Channels of a point in ``obs_mode="pointcloud"``: ManiSkill's xyzw (w: 1 = valid point), rgb in [0, 1],
#: the segmentation id. ``network.pointnet.validity_channel=3`` masks the invalid points.
POINT_CHANNELS = ("x", "y", "z", "w", "r", "g", "b", "segmentation")
# Fragments of the RuntimeErrors SAPIEN/ManiSkill raise at creation without a usable GPU/Vulkan driver
# (no Vulkan driver, a CPU-only Vulkan such as Mesa's lavapipe, no CUDA device)
_DEVICE_ERRORS = (
    "vulkan", "vk::", "incompatibledriver", "rendering device", "physical device", "failed to find device", "cuda",
)


def _import_maniskill():
    # Tasks with external assets ask on stdin before downloading them, which would hang a
    # training run (or die on EOF in a batch job): download without asking unless the user
    # set the variable. Without network the download then fails with ManiSkill's own error.
    os.environ.setdefault("MS_SKIP_ASSET_DOWNLOAD_PROMPT", "1")
    try:
        import gymnasium
        import mani_skill.envs  # noqa: F401  (registers the tasks with Gymnasium)
        import torch
        from mani_skill.utils import registration
        from mani_skill.vector.wrappers.gymnasium import ManiSkillVectorEnv
    except ImportError as e:
        raise EnvError(f"ManiSkill is not installed: {INSTALL_HINT}") from e
    return gymnasium, torch, registration, ManiSkillVectorEnv


def available() -> list[str]:
    _, _, registration, _ = _import_maniskill()
    return sorted(registration.REGISTERED_ENVS)


def to_numpy(x: Any) -> np.ndarray:
    """A torch tensor (any device) or array-like as a NumPy array."""
    if hasattr(x, "detach"):
        x = x.detach()
    if hasattr(x, "cpu"):
        x = x.cpu()
    if hasattr(x, "numpy"):
        return np.asarray(x.numpy())
    return np.asarray(x)


def pointcloud_array(obs: dict[str, Any]) -> np.ndarray:
    """ManiSkill's ``obs["pointcloud"]`` (``xyzw``, ``rgb``, ``segmentation``) as one ``(B, P, 8)`` array."""
    cloud = obs["pointcloud"]
    xyzw = to_numpy(cloud["xyzw"]).astype(np.float32)
    rgb = to_numpy(cloud["rgb"]).astype(np.float32) / 255.0 if "rgb" in cloud else np.zeros((*xyzw.shape[:-1], 3))
    seg = to_numpy(cloud["segmentation"]) if "segmentation" in cloud else np.zeros((*xyzw.shape[:-1], 1))
    return np.concatenate([xyzw, rgb, seg], -1).astype(np.float32)


def _make(gym: Any, name: str, **kwargs: Any) -> Any:
    """``gym.make`` of a ManiSkill task; a missing GPU/Vulkan driver becomes an ``EnvError``."""
    try:
        return gym.make(name, **kwargs)
    except RuntimeError as e:
        if any(fragment in str(e).lower() for fragment in _DEVICE_ERRORS):
            raise EnvError(f"{NO_GPU} ({e})") from e
        raise


class ManiSkillHostVectorEnv(HostVectorEnv):
    """A ``ManiSkillVectorEnv`` (torch, batched, same-step auto-reset) as a ``HostVectorEnv``.

    ManiSkill's conventions: on a step where some episodes end, ``info`` is the reset info of
    the whole batch, ``info["final_observation"]`` the batch of observations before the reset
    (valid where ``info["_final_observation"]``), and ``info["final_info"]`` the whole batch's
    info of the step (``success``, ``fail``, ...). In point-cloud mode, observations are dicts
    whose points become one array per env (``pointcloud_array``).
    """

    def __init__(self, vector_env: Any, reports_success: bool = False, pointcloud: bool = False):
        super().__init__(vector_env, reports_success)
        self.pointcloud = pointcloud

    def _obs(self, obs: Any) -> np.ndarray:
        return pointcloud_array(obs) if self.pointcloud else to_numpy(obs).astype(np.float32)

    def reset(self, seed: int) -> np.ndarray:
        """Reset all envs; env ``i`` is seeded with ``seed + i``."""
        obs, _ = self.env.reset(seed=[int(seed) + i for i in range(self.num_envs)])
        self._return[:] = 0.0
        self._length[:] = 0
        self._success[:] = False
        return self._obs(obs)

    def step(self, action: np.ndarray) -> HostStep:
        obs, reward, terminated, truncated, info = self.env.step(action)
        obs = self._obs(obs)
        final_obs = obs.copy()
        if "final_observation" in info:
            ended = to_numpy(info.get("_final_observation", np.ones(self.num_envs, bool))).astype(bool)
            final_obs[ended] = self._obs(info["final_observation"])[ended]
        step_info = info.get("final_info", info)
        success = None
        if "success" in step_info:
            success = to_numpy(step_info["success"]).astype(bool).reshape(self.num_envs)
        return self._record(
            obs,
            to_numpy(reward).astype(np.float32).reshape(self.num_envs),
            to_numpy(terminated).astype(bool).reshape(self.num_envs),
            to_numpy(truncated).astype(bool).reshape(self.num_envs),
            final_obs,
            success,
        )

    def get_state(self) -> tuple:
        raise SimulatorStateError("ManiSkill's GPU simulation state is not saved in checkpoints")

    def render(self) -> np.ndarray:
        """RGB frame of env 0 (needs an env created with ``render=True``)."""
        frames = to_numpy(self.env.render())
        return frames[0] if frames.ndim == 4 else frames


class ManiSkillEnv(HostEnv):
    """A ManiSkill task, batched by ManiSkill's own GPU simulation.

    ``obs_mode="state"``: flat state vectors. ``obs_mode="pointcloud"``: the fused camera point
    cloud, ``(P, 8)`` per env with the channels ``POINT_CHANNELS`` (for the ``pointnet``
    encoder); the robot's proprioceptive state is not included.

    ``sim_backend="auto"`` uses the GPU when torch sees CUDA, else the CPU (one env only).
    Episodes terminate on success or failure (unless ``ignore_terminations=True``) and are
    truncated after the task's ``max_episode_steps`` (or the one given here).
    """

    def __init__(
        self,
        name: str,
        control_mode: str = "pd_joint_delta_pos",
        obs_mode: str = "state",
        sim_backend: str = "auto",
        ignore_terminations: bool = False,
        max_episode_steps: int | None = None,
        **make_kwargs: Any,
    ):
        gym, torch, registration, _ = _import_maniskill()
        if sim_backend not in SIM_BACKENDS:
            raise EnvError(f"maniskill sim_backend {sim_backend!r} is not one of {', '.join(SIM_BACKENDS)}")
        if obs_mode not in OBS_MODES:
            raise EnvError(f"maniskill obs_mode {obs_mode!r} is not one of {', '.join(OBS_MODES)}")
        if sim_backend == "auto":
            sim_backend = "gpu" if torch.cuda.is_available() else "cpu"
        if sim_backend == "gpu" and not torch.cuda.is_available():
            raise EnvError(f"{NO_GPU} (torch sees no CUDA device)")
        self.name = name
        self.sim_backend = sim_backend
        self.ignore_terminations = bool(ignore_terminations)
        self.pointcloud = obs_mode == "pointcloud"
        self.make_kwargs = {
            "obs_mode": obs_mode, "control_mode": control_mode, "sim_backend": sim_backend, **make_kwargs,
        }
        if max_episode_steps is not None:
            self.make_kwargs["max_episode_steps"] = int(max_episode_steps)
        probe = _make(gym, name, num_envs=1, **self.make_kwargs)
        try:
            base = probe.unwrapped
            obs, info = probe.reset(seed=0)
            if self.pointcloud:
                self.observation_space = Box.create(-np.inf, np.inf, pointcloud_array(obs).shape[1:])
            else:
                obs_space = convert_gymnasium_space(base.single_observation_space, f"maniskill/{name} observation")
                if not isinstance(obs_space, Box):
                    raise NotImplementedError(f"maniskill/{name}: only flat state observations are supported")
                self.observation_space = obs_space
            self.action_space = convert_gymnasium_space(base.single_action_space, f"maniskill/{name} action")
            spec_steps = probe.spec.max_episode_steps if probe.spec else None
            registered_steps = registration.REGISTERED_ENVS[name].max_episode_steps
            self.max_episode_steps = int(max_episode_steps or spec_steps or registered_steps or 0) or None
            self.reports_success = "success" in info
        finally:
            probe.close()

    def create(self, num_envs: int, render: bool = False) -> HostVectorEnv:
        gym, _, _, ManiSkillVectorEnv = _import_maniskill()
        if self.sim_backend == "cpu" and num_envs > 1:
            raise EnvError(
                f"ManiSkill's CPU simulation runs one env per process, not {num_envs}: "
                "use a machine with a CUDA GPU and a Vulkan driver (sim_backend='gpu')"
            )
        kwargs = dict(self.make_kwargs)
        if render:
            kwargs["render_mode"] = "rgb_array"
        env = _make(gym, self.name, num_envs=int(num_envs), **kwargs)
        vector_env = ManiSkillVectorEnv(
            env, auto_reset=True, ignore_terminations=self.ignore_terminations, record_metrics=False
        )
        return ManiSkillHostVectorEnv(vector_env, reports_success=self.reports_success, pointcloud=self.pointcloud)
