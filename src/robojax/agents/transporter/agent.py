"""The Transporter agent: imitation of oracle pick-and-place demonstrations.

Not an RL agent: nothing is collected while training. Its train state is one pytree (params,
Adam state, RNG key) and ``train_step`` is one jitted Adam step on a batch of augmented
demonstration steps; ``act`` maps an observation to a pick and a place.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import flax.struct
import jax
import jax.numpy as jnp
import numpy as np
import optax

from robojax.agents.transporter import labels
from robojax.agents.transporter.config import TEST_SEED_START, TransporterConfig
from robojax.agents.transporter.networks import Transporter as TransporterNet
from robojax.config import EnvConfig
from robojax.envs.tabletop import TabletopEnv, task_name
from robojax.envs.tabletop.demos import Demos, load
from robojax.errors import ConfigError, EnvError

if TYPE_CHECKING:
    from robojax.agents.transporter.trainer import TransporterResult


@flax.struct.dataclass
class TransporterState:
    params: Any
    opt_state: Any
    key: jax.Array


@flax.struct.dataclass
class Batch:
    """Demonstration steps as network input: images (N, H, W, 4); continuous pixel
    coordinates of pick and place (N, 2); place rotation bins (N,)."""

    image: jax.Array
    pick: jax.Array
    place: jax.Array
    rot: jax.Array


def cross_entropy(logits: jax.Array, index: jax.Array) -> jax.Array:
    """Softmax cross-entropy of flattened ``logits`` against one flat ``index``."""
    flat = logits.reshape(-1)
    return jax.nn.logsumexp(flat) - flat[index]


class Transporter:
    """Transporter Networks (Zeng et al. 2020) on a ``tabletop/NAME`` task."""

    name: ClassVar[str] = "transporter"
    config_cls: ClassVar[type[TransporterConfig]] = TransporterConfig

    def __init__(self, config: TransporterConfig, env: str | EnvConfig):
        if not isinstance(config, TransporterConfig):
            raise TypeError(f"Transporter needs a TransporterConfig, got {type(config).__name__}")
        self.env_config = EnvConfig(id=env) if isinstance(env, str) else env
        self.config = config
        task = task_name(self.env_config.id)
        unknown = set(self.env_config.kwargs) - {"pixel_size"}
        if unknown:
            raise EnvError(f"env.kwargs {sorted(unknown)}: tabletop envs take only pixel_size")
        self.env = TabletopEnv(task, **self.env_config.kwargs)
        self.ws = self.env.ws
        if min(self.ws.shape) < config.crop_size:
            raise ConfigError(f"crop_size={config.crop_size}: larger than the {self.ws.shape} image")
        self.net = TransporterNet(tuple(config.channels), config.feature_dim, config.crop_size, config.num_rotations)
        self.optimizer = optax.adam(config.learning_rate)

    # -- data ------------------------------------------------------------------------------

    def load_demos(self) -> tuple[Demos, Batch]:
        """The configured demonstrations, as loaded and as network-ready arrays."""
        cfg = self.config
        demos = load(cfg.demos.path, self.env.task.name, cfg.demos.count, self.ws.pixel_size)
        test = range(TEST_SEED_START + cfg.eval.seed, TEST_SEED_START + cfg.eval.seed + cfg.eval.episodes)
        if any(s in test for s in demos.seeds):
            raise ConfigError(f"demos.path={cfg.demos.path!r}: demo seeds overlap the test seeds from {test.start}")
        return demos, self.batch(demos)

    def batch(self, demos: Demos) -> Batch:
        return Batch(
            image=jnp.asarray(labels.network_input(demos.color, demos.height)),
            pick=jnp.asarray(labels.to_continuous(self.ws, demos.pick), jnp.float32),
            place=jnp.asarray(labels.to_continuous(self.ws, demos.place[:, :2]), jnp.float32),
            rot=jnp.asarray(labels.rotation_label(demos.place[:, 2], self.config.num_rotations)),
        )

    # -- learning --------------------------------------------------------------------------

    def init(self, key: jax.Array) -> TransporterState:
        init_key, key = jax.random.split(key)
        h, w = self.ws.shape
        params = jax.jit(self.net.init)(init_key, jnp.zeros((h, w, 4)), jnp.array([h // 2, w // 2]))  # eager init compiles op by op
        return TransporterState(params=params, opt_state=self.optimizer.init(params), key=key)

    def loss(self, params: Any, image: jax.Array, pick: jax.Array, place: jax.Array, rot: jax.Array):
        """Cross-entropy of pick and place for one (augmented) step with integer pixel labels."""
        pick_logits, place_logits = self.net.apply(params, image, pick)
        w, k = image.shape[1], self.config.num_rotations
        pick_loss = cross_entropy(pick_logits, pick[0] * w + pick[1])
        place_loss = cross_entropy(place_logits, (place[0] * w + place[1]) * k + rot)
        return pick_loss + place_loss, (pick_loss, place_loss)

    def train_step(self, state: TransporterState, data: Batch) -> tuple[TransporterState, dict[str, jax.Array]]:
        """One Adam step on ``batch_size`` demonstration steps drawn with replacement (jittable)."""
        key, k_idx, k_aug = jax.random.split(state.key, 3)
        idx = jax.random.randint(k_idx, (self.config.batch_size,), 0, data.image.shape[0])

        def one(index, aug_key):
            image, points = data.image[index], jnp.stack([data.pick[index], data.place[index]])
            if self.config.augment:
                image, points = labels.augment(aug_key, image, points, max_shift=min(image.shape[:2]) / 4)
            px = jnp.floor(points).astype(jnp.int32)
            return image, px[0], px[1], data.rot[index]

        images, picks, places, rots = jax.vmap(one)(idx, jax.random.split(k_aug, self.config.batch_size))

        def batch_loss(params):
            total, parts = jax.vmap(self.loss, in_axes=(None, 0, 0, 0, 0))(params, images, picks, places, rots)
            return total.mean(), jax.tree.map(jnp.mean, parts)

        (loss, (pick_loss, place_loss)), grads = jax.value_and_grad(batch_loss, has_aux=True)(state.params)
        updates, opt_state = self.optimizer.update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        metrics = {"loss": loss, "pick_loss": pick_loss, "place_loss": place_loss}
        return state.replace(params=params, opt_state=opt_state, key=key), metrics

    # -- acting ----------------------------------------------------------------------------

    def predict(self, params: Any, image: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
        """Greedy labels for one image: pick pixel, place pixel, rotation bin (jittable)."""
        h, w = image.shape[:2]
        pick = jnp.array(jnp.unravel_index(jnp.argmax(self.net.apply(params, image, method="pick_logits")), (h, w)))
        place_logits = self.net.apply(params, image, pick, method="place_logits")
        row, col, rot = jnp.unravel_index(jnp.argmax(place_logits), place_logits.shape)
        return pick, jnp.array([row, col]), rot

    def act(self, params: Any, obs: dict[str, np.ndarray], predict=None) -> tuple[np.ndarray, np.ndarray]:
        """Pick (x, y) and place (x, y, yaw) for an observation; ``predict``: a jitted ``predict``."""
        image = jnp.asarray(labels.network_input(obs["color"], obs["height"]))
        pick, place, rot = jax.device_get((predict or self.predict)(params, image))
        return labels.from_labels(self.ws, pick, place, rot, self.config.num_rotations)

    def train(self, run_dir: str | Path | None = None, resume: bool = False) -> TransporterResult:
        """Train on the configured demos with logging, checkpoints and a final test evaluation."""
        from robojax.agents.transporter.trainer import TransporterTrainer

        return TransporterTrainer(self, run_dir=run_dir, resume=resume).run()

    @classmethod
    def evaluate_run(cls, run_dir: str | Path, episodes: int | None, seed: int, video: bool) -> dict[str, Any]:
        """``robojax eval RUN_DIR``: the latest checkpoint on test episodes (JSON-ready)."""
        from robojax.agents.transporter.trainer import evaluate_run

        return evaluate_run(cls, run_dir, episodes, seed, video)
