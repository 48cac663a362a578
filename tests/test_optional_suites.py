"""Suites whose simulator is an optional install (MetaWorld, ManiSkill): errors naming the extra,
listing without them, and success reporting of host vector envs with same-step auto-reset."""

import sys

import numpy as np
import pytest

from robojax.envs import HostVectorEnv, list_envs, make_env
from robojax.errors import EnvError
from robojax.cli import main


def test_missing_metaworld_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "metaworld", None)
    with pytest.raises(EnvError, match=r"pip install 'robojax\[metaworld\]'"):
        make_env("metaworld/reach-v3")
    with pytest.raises(EnvError, match=r"robojax\[metaworld\]"):
        list_envs("metaworld")


def test_listing_skips_suites_that_are_not_installed(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "metaworld", None)
    monkeypatch.setitem(sys.modules, "mani_skill", None)
    ids = list_envs()
    assert "gymnax/CartPole-v1" in ids
    assert not any(i.startswith(("metaworld/", "maniskill/")) for i in ids)
    assert main(["envs", "metaworld"]) == 2
    assert "robojax[metaworld]" in capsys.readouterr().err


class _SameStepVectorEnv:
    """Two envs; env 0 succeeds on the last step of its episode, reported the Gymnasium way."""

    num_envs = 2

    def reset(self, seed):
        return np.zeros((2, 1)), {}

    def step(self, action):
        info = {
            "success": np.array([0.0, 1.0]), "_success": np.array([True, True]),  # env 0: its reset info
            "final_obs": np.array([np.ones(1), None], dtype=object), "_final_obs": np.array([True, False]),
            "final_info": {"success": np.array([1.0, 0.0]), "_success": np.array([True, False])},
            "_final_info": np.array([True, False]),
        }
        return np.zeros((2, 1)), np.zeros(2), np.array([True, False]), np.array([False, False]), info


def test_success_on_the_last_step_is_taken_from_final_info():
    env = HostVectorEnv(_SameStepVectorEnv(), reports_success=True)
    env.reset(0)
    step = env.step(np.zeros((2, 1)))
    np.testing.assert_array_equal(step.info["success"], [1.0, 1.0])
    np.testing.assert_array_equal(step.final_obs[0], [1.0])
