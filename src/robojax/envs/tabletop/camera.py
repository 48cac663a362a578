"""Top-down orthographic colour and height maps of the workspace, ray-cast analytically.

Every pixel is a vertical ray through its centre; the highest box it meets wins (as when Ravens
fuses its cameras). Boxes are intersected in their own frame, which is exact for boxes resting
flat (yaw only), the only way objects rest in these tasks. Pixel (row i, column j) covers
``x = x_min + (j + 0.5) * pixel_size``, ``y = y_min + (i + 0.5) * pixel_size``.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from robojax.envs.tabletop.sim import mujoco
from robojax.errors import EnvError


@dataclasses.dataclass(frozen=True)
class Workspace:
    """The imaged table area (Ravens' 0.5 m x 1 m by default) and its resolution."""

    x_range: tuple[float, float] = (0.25, 0.75)
    y_range: tuple[float, float] = (-0.5, 0.5)
    pixel_size: float = 0.00625

    def __post_init__(self):
        if self.pixel_size <= 0:
            raise EnvError(f"pixel_size={self.pixel_size!r}: must be > 0")

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns) = (y cells, x cells)."""
        return (round((self.y_range[1] - self.y_range[0]) / self.pixel_size),
                round((self.x_range[1] - self.x_range[0]) / self.pixel_size))

    def to_pixel(self, xy: np.ndarray) -> np.ndarray:
        """World (..., [x, y]) -> integer pixel (..., [row, col]) of the cell containing it."""
        xy = np.asarray(xy, np.float64)
        col = np.floor((xy[..., 0] - self.x_range[0]) / self.pixel_size)
        row = np.floor((xy[..., 1] - self.y_range[0]) / self.pixel_size)
        return np.stack([row, col], -1).astype(np.int32)

    def to_world(self, pixel: np.ndarray) -> np.ndarray:
        """Pixel (..., [row, col]) -> world (..., [x, y]) of the cell centre."""
        pixel = np.asarray(pixel, np.float64)
        x = self.x_range[0] + (pixel[..., 1] + 0.5) * self.pixel_size
        y = self.y_range[0] + (pixel[..., 0] + 0.5) * self.pixel_size
        return np.stack([x, y], -1)

    def contains(self, xy: np.ndarray) -> bool:
        return bool(self.x_range[0] <= xy[0] < self.x_range[1] and self.y_range[0] <= xy[1] < self.y_range[1])


def render(model: mujoco.MjModel, data: mujoco.MjData, ws: Workspace) -> tuple[np.ndarray, np.ndarray]:
    """``(colour (H, W, 3) uint8, height (H, W) float32 metres above the table)``."""
    rows, cols = ws.shape
    xy = ws.to_world(np.stack(np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij"), -1))
    height = np.zeros((rows, cols))
    table = model.geom("table").id
    colour = np.broadcast_to(model.geom_rgba[table, :3], (rows, cols, 3)).copy()
    for g in np.flatnonzero(model.geom_type == mujoco.mjtGeom.mjGEOM_BOX):
        if model.geom_contype[g] == 0 and model.geom_conaffinity[g] == 0:
            continue  # the suction cup is not part of the scene
        rot = data.geom_xmat[g].reshape(3, 3)
        centre, half = data.geom_xpos[g], model.geom_size[g]
        local = (xy - centre[:2]) @ rot[:2, :2]  # R^T (p - c), in the box's horizontal axes
        top = centre[2] + np.abs(rot[2]) @ half
        hit = (np.abs(local[..., 0]) <= half[0]) & (np.abs(local[..., 1]) <= half[1]) & (top > height)
        height[hit] = top
        colour[hit] = model.geom_rgba[g, :3]
    return (np.clip(colour, 0, 1) * 255).round().astype(np.uint8), height.astype(np.float32)
