"""Transporter Networks: equivariances, labels, overfitting one demo, config and CLI errors."""

import dataclasses
import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from robojax.agents.transporter import ConvMLP, DemosConfig, Transporter, TransporterConfig, labels
from robojax.agents.transporter.networks import Transporter as Net
from robojax.agents.transporter.networks import rotated_crops
from robojax.cli import main
from robojax.config import EnvConfig
from robojax.envs.tabletop import Workspace
from robojax.envs.tabletop.demos import generate
from robojax.errors import ConfigError, EnvError

SMALL = {"pixel_size": 0.0125}  # 80 x 40 images keep the tests fast
ENV = EnvConfig(id="tabletop/block-insertion", kwargs=SMALL)


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("demos") / "block-insertion"
    list(generate("block-insertion", 1, out, seed=0, pixel_size=SMALL["pixel_size"]))
    return out


def _net(k=16):
    net = Net((8, 8), 3, 13, k)
    image = jax.random.normal(jax.random.PRNGKey(1), (41, 41, 4))
    return net, jax.jit(net.init)(jax.random.PRNGKey(0), image, jnp.array([20, 20])), image


def test_rotating_the_crop_by_90_degrees_shifts_the_place_logits():
    k = 16
    net, params, image = _net(k)
    pick = jnp.array([20, 20])  # the centre pixel: np.rot90 turns the image about it
    turned = jnp.asarray(np.rot90(np.asarray(image), -1))  # turned(p + R(90) u) = image(p + u)

    @jax.jit
    def logits(query_image):
        crops = rotated_crops(query_image, pick, 13, k)
        kernels = net.apply(params, crops, method="query_kernels")
        return net.apply(params, image, kernels, method="correlate")

    np.testing.assert_allclose(logits(turned), jnp.roll(logits(image), -k // 4, axis=-1), atol=1e-4)
    assert not np.allclose(logits(turned), logits(image), atol=1e-2)


def test_translating_the_image_translates_the_pick_logits():
    net, params, _ = _net()
    image = jnp.zeros((64, 64, 4)).at[24:36, 26:34].set(jax.random.normal(jax.random.PRNGKey(2), (12, 8, 4)))
    shifted = jnp.roll(image, (4, -6), axis=(0, 1))  # multiples of the stride (2)
    pick_logits = jax.jit(lambda x: net.apply(params, x, method="pick_logits"))
    a, b = pick_logits(image), pick_logits(shifted)
    inner = slice(16, 48)
    np.testing.assert_allclose(jnp.roll(a, (4, -6), axis=(0, 1))[inner, inner], b[inner, inner], atol=1e-4)


def test_label_round_trip():
    ws, k = Workspace(), 16
    rng = np.random.default_rng(0)
    pick = np.stack([rng.uniform(0.25, 0.75, 200), rng.uniform(-0.5, 0.5, 200)], -1)
    place = np.concatenate([pick[::-1], rng.uniform(-np.pi, np.pi, (200, 1))], -1)
    pick_px, place_px, rot = labels.to_labels(ws, pick, place, k)
    pick2, place2 = labels.from_labels(ws, pick_px, place_px, rot, k)
    assert np.abs(pick2 - pick).max() <= ws.pixel_size / 2 + 1e-9
    assert np.abs(place2[:, :2] - place[:, :2]).max() <= ws.pixel_size / 2 + 1e-9
    yaw_err = (place2[:, 2] - place[:, 2] + np.pi) % (2 * np.pi) - np.pi
    assert np.abs(yaw_err).max() <= np.pi / k + 1e-9
    assert labels.rotation_label(np.array([np.pi / 8, -np.pi / 8]), k).tolist() == [1, k - 1]


def test_augmentation_moves_labels_with_the_image():
    image = jnp.zeros((40, 20, 4)).at[10, 5, 0].set(1.0).at[30, 12, 0].set(1.0)
    points = jnp.array([[10.5, 5.5], [30.5, 12.5]])
    for seed in range(5):
        out, moved = labels.augment(jax.random.PRNGKey(seed), image, points, max_shift=5.0)
        for p in np.floor(np.asarray(moved)).astype(int):
            assert 1 <= p[0] < 39 and 1 <= p[1] < 19
            assert out[p[0], p[1], 0] > 0.2  # the marked pixel went where its label went


def test_overfits_one_demo(demo_dir, tmp_path):
    config = TransporterConfig(train_steps=1, batch_size=1, learning_rate=2e-3, augment=False, channels=(8, 16),
                               crop_size=21, demos=DemosConfig(str(demo_dir), 1))
    agent = Transporter(config, ENV)
    demos, data = agent.load_demos()
    step = jax.jit(agent.train_step)
    state = agent.init(jax.random.PRNGKey(0))
    for _ in range(150):
        state, metrics = step(state, data)
    pick, place, rot = jax.jit(agent.predict)(state.params, data.image[0])
    assert np.floor(np.asarray(data.pick[0])).astype(int).tolist() == np.asarray(pick).tolist()
    assert np.floor(np.asarray(data.place[0])).astype(int).tolist() == np.asarray(place).tolist()
    assert int(rot) == int(data.rot[0])


def test_config_and_input_errors(demo_dir, tmp_path):
    with pytest.raises(ConfigError, match="num_rotations=8"):
        TransporterConfig(num_rotations=8)
    with pytest.raises(ConfigError, match="crop_size=32"):
        TransporterConfig(crop_size=32)
    with pytest.raises(EnvError, match="needs a tabletop task"):
        Transporter(TransporterConfig(), "gymnax/CartPole-v1")
    with pytest.raises(EnvError, match="unknown tabletop task"):
        Transporter(TransporterConfig(), "tabletop/stack-everything")
    with pytest.raises(ConfigError, match="demos.count=5"):
        Transporter(TransporterConfig(demos=DemosConfig(str(demo_dir), 5)), ENV).load_demos()
    with pytest.raises(ConfigError, match="not a directory"):
        Transporter(TransporterConfig(demos=DemosConfig(str(tmp_path / "none"), 1)), ENV).load_demos()


def test_cli_demos_train_eval(tmp_path, capsys):
    demos, run = tmp_path / "demos", tmp_path / "run"
    assert main(["demos", "tabletop/block-insertion", "--episodes", "1", "--out", str(demos),
                 "--pixel-size", "0.0125"]) == 0
    assert main(["demos", "tabletop/nope", "--episodes", "1", "--out", str(tmp_path / "x")]) == 2
    assert "unknown tabletop task 'nope'" in capsys.readouterr().err
    common = ["train", "transporter", "--env", "tabletop/block-insertion", "env.kwargs.pixel_size=0.0125",
              "channels=[4,4]", "crop_size=11", "logging.console=false", "logging.tensorboard=false"]
    assert main([*common, f"demos.path={tmp_path / 'empty'}", "--run-dir", str(tmp_path / "bad")]) == 2
    assert "demos.path" in capsys.readouterr().err
    assert not (tmp_path / "bad").exists()  # bad input fails before the run directory is made
    assert main([*common, f"demos.path={demos}", "demos.count=1", "train_steps=4", "logging.interval=2",
                 "eval.episodes=2", "--run-dir", str(run)]) == 0
    capsys.readouterr()
    summary = json.loads((run / "summary.json").read_text())
    assert summary["train_steps"] == 4 and len(summary["eval_scores"]) == 2
    assert len((run / "metrics.jsonl").read_text().splitlines()) == 2
    assert main(["eval", str(run), "--episodes", "2", "--seed", "3", "--video"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["episodes"] == 2 and 0.0 <= out["eval_score_mean"] <= 1.0 and len(out["eval_scores"]) == 2
    assert Path(out["video"]).stat().st_size > 0


def test_conv_mlp_baseline_learns_its_demo(demo_dir):
    config = TransporterConfig(batch_size=1, learning_rate=1e-3, augment=False, channels=(8, 8),
                               demos=DemosConfig(str(demo_dir), 1))
    agent = ConvMLP(config, ENV)
    _, data = agent.load_demos()
    step = jax.jit(agent.train_step)
    state = agent.init(jax.random.PRNGKey(0))
    state, first = step(state, data)
    for _ in range(60):
        state, metrics = step(state, data)
    assert float(metrics["loss"]) < 0.1 * float(first["loss"])
    pick, place, rot = jax.jit(agent.predict)(state.params, data.image[0])
    assert np.abs(np.asarray(pick) - np.asarray(data.pick[0])).max() < 4
    assert np.abs(np.asarray(place) - np.asarray(data.place[0])).max() < 4


class _StopAfter:
    """Stands in for ``DeferredInterrupts``: a stop is requested from the ``checks``-th check on (a
    signal arriving while a train step runs)."""

    def __init__(self, checks: int):
        self.checks, self.seen = checks, 0

    @property
    def requested(self) -> bool:
        self.seen += 1
        return self.seen >= self.checks

    def exception(self):
        return KeyboardInterrupt()


def test_interrupt_saves_whole_steps_and_resume_is_exact(demo_dir, tmp_path):
    from robojax.agents.transporter.trainer import TransporterTrainer
    from robojax.errors import RunDirError

    config = TransporterConfig(train_steps=6, batch_size=1, channels=(4, 4), crop_size=11,
                               demos=DemosConfig(str(demo_dir), 1))
    config = dataclasses.replace(config, logging=dataclasses.replace(config.logging, interval=2, console=False,
                                                                     tensorboard=False),
                                 eval=dataclasses.replace(config.eval, interval=0, episodes=1))
    straight = Transporter(config, ENV).train(run_dir=tmp_path / "straight")

    run = tmp_path / "interrupted"
    agent = Transporter(config, ENV)
    run.mkdir()  # made by the run-directory lock, which ``_run`` is called without here
    with pytest.raises(KeyboardInterrupt):  # checks: loop top, steps 1, 2, loop top, step 3 -> stop
        TransporterTrainer(agent, run_dir=run)._run(_StopAfter(5), agent.load_demos()[1], 0.0)
    saved = sorted((run / "checkpoints").glob("*.ckpt"))
    assert [p.name for p in saved] == ["step_000000000003.ckpt"]
    with pytest.raises(RunDirError, match="already holds a run"):
        Transporter(config, ENV).train(run_dir=run)
    resumed = Transporter(config, ENV).train(run_dir=run, resume=True)
    assert resumed.summary["train_steps"] == 6
    for a, b in zip(jax.tree.leaves(straight.state), jax.tree.leaves(resumed.state), strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    steps = [json.loads(line)["env_steps"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert steps == [2, 3, 5, 6]
