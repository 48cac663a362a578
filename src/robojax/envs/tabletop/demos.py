"""Oracle demonstrations on disk.

Format (version 1), one directory per task:

- ``meta.json``: ``{"format": "robojax-tabletop-demos", "version": 1, "task": NAME,
  "pixel_size": metres, "image_shape": [H, W], "seeds": [...]}``, the seeds of the kept episodes;
- ``episode_SEED.npz`` per kept episode (``SEED`` zero-padded to 8 digits), ``T`` steps:
  ``color`` (T, H, W, 3) uint8 and ``height`` (T, H, W) float32 (metres) before each action,
  ``pick`` (T, 2) (x, y) metres, ``place`` (T, 3) (x, y, yaw) metres and radians (the yaw turns
  the object about the pick point), ``score`` (T,) after each action; ``seed`` scalar.

Only episodes the oracle solves (final score 1.0) are kept, as in Ravens; seeds are tried in
order from the start seed until enough are kept.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from robojax.envs.tabletop.env import TabletopEnv
from robojax.errors import ConfigError

FORMAT, VERSION = "robojax-tabletop-demos", 1


@dataclasses.dataclass
class Demos:
    """Demonstrations flattened to steps: ``color (N, H, W, 3)``, ``height (N, H, W)``,
    ``pick (N, 2)``, ``place (N, 3)``; ``seeds`` of the episodes they came from."""

    color: np.ndarray
    height: np.ndarray
    pick: np.ndarray
    place: np.ndarray
    seeds: list[int]


def run_oracle(env: TabletopEnv, seed: int) -> dict[str, np.ndarray]:
    """One oracle episode; arrays as stored in an episode file."""
    obs, steps, done = env.reset(seed), [], False
    while not done:
        action = env.oracle()
        if action is None:
            break
        pick, place = action
        nxt, _, done, info = env.step(pick, place)
        steps.append((obs, pick, place, info["score"]))
        obs = nxt
    return {
        "seed": np.int64(seed),
        "color": np.stack([s[0]["color"] for s in steps]) if steps else np.zeros((0, *env.ws.shape, 3), np.uint8),
        "height": np.stack([s[0]["height"] for s in steps]) if steps else np.zeros((0, *env.ws.shape), np.float32),
        "pick": np.array([s[1] for s in steps], np.float32).reshape(-1, 2),
        "place": np.array([s[2] for s in steps], np.float32).reshape(-1, 3),
        "score": np.array([s[3] for s in steps], np.float32),
    }


def generate(task: str, episodes: int, out: str | Path, seed: int = 0, pixel_size: float | None = None) -> Iterator[int]:
    """Write ``episodes`` solved oracle episodes to ``out``; yields after each kept episode."""
    if episodes < 1:
        raise ConfigError(f"--episodes={episodes}: must be >= 1")
    env = TabletopEnv(task) if pixel_size is None else TabletopEnv(task, pixel_size)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if (out / "meta.json").exists():
        raise ConfigError(f"{str(out)!r} already holds demonstrations; choose an empty directory")
    seeds, s = [], seed
    while len(seeds) < episodes:
        if s - seed > 10 * episodes + 100:
            raise RuntimeError(f"oracle solved only {len(seeds)} of {s - seed} {task} episodes")
        ep = run_oracle(env, s)
        if len(ep["score"]) and ep["score"][-1] >= 1.0:
            np.savez_compressed(out / f"episode_{s:08d}.npz", **ep)
            seeds.append(s)
            yield s
        s += 1
    meta = {"format": FORMAT, "version": VERSION, "task": env.task.name, "pixel_size": env.ws.pixel_size,
            "image_shape": list(env.ws.shape), "seeds": seeds}
    (out / "meta.json").write_text(json.dumps(meta, indent=1))


def load(path: str | Path, task: str, count: int, pixel_size: float) -> Demos:
    """The first ``count`` episodes of the demo directory ``path`` (checked against ``task``)."""
    path = Path(path)
    if not str(path) or not path.is_dir():
        raise ConfigError(f"demos.path={str(path)!r}: not a directory (write one with `robojax demos tabletop/{task} --out DIR`)")
    meta_file = path / "meta.json"
    if not meta_file.is_file():
        raise ConfigError(f"demos.path={str(path)!r}: no meta.json, not a demo directory (empty or unfinished?)")
    meta = json.loads(meta_file.read_text())
    if meta.get("format") != FORMAT or meta.get("version") != VERSION:
        raise ConfigError(f"demos.path={str(path)!r}: unknown format {meta.get('format')!r} v{meta.get('version')!r}")
    if meta["task"] != task:
        raise ConfigError(f"demos.path={str(path)!r} holds {meta['task']!r} demos, but the env is tabletop/{task}")
    if not np.isclose(meta["pixel_size"], pixel_size):
        raise ConfigError(f"demos.path={str(path)!r}: pixel_size {meta['pixel_size']} differs from the env's {pixel_size}")
    if not 1 <= count <= len(meta["seeds"]):
        raise ConfigError(f"demos.count={count}: must be between 1 and the {len(meta['seeds'])} episodes in {str(path)!r}")
    eps = []
    for s in meta["seeds"][:count]:
        f = path / f"episode_{s:08d}.npz"
        if not f.is_file():
            raise ConfigError(f"demos.path={str(path)!r}: meta.json lists seed {s} but {f.name} is missing")
        with np.load(f) as z:
            eps.append({k: z[k] for k in ("color", "height", "pick", "place")})
    cat = {k: np.concatenate([e[k] for e in eps]) for k in eps[0]}
    return Demos(cat["color"], cat["height"], cat["pick"], cat["place"], list(meta["seeds"][:count]))
