"""A MuJoCo tabletop built from primitives, with a suction pick-and-place primitive.

Objects are bodies made of boxes (``Part``); movable ones have a free joint, fixtures are
fixed to the world. The suction cup is a mocap body that collides with nothing; grasping turns
on a weld between the cup and the touched object. Every motion is a straight line at a fixed
speed per simulator step, bounded by a step count, so results never depend on machine speed.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from robojax.errors import EnvError

try:
    import mujoco
except ImportError:  # optional: only this suite needs it, checked when a scene is built
    mujoco = None

TIMESTEP = 0.002
SPEED = 0.002  # metres of suction-cup travel per simulator step (1 m/s)
TURN = math.radians(1.0)  # radians of suction-cup yaw per simulator step
HOVER = 0.15  # travel height of the suction cup above the table (m)
SETTLE_STEPS = 250
TABLE_RGB = (0.5, 0.45, 0.4)


@dataclasses.dataclass(frozen=True)
class Part:
    """A box ``half`` (hx, hy, hz) at ``pos`` (x, y) turned by ``yaw`` in its body's frame,
    resting on the body's base."""

    pos: tuple[float, float]
    half: tuple[float, float, float]
    rgba: tuple[float, float, float, float]
    yaw: float = 0.0


@dataclasses.dataclass(frozen=True)
class Body:
    """An object on the table at pose (x, y, yaw); ``movable`` bodies have a free joint."""

    name: str
    parts: tuple[Part, ...]
    pose: tuple[float, float, float]
    movable: bool = True


def yaw_of(quat: np.ndarray) -> float:
    """Yaw (rotation about z) of a MuJoCo quaternion (w, x, y, z)."""
    w, x, y, z = quat
    return math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))


def wrap(angle: float | np.ndarray) -> float | np.ndarray:
    """Angle in [-pi, pi)."""
    return (np.asarray(angle) + np.pi) % (2 * np.pi) - np.pi


def _mjcf(bodies: tuple[Body, ...]) -> str:
    xml = []
    for body in bodies:
        x, y, yaw = body.pose
        geoms = "".join(
            f'<geom type="box" pos="{p.pos[0]} {p.pos[1]} {p.half[2]}" size="{p.half[0]} {p.half[1]} {p.half[2]}" euler="0 0 {p.yaw}" '
            f'rgba="{" ".join(map(str, p.rgba))}" friction="1.0 0.01 0.001" density="500"/>'
            for p in body.parts
        )
        joint = "<freejoint/>" if body.movable else ""
        lift = 0.001 if body.movable else 0.0
        xml.append(f'<body name="{body.name}" pos="{x} {y} {lift}" euler="0 0 {yaw}">{joint}{geoms}</body>')
    welds = "".join(
        f'<weld name="grip_{b.name}" body1="suction" body2="{b.name}" active="false" solref="0.004 1"/>'
        for b in bodies
        if b.movable
    )
    return f"""<mujoco>
  <compiler angle="radian"/>
  <option timestep="{TIMESTEP}" integrator="implicitfast"/>
  <worldbody>
    <geom name="table" type="plane" size="2 2 0.1" rgba="{" ".join(map(str, TABLE_RGB))} 1"/>
    <body name="suction" mocap="true" pos="0.5 0 {HOVER}">
      <geom type="cylinder" size="0.01 0.02" pos="0 0 0.02" contype="0" conaffinity="0" rgba="0.2 0.2 0.2 1"/>
    </body>
    {''.join(xml)}
  </worldbody>
  <equality>{welds}</equality>
</mujoco>"""


class Scene:
    """A compiled tabletop scene: body poses, ray casts and the suction primitive."""

    def __init__(self, bodies: tuple[Body, ...]):
        if mujoco is None:
            raise EnvError("the tabletop suite needs MuJoCo: pip install 'robojax[tabletop]'")
        self.bodies = {b.name: b for b in bodies}
        self.model = mujoco.MjModel.from_xml_string(_mjcf(bodies))
        self.data = mujoco.MjData(self.model)
        self._cup = self.model.body("suction").mocapid[0]
        mujoco.mj_forward(self.model, self.data)
        self.settle()

    # -- state -------------------------------------------------------------------------

    def pose(self, name: str) -> np.ndarray:
        """(x, y, yaw) of a body."""
        body = self.data.body(name)
        return np.array([body.xpos[0], body.xpos[1], yaw_of(body.xquat)])

    def height(self, name: str) -> float:
        """z of a body's base."""
        return float(self.data.body(name).xpos[2])

    def ray_down(self, x: float, y: float) -> tuple[str | None, float]:
        """The body name (None for the table) and the surface height under (x, y)."""
        geomid = np.zeros(1, np.int32)
        dist = mujoco.mj_ray(self.model, self.data, np.array([x, y, 1.0]), np.array([0.0, 0.0, -1.0]),
                             None, 1, -1, geomid)
        if geomid[0] < 0:
            return None, 0.0
        body = self.model.body(self.model.geom_bodyid[geomid[0]]).name
        return (body if body in self.bodies else None), 1.0 - dist

    def contacts(self, name: str) -> bool:
        """Whether body ``name`` touches anything else."""
        bid = self.model.body(name).id
        for c in self.data.contact[: self.data.ncon]:
            b1, b2 = self.model.geom_bodyid[c.geom1], self.model.geom_bodyid[c.geom2]
            if (b1 == bid) != (b2 == bid):
                return True
        return False

    # -- motion ------------------------------------------------------------------------

    def step(self, n: int = 1) -> None:
        mujoco.mj_step(self.model, self.data, nstep=n)

    def settle(self, steps: int = SETTLE_STEPS) -> None:
        self.step(steps)

    def _cup_pose(self) -> tuple[np.ndarray, float]:
        return self.data.mocap_pos[self._cup].copy(), yaw_of(self.data.mocap_quat[self._cup])

    def _set_cup(self, pos: np.ndarray, yaw: float) -> None:
        self.data.mocap_pos[self._cup] = pos
        self.data.mocap_quat[self._cup] = [math.cos(yaw / 2), 0.0, 0.0, math.sin(yaw / 2)]

    def move(self, target: np.ndarray, yaw: float | None = None, stop=None) -> bool:
        """Move the cup in a straight line (and turn it to ``yaw``) at the fixed speed, one
        simulator step per increment; ``stop()`` ends the motion early. Returns whether it stopped early."""
        start, start_yaw = self._cup_pose()
        yaw = start_yaw if yaw is None else yaw
        turn = float(wrap(yaw - start_yaw))
        n = max(1, math.ceil(max(np.linalg.norm(target - start) / SPEED, abs(turn) / TURN)))
        for i in range(1, n + 1):
            self._set_cup(start + (target - start) * i / n, start_yaw + turn * i / n)
            self.step()
            if stop is not None and stop():
                return True
        return False

    def _grip(self, name: str | None) -> None:
        """Weld ``name`` to the cup where it is now (None releases everything)."""
        for i in range(self.model.neq):
            self.data.eq_active[i] = 0
        if name is None:
            return
        eq = self.model.equality(f"grip_{name}").id
        cup_pos, cup_yaw = self._cup_pose()
        body = self.data.body(name)
        cup_rot = np.zeros(9)
        mujoco.mju_quat2Mat(cup_rot, self.data.mocap_quat[self._cup])
        rel_pos = cup_rot.reshape(3, 3).T @ (body.xpos - cup_pos)
        cup_inv = np.zeros(4)
        mujoco.mju_negQuat(cup_inv, self.data.mocap_quat[self._cup])
        rel_quat = np.zeros(4)
        mujoco.mju_mulQuat(rel_quat, cup_inv, body.xquat)
        # weld data: anchor (3), relative pose of body2 in body1 (pos 3, quat 4), torque scale
        self.model.eq_data[eq, 3:6] = rel_pos
        self.model.eq_data[eq, 6:10] = rel_quat
        self.model.eq_data[eq, 10] = 1.0
        self.data.eq_active[eq] = 1

    def pick_and_place(self, pick: np.ndarray, place: np.ndarray) -> str | None:
        """Suction primitive: ``pick`` (x, y), ``place`` (x, y, yaw); the yaw turns the object
        about the suction point. Returns the picked body (None if nothing movable was touched)."""
        px, py = float(pick[0]), float(pick[1])
        name, top = self.ray_down(px, py)
        self.move(np.array([px, py, HOVER]), yaw=0.0)
        if name is None or not self.bodies[name].movable:
            return None
        self.move(np.array([px, py, top]))  # down to the surface the ray touched
        self._grip(name)
        self.move(np.array([px, py, HOVER]))
        self.move(np.array([place[0], place[1], HOVER]), yaw=float(place[2]))
        offset = top - self.height(name)  # cup height above the object's base
        floor = np.array([place[0], place[1], offset + 0.002])
        self.move(floor, stop=lambda: self.contacts(name))
        self._grip(None)
        self.move(np.array([place[0], place[1], HOVER]))
        self.settle()
        return name
