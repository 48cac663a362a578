"""Host simulators' state in checkpoints: saved, put back, and a resumed host-loop run that is exact."""

import collections
import threading

import numpy as np
import pytest

from robojax.agents.ppo import PPO, PPOConfig
from robojax.checkpoint import list_checkpoints, read_checkpoint
from robojax.config import CheckpointConfig
from robojax.envs import HostVectorEnv, make_env
from robojax.envs.host_state import decode, encode
from robojax.errors import SimulatorStateError
from robojax.models import NetworkConfig

from conftest import assert_trees_equal, quiet

gym = pytest.importorskip("gymnasium")


def _actions(env, steps: int, num_envs: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    if env.action_space.shape == ():  # discrete
        return rng.integers(0, env.action_space.n, (steps, num_envs))
    return rng.uniform(-1, 1, (steps, num_envs, *env.action_space.shape)).astype(np.float32)


def _steps(sim, actions) -> list[tuple]:
    return [(s.obs, s.reward, s.terminated, s.truncated, s.final_obs, s.info) for s in map(sim.step, actions)]


def assert_simulators_continue_exactly(env, num_envs: int = 3, before: int = 100, after: int = 160) -> None:
    """A vector env's ``set_state(get_state())`` in a fresh vector env continues every env exactly
    (observations, rewards, ends, final observations, infos) through at least two episode ends."""
    actions = _actions(env, before + after, num_envs)
    sim = env.create(num_envs)
    sim.reset(5)
    for a in actions[:before]:
        sim.step(a)
    saved = sim.get_state()
    want = _steps(sim, actions[before:])
    assert sum(int(t.sum() + u.sum()) for _, _, t, u, _, _ in want) >= 2  # episodes end and restart on the way

    other = env.create(num_envs)
    other.reset(99)
    assert not np.array_equal(_steps(other, actions[before:before + 1])[0][0], want[0][0])  # a fresh env differs
    other.reset(99)
    other.set_state(decode(encode(saved)))  # as a checkpoint holds it
    again = env.create(num_envs)  # and a second resume, from a state saved after the first
    again.reset(7)
    again.set_state(decode(encode(other.get_state())))
    got = _steps(again, actions[before:])
    for step_want, step_got in zip(want, got, strict=True):
        for a, b in zip(step_want[:5], step_got[:5], strict=True):
            np.testing.assert_array_equal(a, b)
        assert step_want[5].keys() == step_got[5].keys()
        for key in step_want[5]:
            np.testing.assert_array_equal(step_want[5][key], step_got[5][key], err_msg=key)


@pytest.mark.parametrize("name, kwargs", [
    ("gymnasium/Hopper-v5", {}),  # MuJoCo: MjData, time limit, RNG of the resets
    ("gymnasium/CartPole-v1", {}),  # plain Python state
    ("gymnasium/Pendulum-v1", {"frame_stack": 3}),  # robojax's frame stack on the host
])
def test_simulators_continue_exactly_from_a_saved_state(name, kwargs):
    assert_simulators_continue_exactly(make_env(name, **kwargs))


class _HoldsALock(gym.Wrapper):
    def __init__(self, env):
        super().__init__(env)
        self.lock = threading.Lock()


class _CountsInADefaultdict(gym.Wrapper):
    def __init__(self, env):
        super().__init__(env)
        self.counts = collections.defaultdict(lambda: 0)  # a local lambda: pickle refuses it


def test_unsaveable_simulators_name_the_attribute():
    vector = gym.vector.SyncVectorEnv([lambda: _HoldsALock(gym.make("CartPole-v1"))],
                                      autoreset_mode=gym.vector.AutoresetMode.SAME_STEP)
    sim = HostVectorEnv(vector)
    sim.reset(0)
    with pytest.raises(SimulatorStateError, match=r"env 0 _HoldsALock: attribute 'lock' .* cannot be saved"):
        sim.get_state()
    vector = gym.vector.SyncVectorEnv([lambda: _CountsInADefaultdict(gym.make("CartPole-v1"))],
                                      autoreset_mode=gym.vector.AutoresetMode.SAME_STEP)
    with pytest.raises(SimulatorStateError, match=r"_CountsInADefaultdict: attribute 'counts' cannot be saved"):
        HostVectorEnv(vector).get_state()


def _make_agent() -> PPO:
    cfg = quiet(PPOConfig(), total_steps=4 * 32 * 24, num_envs=4, rollout_length=32, num_minibatches=2,
                log_interval=4 * 32 * 4, checkpoint=CheckpointConfig(interval=4 * 32 * 8, keep=5),
                network=NetworkConfig(hidden_sizes=(16, 16)))
    return PPO(cfg, make_env("gymnasium/CartPole-v1", max_episode_steps=60))


def _resume_from_first_checkpoint(tmp_path) -> tuple:
    """``(run in one go, the same run resumed from its first checkpoint, that checkpoint)``."""
    full = _make_agent().train(run_dir=tmp_path / "full")
    first = list_checkpoints(tmp_path / "full" / "checkpoints")[0]
    partial = tmp_path / "partial"
    (partial / "checkpoints").mkdir(parents=True)
    (partial / "config.yaml").write_text((tmp_path / "full" / "config.yaml").read_text())
    (partial / "checkpoints" / first.name).write_bytes(first.read_bytes())
    return full, _make_agent().train(run_dir=partial, resume=True), first


def test_host_loop_resume_is_exact(tmp_path):
    full, resumed, first = _resume_from_first_checkpoint(tmp_path)
    assert "simulators" in read_checkpoint(first)[0]
    assert_trees_equal(full.state, resumed.state)  # parameters, optimiser, RNG, the envs' observations
    assert resumed.summary["eval_return_mean"] == full.summary["eval_return_mean"]


def test_unsaveable_simulators_restart_their_episodes_on_resume(tmp_path, monkeypatch, capsys):
    def refuse(self):
        raise SimulatorStateError("CartPole-v1 env 0 Stand-in: attribute 'world' (Box2D.b2World) cannot be saved")

    monkeypatch.setattr(HostVectorEnv, "get_state", refuse)
    full, resumed, first = _resume_from_first_checkpoint(tmp_path)
    err = capsys.readouterr().err
    assert err.count("attribute 'world' (Box2D.b2World) cannot be saved: a resume will restart the episodes") == 2
    assert "the checkpoint holds no simulator state: the simulators restart their episodes" in err
    assert "simulators" not in read_checkpoint(first)[0]
    assert resumed.summary["env_steps"] == full.summary["env_steps"]
    assert int(resumed.state.step[0]) == int(full.state.step[0])
