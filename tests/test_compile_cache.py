"""The persistent compilation cache: on by default in the user cache directory, movable and
switchable off through ROBOJAX_COMPILATION_CACHE, and a repeated run reports cache hits."""

import json
import os
import subprocess
import sys
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[1] / "src")


def _python(code: str, tmp_path: Path, **env: str) -> str:
    """Run ``code`` in a fresh interpreter (JAX reads its cache settings once per process)."""
    base = {k: v for k, v in os.environ.items() if k not in ("ROBOJAX_COMPILATION_CACHE", "JAX_COMPILATION_CACHE_DIR")}
    base.update(PYTHONPATH=os.pathsep.join([SRC, os.environ.get("PYTHONPATH", "")]), XDG_CACHE_HOME=str(tmp_path / "xdg"), **env)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=base, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout.strip().splitlines()[-1]


def test_cache_is_on_by_default_in_the_user_cache_dir(tmp_path):
    out = _python("import robojax, robojax.compile_cache as c; print(c.cache_dir())", tmp_path)
    assert out == str(tmp_path / "xdg" / "robojax" / "jax")


def test_env_var_moves_or_disables_the_cache(tmp_path):
    code = "import robojax, robojax.compile_cache as c; print(c.cache_dir())"
    assert _python(code, tmp_path, ROBOJAX_COMPILATION_CACHE=str(tmp_path / "elsewhere")) == str(tmp_path / "elsewhere")
    assert _python(code, tmp_path, ROBOJAX_COMPILATION_CACHE="off") == "None"


def test_jax_own_cache_dir_is_kept(tmp_path):
    code = "import robojax, robojax.compile_cache as c; print(c.cache_dir())"
    assert _python(code, tmp_path, JAX_COMPILATION_CACHE_DIR=str(tmp_path / "jaxs")) == str(tmp_path / "jaxs")


TRAIN_TWICE = """
import json, jax, robojax
from robojax import PPO, PPOConfig
from robojax.config import CheckpointConfig, EvalConfig, LogConfig
from robojax.models import NetworkConfig
config = PPOConfig(total_steps=256, num_envs=2, rollout_length=16, epochs=1, num_minibatches=2,
                   network=NetworkConfig(hidden_sizes=(8,)), eval=EvalConfig(interval=0, episodes=2),
                   logging=LogConfig(console=False, tensorboard=False), checkpoint=CheckpointConfig(interval=0))
first = PPO(config, "gymnax/CartPole-v1").train(run_dir=RUN + "/a").summary
jax.clear_caches()  # forget the in-memory executables: the second run can only load them from disk
second = PPO(config, "gymnax/CartPole-v1").train(run_dir=RUN + "/b").summary
keys = ("compile_cache_dir", "compile_cache_hits", "compile_cache_misses")
print(json.dumps([{k: s[k] for k in keys} for s in (first, second)]))
"""


def test_repeated_run_hits_the_cache_and_reports_it(tmp_path):
    cache = tmp_path / "cache"
    out = _python(f"RUN = {str(tmp_path)!r}\n" + TRAIN_TWICE, tmp_path, ROBOJAX_COMPILATION_CACHE=str(cache))
    first, second = json.loads(out)
    assert first["compile_cache_dir"] == str(cache) and any(cache.iterdir())
    assert first["compile_cache_hits"] == 0 and first["compile_cache_misses"] >= 3  # init, chunk, evaluation
    assert second["compile_cache_hits"] >= 3 and second["compile_cache_misses"] == 0

