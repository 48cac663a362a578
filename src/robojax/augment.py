"""Image augmentations for learning from pixels (DrQ's random shift), shared by any agent.

Augmentations act on a batch of observations ``(B, ...)`` and change only its image parts
(``spaces.is_image``: uint8 ``(H, W, C)``); other parts pass through. Everything is jittable
and keeps dtypes and shapes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from robojax.envs.spaces import Dict, ObsSpace, is_image, obs_parts
from robojax.errors import ConfigError

AUGMENTATIONS = ("none", "shift")

#: ``augment(key, observations[B, ...]) -> observations[B, ...]``
Augmentation = Callable[[jax.Array, Any], Any]


def random_shift(key: jax.Array, images: jax.Array, pad: int) -> jax.Array:
    """Shift each image of ``(B, H, W, C)`` by its own integer offset in ``[-pad, pad]`` per axis.

    The image is padded by repeating its edge pixels, and an ``H x W`` window is cut at a
    random position (DrQ). ``pad=0`` is the identity.
    """
    if pad == 0:
        return images
    b, h, w, c = images.shape
    padded = jnp.pad(images, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode="edge")
    offsets = jax.random.randint(key, (b, 2), 0, 2 * pad + 1)

    def crop(image: jax.Array, offset: jax.Array) -> jax.Array:
        return jax.lax.dynamic_slice(image, (offset[0], offset[1], 0), (h, w, c))

    return jax.vmap(crop)(padded, offsets)


def make_augmentation(kind: str, pad: int, space: ObsSpace) -> Augmentation:
    """The augmentation ``kind`` (``none`` or ``shift``) for batches of observations of ``space``."""
    if kind not in AUGMENTATIONS:
        raise ConfigError(f"augmentation={kind!r}: allowed values are {list(AUGMENTATIONS)}")
    if kind == "none":
        return lambda key, obs: obs
    if pad < 0:
        raise ConfigError(f"shift_pad={pad}: must be >= 0")
    images = [k for k, s in obs_parts(space).items() if is_image(s)]
    if not images:
        raise ConfigError(f"augmentation={kind!r} needs uint8 image observations (H, W, C); this env has none")

    def augment(key: jax.Array, obs: Any) -> Any:
        if not isinstance(space, Dict):
            return random_shift(key, obs, pad)
        keys = jax.random.split(key, len(images))
        return {**obs, **{k: random_shift(kk, obs[k], pad) for k, kk in zip(images, keys, strict=True)}}

    return augment
