"""The tabletop tasks: scene layout per seed, goals, Ravens-style score and a scripted oracle.

Score (as in Ravens): an object matches a goal pose when its centre is within ``POS_TOL`` and
its yaw within ``YAW_TOL`` modulo the object's symmetry; each goal is used once; the score is
the fraction of goal objects matched (1.0 = solved).
"""

from __future__ import annotations

import abc
import dataclasses
import math

import numpy as np

from robojax.envs.tabletop.camera import Workspace
from robojax.envs.tabletop.sim import Body, Part, Scene, wrap

POS_TOL = 0.01  # metres
YAW_TOL = math.radians(15.0)
ANY_YAW = 0.0  # symmetry value: yaw does not matter (e.g. a block in a bowl)

RED, GREEN = (0.85, 0.15, 0.15, 1.0), (0.2, 0.75, 0.25, 1.0)
BLUE, GREY = (0.2, 0.4, 0.9, 1.0), (0.6, 0.6, 0.6, 1.0)
DISTRACTOR_COLOURS = ((0.95, 0.8, 0.2, 1.0), (0.6, 0.3, 0.8, 1.0), (0.95, 0.55, 0.15, 1.0), (0.3, 0.8, 0.85, 1.0))


@dataclasses.dataclass(frozen=True)
class Goal:
    """Objects (any of ``bodies``) to bring to target poses (x, y, yaw); ``symmetry`` is the
    yaw period in radians (``2 pi`` = none, ``ANY_YAW`` = yaw ignored)."""

    bodies: tuple[str, ...]
    targets: tuple[tuple[float, float, float], ...]
    symmetry: float


def pose_matches(pose: np.ndarray, target: np.ndarray, symmetry: float) -> bool:
    """Centre within ``POS_TOL`` and yaw within ``YAW_TOL`` modulo ``symmetry``."""
    if np.hypot(pose[0] - target[0], pose[1] - target[1]) > POS_TOL:
        return False
    if symmetry == ANY_YAW:
        return True
    diff = (pose[2] - target[2]) % symmetry
    return min(diff, symmetry - diff) <= YAW_TOL


def score(goal: Goal, poses: dict[str, np.ndarray]) -> float:
    """Fraction of ``goal.bodies`` at a distinct target (greedy matching, as Ravens)."""
    free = list(goal.targets)
    matched = 0
    for name in goal.bodies:
        for t in free:
            if pose_matches(poses[name], np.asarray(t), goal.symmetry):
                free.remove(t)
                matched += 1
                break
    return matched / len(goal.bodies)


def relative_yaw(yaw: float, target_yaw: float, symmetry: float) -> float:
    """The smallest turn bringing ``yaw`` to ``target_yaw`` modulo ``symmetry``."""
    if symmetry == ANY_YAW:
        return 0.0
    diff = float(wrap(target_yaw - yaw))
    return float(wrap(diff - symmetry * round(diff / symmetry))) if symmetry < 2 * np.pi else diff


def place_for(pick: np.ndarray, pose: np.ndarray, target: np.ndarray, turn: float) -> np.ndarray:
    """The place action (x, y, yaw) that moves an object at ``pose`` picked at ``pick`` to ``target``."""
    c, s = math.cos(turn), math.sin(turn)
    off = np.asarray(pick[:2]) - pose[:2]
    return np.array([target[0] + c * off[0] - s * off[1], target[1] + s * off[0] + c * off[1], turn])


def box(x: float, y: float, hx: float, hy: float, hz: float, rgba) -> Part:
    return Part((x, y), (hx, hy, hz), tuple(rgba))


def outline(vertices: list[tuple[float, float]], thickness: float, height: float, rgba) -> tuple[Part, ...]:
    """Walls of an axis-aligned polygon: one box per edge, centred on it, ends overlapping."""
    parts = []
    for (x0, y0), (x1, y1) in zip(vertices, vertices[1:] + vertices[:1], strict=True):
        hx = abs(x1 - x0) / 2 + thickness / 2
        hy = abs(y1 - y0) / 2 + thickness / 2
        parts.append(box((x0 + x1) / 2, (y0 + y1) / 2, hx, hy, height / 2, rgba))
    return tuple(parts)


def ring(inner: float, thickness: float, height: float, rgba, sides: int = 8) -> tuple[Part, ...]:
    """A bowl-like ring: ``sides`` wall boxes around a free disc of radius ``inner``."""
    half_len = (inner + thickness) * math.tan(math.pi / sides)
    r = inner + thickness / 2
    return tuple(
        Part((r * math.cos(a), r * math.sin(a)), (thickness / 2, half_len, height / 2), tuple(rgba), yaw=a)
        for a in (2 * math.pi * k / sides for k in range(sides))
    )


class Task(abc.ABC):
    """A tabletop task: ``layout`` per seed, its ``goal``, an ``oracle`` action."""

    name: str
    max_steps: int

    def __init__(self, ws: Workspace):
        self.ws = ws

    @abc.abstractmethod
    def layout(self, rng: np.random.Generator) -> tuple[tuple[Body, ...], Goal]:
        """Bodies to build and the goal of one episode."""

    def sample_poses(self, rng: np.random.Generator, radii: list[float]) -> list[tuple[float, float, float]]:
        """Non-overlapping random poses (bounding circles of ``radii``) inside the workspace."""
        for _ in range(1000):
            poses = []
            for r in radii:
                x = rng.uniform(self.ws.x_range[0] + r, self.ws.x_range[1] - r)
                y = rng.uniform(self.ws.y_range[0] + r, self.ws.y_range[1] - r)
                poses.append((x, y, rng.uniform(-np.pi, np.pi)))
            if all(np.hypot(a[0] - b[0], a[1] - b[1]) > ra + rb
                   for i, (a, ra) in enumerate(zip(poses, radii, strict=True))
                   for b, rb in zip(poses[i + 1:], radii[i + 1:], strict=True)):
                return poses
        raise RuntimeError(f"{self.name}: could not place {len(radii)} objects without overlap")

    def oracle(self, scene: Scene, goal: Goal, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray] | None:
        """Pick a random point on the first unmatched goal object; place it at a free target."""
        poses = {name: scene.pose(name) for name in goal.bodies}
        free = [np.asarray(t) for t in goal.targets]
        todo = []
        for name in goal.bodies:
            hit = next((i for i, t in enumerate(free) if pose_matches(poses[name], t, goal.symmetry)), None)
            if hit is None:
                todo.append(name)
            else:
                free.pop(hit)
        if not todo or not free:
            return None
        name = todo[0]
        pick = self.surface_point(scene, name, rng)
        target = min(free, key=lambda t: abs(relative_yaw(poses[name][2], t[2], goal.symmetry)))
        turn = relative_yaw(poses[name][2], target[2], goal.symmetry)
        return pick, place_for(pick, poses[name], target, turn)

    @staticmethod
    def surface_point(scene: Scene, name: str, rng: np.random.Generator) -> np.ndarray:
        """A uniformly random point on the top of body ``name``'s parts (area-weighted)."""
        parts = scene.bodies[name].parts
        areas = np.array([p.half[0] * p.half[1] for p in parts])
        part = parts[rng.choice(len(parts), p=areas / areas.sum())]
        local = np.array(part.pos) + rng.uniform(-0.8, 0.8, 2) * np.array(part.half[:2])  # off the edges
        x, y, yaw = scene.pose(name)
        c, s = math.cos(yaw), math.sin(yaw)
        return np.array([x + c * local[0] - s * local[1], y + s * local[0] + c * local[1]])


# L block: a 10 x 4 cm bar with a 4 x 4 cm foot, 4 cm tall; body origin at the bar's centre.
_L_PARTS = ((0.0, 0.0, 0.05, 0.02), (0.03, 0.04, 0.02, 0.02))
_L_OUTLINE = [(-0.05, -0.02), (0.05, -0.02), (0.05, 0.06), (0.01, 0.06), (0.01, 0.02), (-0.05, 0.02)]


def _grow(vertices: list[tuple[float, float]], d: float) -> list[tuple[float, float]]:
    """Offset the L outline outward by ``d`` (its one reflex vertex moves inward-diagonal)."""
    signs = [(-1, -1), (1, -1), (1, 1), (-1, 1), (-1, 1), (-1, 1)]
    return [(x + sx * d, y + sy * d) for (x, y), (sx, sy) in zip(vertices, signs, strict=True)]


class BlockInsertion(Task):
    """An L-shaped block into an L-shaped fixture (low walls, 6 mm clearance); rotation matters."""

    name = "block-insertion"
    max_steps = 3

    def layout(self, rng):
        (bx, by, byaw), (fx, fy, fyaw) = self.sample_poses(rng, [0.08, 0.1])
        block = Body("block", tuple(box(x, y, hx, hy, 0.02, BLUE) for x, y, hx, hy in _L_PARTS), (bx, by, byaw))
        walls = outline(_grow(_L_OUTLINE, 0.006 + 0.005), 0.01, 0.02, GREEN)
        fixture = Body("fixture", walls, (fx, fy, fyaw), movable=False)
        return (block, fixture), Goal(("block",), ((fx, fy, fyaw),), 2 * np.pi)


class PlaceRedInGreen(Task):
    """Red blocks into green bowls (rings) among distractor blocks and bowls of other colours."""

    name = "place-red-in-green"
    max_steps = 3  # one more than the largest number of red blocks

    def layout(self, rng):
        n_blocks, n_bowls = int(rng.integers(1, 3)), int(rng.integers(1, 3))
        n_bowls = max(n_bowls, n_blocks)
        n_dist = int(rng.integers(0, 3))
        kinds = ["block"] * n_blocks + ["bowl"] * n_bowls + ["distractor"] * n_dist
        poses = self.sample_poses(rng, [0.05 if k != "bowl" else 0.08 for k in kinds])
        bodies, blocks, bowls = [], [], []
        for i, (kind, pose) in enumerate(zip(kinds, poses, strict=True)):
            if kind == "bowl":
                bodies.append(Body(f"bowl{i}", ring(0.045, 0.01, 0.03, GREEN), pose, movable=False))
                bowls.append((pose[0], pose[1], 0.0))
            else:
                colour = RED if kind == "block" else DISTRACTOR_COLOURS[int(rng.integers(len(DISTRACTOR_COLOURS)))]
                bodies.append(Body(f"block{i}", (box(0, 0, 0.02, 0.02, 0.02, colour),), pose))
                if kind == "block":
                    blocks.append(f"block{i}")
        return tuple(bodies), Goal(tuple(blocks), tuple(bowls), ANY_YAW)


class AlignBoxCorner(Task):
    """A box of random size aligned to an L-shaped corner marker: two corner poses, each valid
    up to the box's 180 degree symmetry (four placements)."""

    name = "align-box-corner"
    max_steps = 3

    def layout(self, rng):
        hx, hy = rng.uniform(0.025, 0.06, 2)
        (bx, by, byaw), (mx, my, myaw) = self.sample_poses(rng, [0.09, 0.09])
        box_body = Body("box", (box(0, 0, hx, hy, 0.02, BLUE),), (bx, by, byaw))
        # marker: corner at the body origin, arms along +x and +y, 2 mm tall
        arms = (box(0.04, -0.005, 0.045, 0.005, 0.001, GREY), box(-0.005, 0.04, 0.005, 0.045, 0.001, GREY))
        marker = Body("marker", arms, (mx, my, myaw), movable=False)
        c, s = math.cos(myaw), math.sin(myaw)
        targets = []
        for (ax, ay), yaw in (((hx, hy), myaw), ((hy, hx), myaw + np.pi / 2)):
            targets.append((mx + c * ax - s * ay, my + s * ax + c * ay, float(wrap(yaw))))
        return (box_body, marker), Goal(("box",), tuple(targets), np.pi)


TASKS: dict[str, type[Task]] = {t.name: t for t in (BlockInsertion, PlaceRedInGreen, AlignBoxCorner)}
