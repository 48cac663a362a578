"""The tabletop suite: oracle, score, yaw convention, demo files."""

import math

import numpy as np
import pytest

from robojax.agents.transporter import labels
from robojax.agents.transporter.networks import rotated_crops
from robojax.envs.tabletop import TASKS, TabletopEnv, Workspace
from robojax.envs.tabletop.demos import generate, load
from robojax.envs.tabletop.sim import Body, Scene
from robojax.envs.tabletop.tasks import ANY_YAW, Goal, score
from robojax.errors import ConfigError, EnvError


@pytest.mark.parametrize("task", sorted(TASKS))
def test_oracle_solves_every_task(task):
    env = TabletopEnv(task)
    for seed in range(3):
        env.reset(seed)
        done, info = False, {}
        while not done:
            obs, _, done, info = env.step(*env.oracle())
        assert info["score"] == 1.0, (task, seed)
        assert obs["color"].shape == (160, 80, 3) and obs["height"].shape == (160, 80)


def test_score_partial_credit_and_symmetry():
    two = Goal(("a", "b"), ((0.5, 0.0, 0.0), (0.5, 0.2, 0.0)), ANY_YAW)
    at = {"a": np.array([0.5, 0.2, 1.0]), "b": np.array([0.3, 0.0, 0.0])}
    assert score(two, at) == 0.5  # a in the second bowl, b nowhere; yaw ignored
    at["b"] = np.array([0.5, 0.2, 0.0])
    assert score(two, at) == 0.5  # each target counts once
    at["b"] = np.array([0.5, 0.009, 2.0])
    assert score(two, at) == 1.0
    at["b"] = np.array([0.5, 0.011, 2.0])  # 1.1 cm off
    assert score(two, at) == 0.5
    half_turn = Goal(("box",), ((0.5, 0.0, 0.3),), np.pi)  # a box: 180 degree symmetry
    assert score(half_turn, {"box": np.array([0.5, 0.0, 0.3 + np.pi - math.radians(14)])}) == 1.0
    assert score(half_turn, {"box": np.array([0.5, 0.0, 0.3 + math.radians(16)])}) == 0.0
    assert score(half_turn, {"box": np.array([0.5, 0.0, 0.3 + np.pi / 2])}) == 0.0
    none = Goal(("block",), ((0.5, 0.0, 3.1),), 2 * np.pi)  # an L block: no symmetry (and wrap-around)
    assert score(none, {"block": np.array([0.5, 0.0, -3.1])}) == 1.0
    assert score(none, {"block": np.array([0.5, 0.0, 3.1 - np.pi])}) == 0.0


def test_yaw_sign_on_an_asymmetric_object():
    """A place yaw of +theta turns the L block counter-clockwise in the world, and in the image
    the placed block looks like rotation bin theta / (2 pi / k) of the crop around the pick."""
    env = TabletopEnv("block-insertion")
    env.reset(0)
    block = env.scene.bodies["block"]
    scene = Scene((Body("block", block.parts, (0.4, -0.2, 0.0)),))
    ws, k = env.ws, 16
    before = labels.network_input(*_maps(scene, ws))
    pick = ws.to_world(ws.to_pixel(np.array([0.42, -0.19])))
    place = ws.to_world(ws.to_pixel(np.array([0.55, 0.2])))
    turn = 3 * 2 * np.pi / k
    scene.pick_and_place(pick, np.array([*place, turn]))
    assert scene.pose("block")[2] == pytest.approx(turn, abs=0.02)
    after = labels.network_input(*_maps(scene, ws))
    target = np.asarray(rotated_crops(after, ws.to_pixel(place), 33, k))[0]
    crops = np.asarray(rotated_crops(before, ws.to_pixel(pick), 33, k))
    errors = [np.abs(c - target).sum() for c in crops]
    assert int(np.argmin(errors)) == 3


def _maps(scene, ws):
    from robojax.envs.tabletop.camera import render

    return render(scene.model, scene.data, ws)


def test_unknown_task_and_bad_pixel_size():
    with pytest.raises(EnvError, match="unknown tabletop task 'nope'"):
        TabletopEnv("nope")
    with pytest.raises(EnvError, match="pixel_size"):
        Workspace(pixel_size=0.0)


def test_demo_files_round_trip_and_errors(tmp_path):
    out = tmp_path / "demos"
    assert list(generate("block-insertion", 2, out, seed=5, pixel_size=0.0125)) == [5, 6]
    demos = load(out, "block-insertion", 2, 0.0125)
    assert demos.seeds == [5, 6] and demos.color.shape == (2, 80, 40, 3) and demos.place.shape == (2, 3)
    with pytest.raises(ConfigError, match="demos.count=3"):
        load(out, "block-insertion", 3, 0.0125)
    with pytest.raises(ConfigError, match="holds 'block-insertion' demos"):
        load(out, "align-box-corner", 1, 0.0125)
    with pytest.raises(ConfigError, match="pixel_size"):
        load(out, "block-insertion", 1, 0.00625)
    with pytest.raises(ConfigError, match="not a directory"):
        load(tmp_path / "missing", "block-insertion", 1, 0.0125)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="no meta.json"):
        load(tmp_path / "empty", "block-insertion", 1, 0.0125)
    (out / "episode_00000006.npz").unlink()
    with pytest.raises(ConfigError, match="missing"):
        load(out, "block-insertion", 2, 0.0125)
    with pytest.raises(ConfigError, match="already holds"):
        list(generate("block-insertion", 1, out))
