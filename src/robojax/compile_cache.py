"""JAX's persistent compilation cache, on by default: a repeated run loads its compiled programs
from disk instead of compiling them again.

The cache lives in ``$XDG_CACHE_HOME/robojax/jax`` (``~/.cache/robojax/jax``). The environment
variable ``ROBOJAX_COMPILATION_CACHE`` moves it (a directory) or turns it off (``off``, ``0``,
``false`` or empty); ``set_compilation_cache`` does the same from Python. A cache directory
chosen through JAX itself (``JAX_COMPILATION_CACHE_DIR``, ``jax.config``) is left as it is.
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from pathlib import Path

import jax
from jax.experimental.compilation_cache import compilation_cache

ENV_VAR = "ROBOJAX_COMPILATION_CACHE"
_OFF = ("", "0", "off", "false", "no")
_EVENTS = {
    "/jax/compilation_cache/cache_hits": "hits",
    "/jax/compilation_cache/cache_misses": "misses",  # compiled and written to the cache
}
_counts: Counter[str] = Counter()
_lock = threading.Lock()  # the evaluation compiles in a second thread


def default_dir() -> Path | None:
    """The cache directory that ``ROBOJAX_COMPILATION_CACHE`` / ``XDG_CACHE_HOME`` select (None: off)."""
    value = os.environ.get(ENV_VAR)
    if value is not None:
        return None if value.strip().lower() in _OFF else Path(value).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "robojax" / "jax"


def set_compilation_cache(path: str | Path | None) -> None:
    """Cache compiled programs in ``path`` from now on (created on first write); ``None`` turns it off."""
    if path is None:
        jax.config.update("jax_enable_compilation_cache", False)
    else:
        jax.config.update("jax_enable_compilation_cache", True)
        jax.config.update("jax_compilation_cache_dir", str(Path(path).expanduser()))
        # Small programs too: a warm start should compile nothing.
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    compilation_cache.reset_cache()  # JAX decides whether to use a cache once, at its first compile


def cache_dir() -> str | None:
    """The directory compiled programs are cached in now, or None when caching is off."""
    if not jax.config.jax_enable_compilation_cache:
        return None
    return jax.config.jax_compilation_cache_dir


def _count(event: str, **kwargs) -> None:
    name = _EVENTS.get(event)
    if name is not None:
        with _lock:
            _counts[name] += 1


def counts() -> dict[str, int]:
    """Persistent-cache hits and misses (programs compiled and stored) so far in this process."""
    with _lock:
        return {"hits": _counts["hits"], "misses": _counts["misses"]}


def report(since: dict[str, int]) -> dict[str, object]:
    """``summary.json`` fields: the cache directory and its hits/misses since the ``counts()`` ``since``."""
    now = counts()
    return {
        "compile_cache_dir": cache_dir(),
        "compile_cache_hits": now["hits"] - since["hits"],
        "compile_cache_misses": now["misses"] - since["misses"],
    }


def setup() -> None:
    """Called once on ``import robojax``: the default cache unless JAX's own cache dir is set."""
    jax.monitoring.register_event_listener(_count)
    if jax.config.jax_compilation_cache_dir is None:
        set_compilation_cache(default_dir())
