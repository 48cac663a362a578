"""Videos of evaluation episodes: record one episode with the current policy, write an MP4.

MuJoCo-based suites (Brax, Gymnasium MuJoCo, MetaWorld) render offscreen; without a display
robojax sets ``MUJOCO_GL=egl`` unless it is already set (see ``robojax/__init__.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import jax
import numpy as np

from robojax.envs.core import Env
from robojax.envs.host import HostEnv
from robojax.errors import RobojaxError

#: ``act(obs[1, ...], key) -> env_action[1, ...]``
ActFn = Callable[[jax.Array, jax.Array], jax.Array]
MAX_VIDEO_STEPS = 500


def record_episode(env: Env | HostEnv, act: ActFn, key: jax.Array, width: int = 320, height: int = 240) -> np.ndarray:
    """Frames ``(T, H, W, 3)`` uint8 of one episode (at most ``MAX_VIDEO_STEPS`` steps)."""
    max_steps = min(env.max_episode_steps or MAX_VIDEO_STEPS, MAX_VIDEO_STEPS)
    if isinstance(env, HostEnv):
        sim = env.create(1, render=True)
        try:
            obs = sim.reset(int(jax.random.randint(key, (), 0, 2**31 - 2)))
            frames = [sim.render()]
            for _ in range(max_steps):
                key, k = jax.random.split(key)
                step = sim.step(np.asarray(act(obs, k)))
                if step.terminated[0] or step.truncated[0]:
                    break  # the env has already reset: its frame belongs to the next episode
                frames.append(sim.render())
                obs = step.obs
        finally:
            sim.close()
        return np.stack(frames).astype(np.uint8)
    reset_key, key = jax.random.split(key)
    state, ts = env.reset(reset_key)
    step = jax.jit(env.step)
    states = [state]
    for _ in range(max_steps):
        key, k = jax.random.split(key)
        state, ts = step(state, act(jax.tree.map(lambda x: x[None], ts.obs), k)[0])
        if ts.done:
            break
        states.append(state)
    try:
        frames = env.render(states, width, height)
    except NotImplementedError as e:
        raise RobojaxError(str(e)) from e
    return np.stack(frames).astype(np.uint8)


def write_mp4(path: str | Path, frames: np.ndarray, fps: int = 30) -> Path:
    """Encode ``frames`` (T, H, W, 3) as H.264 MP4 (imageio with its bundled ffmpeg)."""
    try:
        import imageio.v2 as imageio
    except ImportError as e:
        raise RobojaxError("videos need imageio: pip install 'robojax[video]'") from e
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with imageio.get_writer(path, fps=fps, codec="libx264", macro_block_size=1, quality=7) as writer:
        for frame in frames:
            writer.append_data(frame)
    return path
