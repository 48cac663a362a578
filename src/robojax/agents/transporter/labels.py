"""Between workspace poses and the networks' pixel / rotation labels; network input; SE(2)
augmentation that keeps the labels inside the image.

Continuous pixel coordinates are (row, col) with pixel ``(i, j)`` covering ``[i, i + 1) x [j, j + 1)``
(row = y, column = x, see ``robojax.envs.tabletop.camera``); a rotation by ``a`` turns (x, y) =
(col, row) counter-clockwise, as yaw turns the world's (x, y).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from robojax.envs.tabletop.camera import Workspace
from robojax.envs.tabletop.sim import TABLE_RGB

HEIGHT_SCALE = 0.05  # metres of height that map to 1.0 in the network input


def network_input(color: np.ndarray, height: np.ndarray) -> np.ndarray:
    """``(..., H, W, 4)`` float32: colour minus the table's colour, height in units of 5 cm (the
    bare table is all zeros, like the zero padding outside the image)."""
    rgb = np.asarray(color, np.float32) / 255.0 - np.asarray(TABLE_RGB, np.float32)
    return np.concatenate([rgb, np.asarray(height, np.float32)[..., None] / HEIGHT_SCALE], -1)


def to_continuous(ws: Workspace, xy: np.ndarray) -> np.ndarray:
    """World (..., [x, y]) -> continuous pixel (..., [row, col])."""
    xy = np.asarray(xy, np.float64)
    return np.stack([(xy[..., 1] - ws.y_range[0]) / ws.pixel_size, (xy[..., 0] - ws.x_range[0]) / ws.pixel_size], -1)


def rotation_label(yaw: np.ndarray, num_rotations: int) -> np.ndarray:
    """Nearest rotation bin of a yaw (radians): ``round(yaw / (2 pi / k)) mod k``."""
    return np.round(np.asarray(yaw) / (2 * np.pi / num_rotations)).astype(np.int32) % num_rotations


def rotation_yaw(label: np.ndarray, num_rotations: int) -> np.ndarray:
    """Yaw in [-pi, pi) of a rotation bin."""
    yaw = np.asarray(label) * 2 * np.pi / num_rotations
    return (yaw + np.pi) % (2 * np.pi) - np.pi


def to_labels(ws: Workspace, pick: np.ndarray, place: np.ndarray, num_rotations: int):
    """Action (pick (..., 2), place (..., 3)) -> (pick pixel, place pixel, rotation bin)."""
    return (ws.to_pixel(pick), ws.to_pixel(np.asarray(place)[..., :2]),
            rotation_label(np.asarray(place)[..., 2], num_rotations))


def from_labels(ws: Workspace, pick_px: np.ndarray, place_px: np.ndarray, rot: np.ndarray, num_rotations: int):
    """Labels -> action: pick (x, y) and place (x, y, yaw) at pixel centres and the bin's yaw."""
    place_xy = ws.to_world(place_px)
    return ws.to_world(pick_px), np.concatenate([place_xy, rotation_yaw(rot, num_rotations)[..., None]], -1)


def _turn(angle: jax.Array, rc: jax.Array) -> jax.Array:
    """Rotate (row, col) offsets by ``angle`` in the (x = col, y = row) sense."""
    c, s = jnp.cos(angle), jnp.sin(angle)
    return jnp.stack([s * rc[..., 1] + c * rc[..., 0], c * rc[..., 1] - s * rc[..., 0]], -1)


def transform_image(image: jax.Array, angle: jax.Array, shift: jax.Array) -> jax.Array:
    """The image turned by ``angle`` about its centre, then shifted by ``shift`` (rows, cols)."""
    h, w = image.shape[:2]
    centre = jnp.array([h / 2, w / 2])
    rows, cols = jnp.meshgrid(jnp.arange(h) + 0.5, jnp.arange(w) + 0.5, indexing="ij")
    src = _turn(-angle, jnp.stack([rows, cols], -1) - centre - shift) + centre - 0.5  # index coords

    def sample(channel):
        return jax.scipy.ndimage.map_coordinates(channel, [src[..., 0], src[..., 1]], order=1, mode="constant")

    return jax.vmap(sample, in_axes=-1, out_axes=-1)(image)


def augment(key: jax.Array, image: jax.Array, points: jax.Array, max_shift: float, tries: int = 16):
    """Random SE(2) transform of ``image`` and continuous label ``points`` (n, 2); draws that put
    a point within 1 pixel of the border are rejected (no transform if all ``tries`` fail)."""
    h, w = image.shape[:2]
    k_angle, k_shift = jax.random.split(key)
    angles = jax.random.uniform(k_angle, (tries,), minval=-jnp.pi, maxval=jnp.pi)
    shifts = jax.random.uniform(k_shift, (tries, 2), minval=-max_shift, maxval=max_shift)
    centre = jnp.array([h / 2, w / 2])
    moved = jax.vmap(lambda a, s: _turn(a, points - centre) + centre + s)(angles, shifts)  # (tries, n, 2)
    inside = jnp.all((moved >= 1) & (moved < jnp.array([h - 1, w - 1])), axis=(1, 2))
    first = jnp.argmax(inside)
    ok = inside[first]
    angle, shift = jnp.where(ok, angles[first], 0.0), jnp.where(ok, shifts[first], 0.0)
    return transform_image(image, angle, shift), jnp.where(ok, moved[first], points)
