"""``cnn``: a convolutional encoder for image observations ``(H, W, C)``.

Images stay uint8 from the env to here and are scaled to [0, 1] inside the encoder (float
images are taken as they are). The conv stack is followed by a dense projection; presets give
the two standard shapes: ``minatar`` (one 3x3 conv of 16 channels, VALID, dense 128 + ReLU)
and ``drq`` (four 3x3 convs of 32 channels, strides 2, 1, 1, 1, VALID, dense 50 + LayerNorm +
tanh; DrQ / DrQ-v2 for 84x84 pixels).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from robojax.envs.spaces import Box, Dict, ObsSpace
from robojax.errors import ConfigError
from robojax.layers import orthogonal, register_encoder

PADDINGS = ("VALID", "SAME")
PROJECTIONS = ("relu", "layernorm_tanh", "none")
PRESETS = {
    "minatar": {"channels": (16,), "kernels": (3,), "strides": (1,), "padding": "VALID", "features": 128, "projection": "relu"},
    "drq": {
        "channels": (32, 32, 32, 32),
        "kernels": (3, 3, 3, 3),
        "strides": (2, 1, 1, 1),
        "padding": "VALID",
        "features": 50,
        "projection": "layernorm_tanh",
    },
}


@dataclasses.dataclass(frozen=True)
class CNNConfig:
    """``network.cnn.*``: conv layers (ReLU after each), then a dense projection of ``features``.

    ``preset`` (``minatar`` or ``drq``) replaces all layer fields with that network's.
    ``features=0`` leaves out the projection (the flattened conv output is the feature vector).
    """

    preset: str = ""
    channels: tuple[int, ...] = (32, 32, 32, 32)
    kernels: tuple[int, ...] = (3, 3, 3, 3)
    strides: tuple[int, ...] = (2, 1, 1, 1)
    padding: str = "VALID"
    features: int = 50
    projection: str = "layernorm_tanh"

    def __post_init__(self):
        if self.preset and self.preset not in PRESETS:
            raise ConfigError(f"network.cnn.preset={self.preset!r}: allowed values are {['', *PRESETS]}")
        if not self.channels or len({len(self.channels), len(self.kernels), len(self.strides)}) != 1:
            raise ConfigError(
                f"network.cnn: channels={list(self.channels)}, kernels={list(self.kernels)} and "
                f"strides={list(self.strides)} need the same, non-zero length (one entry per conv)"
            )
        for name in ("channels", "kernels", "strides"):
            if any(v < 1 for v in getattr(self, name)):
                raise ConfigError(f"network.cnn.{name}={list(getattr(self, name))}: entries must be >= 1")
        if self.padding not in PADDINGS:
            raise ConfigError(f"network.cnn.padding={self.padding!r}: allowed values are {list(PADDINGS)}")
        if self.projection not in PROJECTIONS:
            raise ConfigError(f"network.cnn.projection={self.projection!r}: allowed values are {list(PROJECTIONS)}")
        if self.features < 0:
            raise ConfigError(f"network.cnn.features={self.features}: must be >= 0")

    def resolved(self) -> CNNConfig:
        """The layers actually built: the preset's if one is named, else these fields."""
        return dataclasses.replace(self, preset="", **PRESETS[self.preset]) if self.preset else self

    def output_hw(self, height: int, width: int) -> tuple[int, int]:
        """Spatial size after the conv stack (<= 0 means the image is too small for it)."""
        cfg = self.resolved()
        for k, s in zip(cfg.kernels, cfg.strides, strict=True):
            if cfg.padding == "VALID":
                height, width = (height - k) // s + 1, (width - k) // s + 1
            else:
                height, width = -(-height // s), -(-width // s)
        return height, width


def image_patches(x: jax.Array, kernel: int, stride: int, padding: str) -> jax.Array:
    """``(B, H, W, C)`` -> ``(B, H', W', kernel * kernel * C)``: the window of every output pixel,
    ordered like a ``(kernel, kernel, C, F)`` conv kernel flattened, padded as ``lax.conv`` pads."""
    height, width = x.shape[1:3]
    if padding == "SAME":
        pads = []
        for size in (height, width):
            total = max((-(-size // stride) - 1) * stride + kernel - size, 0)
            pads.append((total // 2, total - total // 2))
        x = jnp.pad(x, ((0, 0), *pads, (0, 0)))
        height, width = x.shape[1:3]
    out_h, out_w = (height - kernel) // stride + 1, (width - kernel) // stride + 1
    windows = [x[:, i:i + stride * (out_h - 1) + 1:stride, j:j + stride * (out_w - 1) + 1:stride]
               for i in range(kernel) for j in range(kernel)]
    return jnp.concatenate(windows, axis=-1)


class Conv2D(nn.Module):
    """A 2-D convolution (cross-correlation) with ``nn.Conv``'s parameters (``kernel`` HWIO, ``bias``).

    On CPU it multiplies each output pixel's window (gathered by slicing) by the kernel: XLA's CPU
    convolution runs about 10x slower inside a loop than alone (jaxlib 0.10.2), and training
    always runs inside one (the trainer's ``fori_loop``, PPO's minibatch ``scan``), where this
    form is as fast as a dense layer. Other backends use ``lax.conv_general_dilated``.
    """

    features: int
    kernel: int
    stride: int
    padding: str
    kernel_init: Callable[..., jax.Array]

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        k = self.kernel
        kernel = self.param("kernel", self.kernel_init, (k, k, x.shape[-1], self.features))
        bias = self.param("bias", nn.initializers.zeros, (self.features,))
        if jax.default_backend() == "cpu":
            y = image_patches(x, k, self.stride, self.padding) @ kernel.reshape(-1, self.features)
        else:
            y = jax.lax.conv_general_dilated(x, kernel, (self.stride,) * 2, self.padding,
                                             dimension_numbers=("NHWC", "HWIO", "NHWC"))
        return y + bias


class CNN(nn.Module):
    """Images ``(*batch, H, W, C)`` -> features ``(*batch, F)``."""

    config: CNNConfig

    @nn.compact
    def __call__(self, images: jax.Array) -> jax.Array:
        cfg = self.config.resolved()
        batch = images.shape[:-3]
        x = images.reshape(-1, *images.shape[-3:])
        x = x.astype(jnp.float32) / 255.0 if x.dtype == jnp.uint8 else x.astype(jnp.float32)
        for i, (c, k, s) in enumerate(zip(cfg.channels, cfg.kernels, cfg.strides, strict=True)):
            x = nn.relu(Conv2D(c, k, s, cfg.padding, orthogonal(np.sqrt(2)), name=f"Conv_{i}")(x))
        x = x.reshape(x.shape[0], -1)
        if cfg.features:
            x = nn.Dense(cfg.features, kernel_init=orthogonal(np.sqrt(2) if cfg.projection == "relu" else 1.0))(x)
            if cfg.projection == "layernorm_tanh":
                x = jnp.tanh(nn.LayerNorm()(x))
            elif cfg.projection == "relu":
                x = nn.relu(x)
        return x.reshape(*batch, x.shape[-1])


def check_image_space(space: ObsSpace, setting: str) -> Box:
    """``space`` if it is one ``(H, W, C)`` box, else a ``ConfigError`` naming ``setting``."""
    if isinstance(space, Dict):
        raise ConfigError(
            f"{setting} needs one image observation (H, W, C); this env's observation is a dict of parts "
            f"{sorted(space.spaces)}: use network.encoder=multi"
        )
    if len(space.shape) != 3:
        raise ConfigError(
            f"{setting} needs image observations of shape (H, W, C); this env's observation has shape {space.shape}"
        )
    return space


def build_cnn(config: CNNConfig, space: ObsSpace, setting: str = "network.encoder=cnn") -> CNN:
    """A ``CNN`` for ``space``, checked before anything compiles."""
    height, width, _ = check_image_space(space, setting).shape
    out = config.output_hw(height, width)
    if min(out) < 1:
        raise ConfigError(
            f"network.cnn: the conv stack {config.resolved().channels} (kernels {config.resolved().kernels}, strides "
            f"{config.resolved().strides}, {config.resolved().padding}) leaves no pixels of a {height}x{width} image"
        )
    return CNN(config)


register_encoder("cnn")(lambda network, space: build_cnn(network.cnn, space))
