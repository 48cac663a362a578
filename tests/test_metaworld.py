"""MetaWorld MT1 suite: spaces, per-env seeding, truncation with final observations, success.

Needs MetaWorld, which pins its own MuJoCo: run in ``.venv-metaworld`` (``make test-metaworld``).
"""

import numpy as np
import pytest

metaworld = pytest.importorskip("metaworld")

from metaworld.policies import ENV_POLICY_MAP  # noqa: E402

from robojax.envs import Box, HostEnv, list_envs, make_env  # noqa: E402

TASK = "reach-v3"


@pytest.fixture(scope="module")
def reach():
    return make_env(f"metaworld/{TASK}")


def scripted(obs: np.ndarray) -> np.ndarray:
    """MetaWorld's scripted expert for reach, one action per env."""
    policy = ENV_POLICY_MAP[TASK]()
    return np.stack([policy.get_action(o) for o in obs]).astype(np.float32)


def test_lists_the_mt1_tasks():
    ids = list_envs("metaworld")
    assert len(ids) == 50 and "metaworld/reach-v3" in ids and "metaworld/pick-place-v3" in ids
    assert "metaworld/reach-v3" in list_envs()


def test_spaces_and_time_limit(reach):
    assert isinstance(reach, HostEnv) and not reach.discrete_actions
    assert isinstance(reach.observation_space, Box) and reach.observation_space.shape == (39,)
    assert reach.action_space.shape == (4,)
    np.testing.assert_array_equal(reach.action_space.low, -1.0)
    np.testing.assert_array_equal(reach.action_space.high, 1.0)
    # the goal (last 3 entries) is observed in MT1: its bounds are real, not MetaWorld's zeros
    assert np.all(reach.observation_space.high[-3:] > reach.observation_space.low[-3:])
    assert reach.max_episode_steps == 500


def test_reset_and_step_shapes(reach):
    env = reach.create(3)
    try:
        obs = env.reset(0)
        assert obs.shape == (3, 39) and obs.dtype == np.float32
        step = env.step(np.zeros((3, 4), np.float32))
        assert step.obs.shape == step.final_obs.shape == (3, 39)
        for field in (step.reward, step.terminated, step.truncated):
            assert field.shape == (3,)
        assert step.reward.dtype == np.float32 and step.terminated.dtype == bool
        assert set(step.info) == {"episode_return", "episode_length", "success"}
        np.testing.assert_array_equal(step.info["episode_length"], 1)
        np.testing.assert_allclose(step.info["episode_return"], step.reward)
    finally:
        env.close()


def test_each_env_gets_its_own_seed_and_goal(reach):
    env = reach.create(4)
    try:
        goals = env.reset(0)[:, -3:]
        assert len({tuple(g) for g in goals.round(6)}) == 4, "envs share a goal"
        np.testing.assert_array_equal(env.reset(0)[:, -3:], goals)  # reproducible
        assert not np.array_equal(env.reset(1)[:, -3:], goals)
        # env i is seeded seed + i: env 0 of a reset with seed 1 is env 1 of a reset with seed 0
        np.testing.assert_array_equal(env.reset(1)[0, -3:], goals[1])
    finally:
        env.close()


def test_truncation_at_the_time_limit_keeps_the_final_obs():
    env = make_env(f"metaworld/{TASK}", max_episode_steps=20).create(2)
    try:
        first = env.reset(3)
        rng = np.random.default_rng(0)
        for _ in range(19):
            step = env.step(rng.uniform(-1, 1, (2, 4)).astype(np.float32))
            assert not step.truncated.any() and not step.terminated.any()
        last = env.step(np.ones((2, 4), np.float32))
        assert last.truncated.all() and not last.terminated.any()
        np.testing.assert_array_equal(last.info["episode_length"], 20)
        # final_obs is where the episode ended (the hand moved); obs is the next episode's start
        np.testing.assert_allclose(last.obs[:, :3], first[:, :3], atol=1e-5)
        assert np.all(np.abs(last.final_obs[:, :3] - first[:, :3]).max(axis=1) > 1e-3)
        assert not np.array_equal(last.final_obs, last.obs)
        after = env.step(np.zeros((2, 4), np.float32))
        np.testing.assert_array_equal(after.info["episode_length"], 1)
    finally:
        env.close()


def test_max_episode_steps_above_metaworlds_limit_is_refused():
    from robojax.errors import EnvError

    with pytest.raises(EnvError, match="1..500"):
        make_env(f"metaworld/{TASK}", max_episode_steps=501)


def test_success_is_reported_and_held_until_the_episode_ends(reach):
    env = reach.create(2)
    try:
        obs = env.reset(0)
        successes = []
        for _ in range(500):
            step = env.step(scripted(obs))
            obs = step.obs
            successes.append(step.info["success"])
        successes = np.array(successes)  # (T, N)
        assert step.truncated.all()
        first = successes.argmax(axis=0)
        assert np.all(successes[-1] == 1.0) and np.all(first > 0), "the expert should solve reach"
        for i, k in enumerate(first):  # once succeeded, the episode counts as a success
            assert np.all(successes[k:, i] == 1.0) and np.all(successes[:k, i] == 0.0)
        assert env.step(np.zeros((2, 4), np.float32)).info["success"].max() == 0.0  # new episode
    finally:
        env.close()


def test_success_on_the_last_step_comes_from_final_info():
    """With same-step auto-reset the last step's info is in ``final_info``; it must still count."""
    def first_success(env):
        obs = env.reset(0)
        for t in range(1, 501):
            step = env.step(scripted(obs))
            obs = step.obs
            if step.info["success"][0]:
                return t, step
        raise AssertionError("the expert did not solve reach")

    probe = make_env(f"metaworld/{TASK}").create(1)
    try:
        k, _ = first_success(probe)
    finally:
        probe.close()
    env = make_env(f"metaworld/{TASK}", max_episode_steps=k).create(1)
    try:
        t, step = first_success(env)
        assert t == k and step.truncated[0]
    finally:
        env.close()


def test_renders_offscreen():
    env = make_env(f"metaworld/{TASK}", width=64, height=48).create(2, render=True)
    try:
        env.reset(0)
        frame = env.render()
        assert frame.shape == (48, 64, 3) and frame.dtype == np.uint8 and frame.std() > 0
    finally:
        env.close()


def test_async_vectorization_matches_sync():
    sync_env = make_env(f"metaworld/{TASK}").create(2)
    async_env = make_env(f"metaworld/{TASK}", vectorization="async").create(2)
    try:
        np.testing.assert_array_equal(sync_env.reset(4), async_env.reset(4))
        action = np.full((2, 4), 0.5, np.float32)
        a, b = sync_env.step(action), async_env.step(action)
        np.testing.assert_allclose(a.obs, b.obs, rtol=1e-6)
        np.testing.assert_allclose(a.reward, b.reward, rtol=1e-6)
    finally:
        sync_env.close()
        async_env.close()


@pytest.mark.parametrize("task", ["pick-place-v3", "drawer-open-v3"])  # drawer-open moves a body of the model
def test_checkpointed_simulators_continue_exactly(task):
    """Goals, object positions, the task drawn at each reset and the MuJoCo state come back exactly."""
    from test_host_state import assert_simulators_continue_exactly

    assert_simulators_continue_exactly(make_env(f"metaworld/{task}", max_episode_steps=40), num_envs=2,
                                       before=50, after=60)
