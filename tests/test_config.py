"""Config parsing: YAML presets, key=value overrides, and errors naming key and expected type."""

from pathlib import Path

import pytest

from robojax.agents.ppo import PPOConfig
from robojax.config import EnvConfig, experiment_dict, from_dict, load_yaml, merge, parse_overrides, split_experiment
from robojax.errors import ConfigError

PRESETS = sorted((Path(__file__).parent.parent / "configs").glob("*.yaml"))


def test_overrides_nested_and_typed():
    data = parse_overrides(["seed=3", "network.hidden_sizes=[32, 16]", "eval.episodes=4", "learning_rate=1e-3", "total_steps=5e5"])
    cfg = from_dict(PPOConfig, data)
    assert cfg.seed == 3 and cfg.network.hidden_sizes == (32, 16) and cfg.eval.episodes == 4
    assert cfg.learning_rate == pytest.approx(1e-3) and cfg.total_steps == 500_000
    assert cfg.network.activation == "tanh"  # untouched nested fields keep their defaults


@pytest.mark.parametrize(
    "override, message",
    [
        ("sede=1", "unknown config key 'sede'"),
        ("network.widths=[3]", "unknown config key 'network.widths'"),
        ("num_envs=abc", "num_envs='abc': expected int"),
        ("learning_rate=true", "learning_rate=True: expected float"),
        ("anneal_lr=1", "anneal_lr=1: expected bool"),
        ("num_envs=1.5", "num_envs=1.5: expected int"),
        ("network.activation=swish", "allowed values are"),
        ("gamma=1.5", "gamma=1.5: must be in [0, 1]"),
        ("num_minibatches=3", "num_minibatches=3 must divide"),
    ],
)
def test_bad_values_name_the_key(override, message):
    with pytest.raises(ConfigError, match=None) as info:
        from_dict(PPOConfig, parse_overrides([override]))
    assert message in str(info.value)


def test_malformed_override():
    with pytest.raises(ConfigError, match="key=value"):
        parse_overrides(["seed"])


def test_experiment_round_trip(tmp_path):
    env = EnvConfig(id="brax/ant", kwargs={"backend": "generalized"})
    cfg = from_dict(PPOConfig, {"num_envs": 8, "policy": {"action_bounds": "tanh"}})
    data = experiment_dict("ppo", env, cfg)
    env2, cfg2 = split_experiment(PPOConfig, merge(data, {"seed": 1}))
    assert env2 == env and cfg2 == from_dict(PPOConfig, {"num_envs": 8, "seed": 1, "policy": {"action_bounds": "tanh"}})


@pytest.mark.parametrize("preset", PRESETS, ids=[p.name for p in PRESETS])
def test_presets_load_and_validate(preset):
    """Every preset parses into its algorithm's config and builds an agent on its env."""
    from robojax.agents import AGENTS

    experiment = load_yaml(preset)
    agent_cls = AGENTS[experiment["algo"]]
    assert preset.name.startswith(f"{experiment['algo']}_")
    env, cfg = split_experiment(agent_cls.config_cls, experiment)
    agent = agent_cls(cfg, env)
    assert agent.config == cfg
    if hasattr(agent, "num_train_steps"):  # RL agents (Transporter trains on demos, not env steps)
        assert agent.num_train_steps >= 1


def test_missing_config_file():
    with pytest.raises(ConfigError, match="does not exist"):
        load_yaml("/nonexistent/preset.yaml")
