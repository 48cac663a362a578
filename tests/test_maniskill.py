"""ManiSkill suite without ManiSkill (which needs a GPU with a Vulkan driver): the conversion of
ManiSkill's batched torch outputs and auto-reset conventions to ``HostStep``, checked against a
fake ManiSkill vector env, and the errors for a missing package or GPU."""

import os
import sys
import types

import numpy as np
import pytest
from gymnasium import spaces

from robojax.envs import make_env
from robojax.envs import maniskill_suite as ms
from robojax.errors import EnvError

N, OBS_DIM, ACT_DIM = 3, 5, 2


class FakeTensor:
    """Stands in for a torch tensor (on any device): only ``.cpu().numpy()``."""

    def __init__(self, value):
        self.value = np.asarray(value)

    def cpu(self):
        return self

    def numpy(self):
        return self.value


def t(value):
    return FakeTensor(value)


class FakeManiSkillVectorEnv:
    """Replays scripted steps the way ``ManiSkillVectorEnv`` reports them (batched, same-step reset)."""

    def __init__(self, steps, num_envs=N):
        self.num_envs = num_envs
        self.steps = list(steps)
        self.seeds = None
        self.actions = []

    def reset(self, seed=None, options=None):
        self.seeds = seed
        return t(np.zeros((self.num_envs, OBS_DIM), np.float32)), {"success": t(np.zeros(self.num_envs, bool))}

    def step(self, action):
        self.actions.append(action)
        return self.steps.pop(0)

    def render(self):
        return t(np.full((self.num_envs, 4, 6, 3), 7, np.uint8))

    def close(self):
        pass


def obs_batch(value):
    return np.full((N, OBS_DIM), value, np.float32) + np.arange(N)[:, None]


def plain_step(obs_value, reward, success):
    return t(obs_batch(obs_value)), t(np.asarray(reward, np.float32)), t(np.zeros(N, bool)), t(np.zeros(N, bool)), {
        "success": t(np.asarray(success, bool)),
        "fail": t(np.zeros(N, bool)),
    }


def ending_step(obs_value, final_value, reward, terminated, truncated, final_success):
    """Envs 0 and 2 end: ``info`` is the reset info of the batch, the step's info is ``final_info``."""
    dones = np.asarray(terminated) | np.asarray(truncated)
    info = {
        "success": t(np.zeros(N, bool)),  # evaluated after the reset
        "final_observation": t(obs_batch(final_value)),
        "_final_observation": t(dones),
        "final_info": {"success": t(np.asarray(final_success, bool)), "fail": t(np.zeros(N, bool))},
        "_final_info": t(dones),
        "_elapsed_steps": t(dones),
    }
    reward, terminated, truncated = np.asarray(reward, np.float32), np.asarray(terminated), np.asarray(truncated)
    return t(obs_batch(obs_value)), t(reward), t(terminated), t(truncated), info


def test_to_numpy_accepts_tensors_and_arrays():
    np.testing.assert_array_equal(ms.to_numpy(t([1, 2])), [1, 2])
    np.testing.assert_array_equal(ms.to_numpy([1, 2]), [1, 2])
    np.testing.assert_array_equal(ms.to_numpy(np.ones(2)), [1, 1])


def test_conversion_of_final_obs_success_and_done_flags():
    fake = FakeManiSkillVectorEnv([
        plain_step(1.0, [1.0, 1.0, 1.0], [False, True, False]),
        ending_step(100.0, 2.0, [2.0, 2.0, 2.0], terminated=[True, False, False], truncated=[False, False, True],
                    final_success=[True, False, False]),
        plain_step(3.0, [4.0, 4.0, 4.0], [False, False, False]),
    ])
    env = ms.ManiSkillHostVectorEnv(fake, reports_success=True)
    obs = env.reset(7)
    assert fake.seeds == [7, 8, 9]  # env i is seeded seed + i
    assert obs.shape == (N, OBS_DIM) and obs.dtype == np.float32

    s1 = env.step(np.zeros((N, ACT_DIM), np.float32))
    assert isinstance(s1.obs, np.ndarray) and s1.obs.dtype == np.float32
    np.testing.assert_array_equal(s1.final_obs, s1.obs)  # nothing ended
    np.testing.assert_array_equal(s1.info["success"], [0.0, 1.0, 0.0])
    assert s1.reward.dtype == np.float32 and s1.terminated.dtype == bool and s1.truncated.dtype == bool

    s2 = env.step(np.zeros((N, ACT_DIM), np.float32))
    np.testing.assert_array_equal(s2.terminated, [True, False, False])
    np.testing.assert_array_equal(s2.truncated, [False, False, True])
    np.testing.assert_array_equal(s2.obs, obs_batch(100.0))  # the next episodes' first observations
    np.testing.assert_array_equal(s2.final_obs[0], obs_batch(2.0)[0])  # true last observation of env 0
    np.testing.assert_array_equal(s2.final_obs[2], obs_batch(2.0)[2])
    np.testing.assert_array_equal(s2.final_obs[1], s2.obs[1])  # env 1 did not end
    # success of the step comes from final_info (info is the reset info); env 1 keeps its earlier success
    np.testing.assert_array_equal(s2.info["success"], [1.0, 1.0, 0.0])
    np.testing.assert_array_equal(s2.info["episode_length"], [2, 2, 2])
    np.testing.assert_allclose(s2.info["episode_return"], [3.0, 3.0, 3.0])

    s3 = env.step(np.zeros((N, ACT_DIM), np.float32))
    np.testing.assert_array_equal(s3.info["episode_length"], [1, 3, 1])
    np.testing.assert_allclose(s3.info["episode_return"], [4.0, 7.0, 4.0])
    np.testing.assert_array_equal(s3.info["success"], [0.0, 1.0, 0.0])  # envs 0/2 started afresh

    assert env.render().shape == (4, 6, 3)  # env 0's frame


def test_no_success_key_means_no_success():
    step = plain_step(1.0, [0.0] * N, [False] * N)
    del step[4]["success"]
    env = ms.ManiSkillHostVectorEnv(FakeManiSkillVectorEnv([step]), reports_success=False)
    env.reset(0)
    assert "success" not in env.step(np.zeros((N, ACT_DIM), np.float32)).info


# A fake ManiSkill package, to run ManiSkillEnv and make_env end to end without torch or a GPU.

class FakeBaseEnv:
    single_observation_space = spaces.Box(-np.inf, np.inf, (OBS_DIM,), np.float32)
    single_action_space = spaces.Box(-1.0, 1.0, (ACT_DIM,), np.float32)

    def __init__(self, num_envs, **kwargs):
        self.num_envs, self.kwargs = num_envs, kwargs
        self.spec = types.SimpleNamespace(max_episode_steps=kwargs.get("max_episode_steps", 50))

    @property
    def unwrapped(self):
        return self

    def reset(self, seed=None, options=None):
        return t(np.zeros((self.num_envs, OBS_DIM), np.float32)), {"success": t(np.zeros(self.num_envs, bool))}

    def step(self, action):
        n = self.num_envs
        return (t(np.ones((n, OBS_DIM), np.float32)), t(np.ones(n, np.float32)), t(np.zeros(n, bool)),
                t(np.zeros(n, bool)), {"success": t(np.ones(n, bool))})

    def close(self):
        pass


def fake_maniskill(cuda: bool, make_error: Exception | None = None, env_cls=None):
    made = []

    def make(name, num_envs=1, **kwargs):
        if make_error is not None:
            raise make_error
        made.append((name, num_envs, kwargs))
        return (env_cls or FakeBaseEnv)(num_envs, **kwargs)

    def vector_env(env, auto_reset, ignore_terminations, record_metrics):
        assert auto_reset and not record_metrics
        return env

    gym = types.SimpleNamespace(make=make)
    torch = types.SimpleNamespace(cuda=types.SimpleNamespace(is_available=lambda: cuda))
    registration = types.SimpleNamespace(REGISTERED_ENVS={"PickCube-v1": types.SimpleNamespace(max_episode_steps=50)})
    return (lambda: (gym, torch, registration, vector_env)), made


def test_maniskill_env_on_a_gpu_machine(monkeypatch):
    importer, made = fake_maniskill(cuda=True)
    monkeypatch.setattr(ms, "_import_maniskill", importer)
    env = make_env("maniskill/PickCube-v1", control_mode="pd_ee_delta_pose")
    assert isinstance(env, ms.ManiSkillEnv)
    assert env.observation_space.shape == (OBS_DIM,) and env.action_space.shape == (ACT_DIM,)
    assert env.max_episode_steps == 50 and env.reports_success
    venv = env.create(8)
    assert venv.num_envs == 8 and venv.reset(0).shape == (8, OBS_DIM)
    step = venv.step(np.zeros((8, ACT_DIM), np.float32))
    np.testing.assert_array_equal(step.info["success"], 1.0)
    name, num_envs, kwargs = made[-1]
    assert (name, num_envs) == ("PickCube-v1", 8)
    assert kwargs == {"obs_mode": "state", "control_mode": "pd_ee_delta_pose", "sim_backend": "gpu"}


def test_cpu_simulation_runs_one_env(monkeypatch):
    importer, _ = fake_maniskill(cuda=False)
    monkeypatch.setattr(ms, "_import_maniskill", importer)
    env = make_env("maniskill/PickCube-v1", max_episode_steps=20)
    assert env.sim_backend == "cpu" and env.max_episode_steps == 20
    assert env.create(1).num_envs == 1
    with pytest.raises(EnvError, match="one env per process"):
        env.create(4)
    with pytest.raises(EnvError, match="Vulkan driver; none was found"):
        make_env("maniskill/PickCube-v1", sim_backend="gpu")


@pytest.mark.parametrize("message", ["vk::createInstanceUnique: ErrorIncompatibleDriver",
                                     "failed to find a rendering device", 'failed to find device "cuda"',
                                     'Failed to find a supported physical device "cpu"'])
def test_no_vulkan_driver_is_a_clear_error(monkeypatch, message):
    importer, _ = fake_maniskill(cuda=False, make_error=RuntimeError(message))
    monkeypatch.setattr(ms, "_import_maniskill", importer)
    with pytest.raises(EnvError, match="ManiSkill needs a GPU with a Vulkan driver; none was found on this machine"):
        make_env("maniskill/PickCube-v1")


def test_other_creation_errors_pass_through(monkeypatch):
    importer, _ = fake_maniskill(cuda=False, make_error=RuntimeError("bad control mode"))
    monkeypatch.setattr(ms, "_import_maniskill", importer)
    with pytest.raises(RuntimeError, match="bad control mode"):
        make_env("maniskill/PickCube-v1")


def test_missing_maniskill_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "mani_skill", None)
    with pytest.raises(EnvError, match=r"pip install 'robojax\[maniskill\]'"):
        make_env("maniskill/PickCube-v1")


def test_asset_downloads_do_not_prompt_on_stdin(monkeypatch):
    """ManiSkill's download prompt would hang a training run: the adapter turns it off, unless the user set it."""
    monkeypatch.delenv("MS_SKIP_ASSET_DOWNLOAD_PROMPT", raising=False)
    monkeypatch.setitem(sys.modules, "mani_skill", None)  # the import fails after the variable is set
    with pytest.raises(EnvError):
        ms._import_maniskill()
    assert os.environ["MS_SKIP_ASSET_DOWNLOAD_PROMPT"] == "1"
    monkeypatch.setenv("MS_SKIP_ASSET_DOWNLOAD_PROMPT", "0")
    with pytest.raises(EnvError):
        ms._import_maniskill()
    assert os.environ["MS_SKIP_ASSET_DOWNLOAD_PROMPT"] == "0"


P = 6  # points per cloud


def cloud(num_envs, value):
    """ManiSkill's point-cloud observation dict: the last two points of each cloud are invalid (w = 0)."""
    xyzw = np.full((num_envs, P, 4), value, np.float32)
    xyzw[..., 3] = 1.0
    xyzw[:, -2:, 3] = 0.0
    rgb = np.full((num_envs, P, 3), 255, np.uint8)
    seg = np.arange(P, dtype=np.int16)[None, :, None].repeat(num_envs, 0)
    return {"agent": {"qpos": t(np.zeros((num_envs, 9)))},
            "pointcloud": {"xyzw": t(xyzw), "rgb": t(rgb), "segmentation": t(seg)}}


class FakePointCloudEnv(FakeBaseEnv):
    """Point-cloud observations; env 0 ends on the second step with a final observation of value 5."""

    def __init__(self, num_envs, **kwargs):
        super().__init__(num_envs, **kwargs)
        self.steps = 0

    def reset(self, seed=None, options=None):
        return cloud(self.num_envs, 0.0), {"success": t(np.zeros(self.num_envs, bool))}

    def step(self, action):
        n, self.steps = self.num_envs, self.steps + 1
        ended = np.arange(n) == 0 if self.steps == 2 else np.zeros(n, bool)
        info = {"success": t(np.zeros(n, bool))}
        if ended.any():
            info.update(final_observation=cloud(n, 5.0), _final_observation=t(ended))
        return cloud(n, float(self.steps)), t(np.ones(n, np.float32)), t(ended), t(np.zeros(n, bool)), info


def test_pointcloud_observations_reach_the_pointnet_encoder(monkeypatch):
    import jax

    from robojax.encoders.pointnet import PointNetConfig
    from robojax.models import NetworkConfig, make_encoder

    importer, made = fake_maniskill(cuda=True, env_cls=FakePointCloudEnv)
    monkeypatch.setattr(ms, "_import_maniskill", importer)
    env = make_env("maniskill/PickCube-v1", obs_mode="pointcloud")
    assert made[-1][2]["obs_mode"] == "pointcloud"
    assert env.observation_space.shape == (P, len(ms.POINT_CHANNELS))
    venv = env.create(2)
    obs = venv.reset(0)
    assert obs.shape == (2, P, 8) and obs.dtype == np.float32
    np.testing.assert_array_equal(obs[0, :, 3], [1, 1, 1, 1, 0, 0])  # w
    np.testing.assert_array_equal(obs[..., 4:7], 1.0)  # rgb scaled to [0, 1]
    np.testing.assert_array_equal(obs[0, :, 7], np.arange(P))  # segmentation
    venv.step(np.zeros((2, ACT_DIM), np.float32))
    step = venv.step(np.zeros((2, ACT_DIM), np.float32))
    np.testing.assert_array_equal(step.obs[..., 0], 2.0)
    np.testing.assert_array_equal(step.final_obs[0, :, 0], 5.0)  # env 0's true last cloud
    np.testing.assert_array_equal(step.final_obs[1], step.obs[1])
    # The invalid points never change the features of pointnet (validity channel 3).
    net = make_encoder(NetworkConfig(encoder="pointnet", hidden_sizes=(8,), pointnet=PointNetConfig((8,), 3)), env.observation_space)
    params = net.init(jax.random.PRNGKey(0), step.obs[0])
    junk = step.obs.copy()
    junk[:, -2:, :3] = 1e3
    np.testing.assert_allclose(net.apply(params, junk), net.apply(params, step.obs), atol=1e-5)
    with pytest.raises(EnvError, match="obs_mode 'rgbd' is not one of state, pointcloud"):
        make_env("maniskill/PickCube-v1", obs_mode="rgbd")
