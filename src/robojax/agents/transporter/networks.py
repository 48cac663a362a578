"""The Transporter networks (flax): an attention FCN for the pick and a key/query transport for
the place, cross-correlated over ``k`` rotations of the query crop."""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp


class FCN(nn.Module):
    """A small U-shaped fully convolutional net: one full-resolution block, a stride-2 block
    (with a dilated conv for context), upsampling and a skip connection. Output stride 1 (any
    input size); translations by multiples of 2 pixels commute with it away from the borders."""

    channels: tuple[int, ...]
    out: int

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        full, half = self.channels
        h1 = nn.relu(nn.Conv(full, (3, 3))(x))
        h = nn.relu(nn.Conv(half, (3, 3), strides=2)(h1))
        h = nn.relu(nn.Conv(half, (3, 3))(h))
        h = nn.relu(nn.Conv(half, (3, 3), kernel_dilation=2)(h))
        h = jnp.repeat(jnp.repeat(h, 2, axis=-3), 2, axis=-2)[..., : x.shape[-3], : x.shape[-2], :]
        h = nn.relu(nn.Conv(full, (3, 3))(jnp.concatenate([h, h1], -1)))
        return nn.Conv(self.out, (1, 1))(h)


def rotated_crops(image: jax.Array, pick: jax.Array, size: int, num_rotations: int) -> jax.Array:
    """``(k, size, size, C)`` crops around pixel ``pick`` (row, col), crop ``r`` showing the image
    turned by ``+2 pi r / k`` about the pick (bilinear, zeros outside).

    Crop ``r`` at offset ``w`` (x = column, y = row) samples ``pick + R(-theta_r) w``: an object
    turned by ``theta_r`` about the pick then looks like the crop, so rotation index ``r`` is the
    place yaw ``theta_r``.
    """
    half = size // 2
    wy, wx = jnp.meshgrid(jnp.arange(-half, half + 1.0), jnp.arange(-half, half + 1.0), indexing="ij")
    theta = 2 * jnp.pi * jnp.arange(num_rotations) / num_rotations
    c, s = jnp.cos(theta)[:, None, None], jnp.sin(theta)[:, None, None]
    rows = pick[0] + (-s * wx + c * wy)
    cols = pick[1] + (c * wx + s * wy)

    def sample(channel, r, q):
        return jax.scipy.ndimage.map_coordinates(channel, [r, q], order=1, mode="constant", cval=0.0)

    per_rot = jax.vmap(lambda r, q: jax.vmap(sample, in_axes=(-1, None, None), out_axes=-1)(image, r, q))
    return per_rot(rows, cols)


def fft_correlate(features: jax.Array, kernels: jax.Array) -> jax.Array:
    """``out[i, j, r] = sum_{a, b, d} features[i + a, j + b, d] * kernels[r, a + c // 2, b + c // 2, d]``
    for ``features (H, W, d)``, odd-sided ``kernels (k, c, c, d)``, zero padding; via real FFTs
    padded so nothing wraps around."""
    h, w, _ = features.shape
    c = kernels.shape[1]
    shape = (h + c - 1, w + c - 1)
    f = jnp.fft.rfft2(features, s=shape, axes=(0, 1))  # (H', W'/2+1, d)
    g = jnp.fft.rfft2(kernels[:, ::-1, ::-1], s=shape, axes=(1, 2))  # flipped: correlation as convolution
    full = jnp.fft.irfft2(jnp.einsum("xyd,kxyd->kxy", f, g), s=shape, axes=(1, 2))  # (k, H', W')
    half = c // 2
    return jnp.transpose(full[:, half : half + h, half : half + w], (1, 2, 0))


class Transporter(nn.Module):
    """``pick_logits(image) -> (H, W)``; ``place_logits(image, pick) -> (H, W, k)``."""

    channels: tuple[int, ...]
    feature_dim: int
    crop_size: int
    num_rotations: int

    def setup(self):
        self.attention = FCN(self.channels, 1)
        self.key = FCN(self.channels, self.feature_dim)
        self.query = FCN(self.channels, self.feature_dim)

    def pick_logits(self, image: jax.Array) -> jax.Array:
        return self.attention(image[None])[0, ..., 0]

    def query_kernels(self, crops: jax.Array) -> jax.Array:
        """Query features ``(k, c, c, d)`` of ``(k, c, c, C)`` crops."""
        return self.query(crops)

    def correlate(self, image: jax.Array, kernels: jax.Array) -> jax.Array:
        """Cross-correlate key features of ``image`` with ``(k, c, c, d)`` kernels -> (H, W, k):
        ``out[q, r] = sum_u key[q + u] . kernels[r, u]`` over centred offsets ``u``, zero outside
        the image. The same 'SAME' convolution as ``lax.conv_general_dilated``, computed by FFT
        (a 33 px kernel over the whole image costs hundreds of MFLOP directly)."""
        key = self.key(image[None])[0]
        return fft_correlate(key, kernels)

    def place_logits(self, image: jax.Array, pick: jax.Array) -> jax.Array:
        crops = rotated_crops(image, pick, self.crop_size, self.num_rotations)
        return self.correlate(image, self.query_kernels(crops))

    def __call__(self, image: jax.Array, pick: jax.Array) -> tuple[jax.Array, jax.Array]:
        return self.pick_logits(image), self.place_logits(image, pick)
