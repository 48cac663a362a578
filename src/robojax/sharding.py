"""The device mesh: seeds x data parallelism with ``jax.shard_map``, and the data-axis reductions.

On a ``mesh.seeds x mesh.data`` mesh every device runs the same fused train program on its
share: ``num_seeds / mesh.seeds`` seeds and, of each seed, ``num_envs / mesh.data`` envs (and
SAC's replay shard). Parameters and optimizer state are replicated over ``data``.

Agents stay unaware of the mesh except through ``reduce`` (and ``mean_grad``,
``data_shards``, ``device_rows`` built on it): inside the program, a value that varies over
the data axis (computed from this device's envs) is averaged over it, and anything else is
left alone. Outside a data mesh these are the identity, so the same update code runs on one
device. Gradients are taken of the *averaged* loss: with ``shard_map``'s ``check_vma`` the
gradient of a per-device loss with respect to replicated parameters comes back summed over
devices, so averaging gradients afterwards would leave a ``D``-times too large update.

A 1 x 1 mesh in one process is today's plain ``jit`` of the seed-vmapped program.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import jax
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import AxisType, Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from robojax.errors import ConfigError

if TYPE_CHECKING:
    from robojax.agents.base import Agent

SEEDS, DATA = "seeds", "data"


def _varies(x: Any) -> bool:
    """Whether ``x`` differs between the devices of the data axis (a per-device share's value)."""
    return DATA in jax.typeof(x).manual_axis_type.varying


def reduce(tree: Any) -> Any:
    """Mean over the data axis of every leaf that varies over it; the identity elsewhere.

    With equal shares per device, the mean of per-device means is the global mean.
    """
    return jax.tree.map(lambda x: jax.lax.pmean(x, DATA) if _varies(x) else x, tree)


def data_shards(like: jax.Array) -> int:
    """How many devices share the batch ``like`` is part of (1 outside a data mesh)."""
    return jax.lax.axis_size(DATA) if _varies(like) else 1


def mean_grad(loss_fn: Callable[..., Any], has_aux: bool = False) -> Callable[..., Any]:
    """``jax.grad`` of ``loss_fn`` averaged over the data axis (its aux outputs averaged too).

    Differentiating the averaged loss gives the mean gradient, replicated on every device.
    """
    return jax.grad(lambda *args, **kwargs: reduce(loss_fn(*args, **kwargs)), has_aux=has_aux)


def vary_like(x: jax.Array, like: jax.Array) -> jax.Array:
    """``x`` typed as varying over the mesh axes that ``like`` varies over (e.g. a loop carry)."""
    axes = tuple(sorted(jax.typeof(like).manual_axis_type.varying - jax.typeof(x).manual_axis_type.varying))
    return jax.lax.pcast(x, axes, to="varying") if axes else x


def device_rows(draw: Callable[[tuple[int, ...]], jax.Array], like: jax.Array) -> jax.Array:
    """``draw(like.shape)``, or on a data mesh this device's rows of ``draw`` for the whole batch.

    Random numbers for a batch split over devices: with the same key, D devices use exactly
    the numbers one device would for the whole batch.
    """
    n = data_shards(like)
    if n == 1:
        return draw(like.shape)
    rows = like.shape[0]
    full = draw((n * rows, *like.shape[1:]))
    return jax.lax.dynamic_slice_in_dim(full, jax.lax.axis_index(DATA) * rows, rows)


def _put(tree: Any, shardings: Any) -> Any:
    """Global arrays from host values that every process holds in full (each takes its shards)."""
    return jax.tree.map(
        lambda x, s: jax.make_array_from_callback(np.shape(x), s, lambda idx: np.asarray(x)[idx]), tree, shardings
    )


def map_seeds(fn, num_seeds: int, in_axes=0):
    """``jax.vmap(fn)`` over the leading seed axis; with one seed, index and re-add the axis instead.

    A batch of one still makes every matmul a batched one, which costs about 10% on CPU.
    """
    if num_seeds > 1:
        return jax.vmap(fn, in_axes=in_axes)
    axes = in_axes if isinstance(in_axes, tuple) else None

    def single(*args):
        args = [a if axes is not None and axes[i] is None else jax.tree.map(lambda x: x[0], a) for i, a in enumerate(args)]
        return jax.tree.map(lambda x: x[None], fn(*args))

    return single


class Placement:
    """Where the train state lives and the train program runs (``mesh.seeds x mesh.data`` devices).

    ``mesh`` is ``None`` for a 1 x 1 mesh in one process: plain ``jit``, nothing sharded.
    """

    def __init__(self, agent: Agent):
        cfg = agent.config.mesh
        self.agent = agent
        # The leading axis holds every run: swept settings x seeds (``num_runs``).
        self.num_seeds, self.data = agent.config.num_runs, cfg.data
        self.mesh: Mesh | None = None
        size, devices = cfg.seeds * cfg.data, jax.devices()
        if size == 1 and jax.process_count() == 1:
            return
        if not agent.loop.jittable:
            raise ConfigError(f"mesh.seeds={cfg.seeds}, mesh.data={cfg.data}: a device mesh needs a JAX env (gymnax, brax)")
        if size > len(devices):
            raise ConfigError(
                f"mesh.seeds * mesh.data = {cfg.seeds} * {cfg.data} = {size} devices, but only {len(devices)} "
                f"{devices[0].platform} device(s) are present"
            )
        if jax.process_count() > 1 and size != len(devices):
            raise ConfigError(
                f"mesh.seeds * mesh.data = {size}: a run of {jax.process_count()} processes must use all "
                f"{len(devices)} devices"
            )
        if jax.process_count() > 1 and agent.config.eval.video:
            raise ConfigError("eval.video=true: a multi-process run records no videos; use robojax eval RUN_DIR --video")
        grid = np.asarray(devices[:size]).reshape(cfg.seeds, cfg.data)
        self.mesh = Mesh(grid, (SEEDS, DATA), axis_types=(AxisType.Auto, AxisType.Auto))
        self.local_seeds = self.num_seeds // cfg.seeds

    @property
    def is_main(self) -> bool:
        """Whether this process writes logs, evaluations, videos and checkpoints (process 0)."""
        return jax.process_index() == 0

    def specs(self, state: Any) -> Any:
        """Partition specs of a seed-stacked train state: seeds on axis 0, env-sharded parts on axis 1."""
        flags = self.agent.data_sharded(state)
        split = self.data > 1  # a size-1 data axis stays unnamed: nothing to reduce over
        return jax.tree.map(lambda f, _: P(SEEDS, DATA) if f and split else P(SEEDS), flags, state)

    def shardings(self, state: Any) -> Any:
        """``specs`` as ``NamedSharding``s of this mesh."""
        return jax.tree.map(lambda spec: NamedSharding(self.mesh, spec), self.specs(state))

    def init(self, init: Callable[[jax.Array], Any], keys: jax.Array) -> Any:
        """``jit(init)(keys)``, created directly in its place on the mesh.

        It runs once: compiled without optimisation, in about half the time.
        """
        jitted = jax.jit(init) if self.mesh is None else jax.jit(init, out_shardings=self.shardings(jax.eval_shape(init, keys)))
        keys = self.replicate(keys)
        return jitted.lower(keys).compile(compiler_options={"xla_backend_optimization_level": 0})(keys)

    def place(self, state: Any) -> Any:
        """Host arrays of the whole state (e.g. a restored checkpoint) -> arrays on the mesh."""
        return state if self.mesh is None else _put(state, self.shardings(state))

    def host_like(self, state: Any) -> Any:
        """Host stand-ins (shape and dtype, no memory) for arrays that may span other processes."""
        if self.mesh is None:
            return state
        return jax.tree.map(lambda x: np.broadcast_to(np.zeros((), x.dtype), x.shape), state)

    def replicate(self, x: Any) -> Any:
        """A small input every device needs (keys, step counts) as one array replicated on the mesh."""
        return x if self.mesh is None else _put(x, jax.tree.map(lambda _: NamedSharding(self.mesh, P()), x))

    def train_step(self, step: Callable[[Any], tuple[Any, dict]]) -> Callable[[Any], tuple[Any, dict]]:
        """``step`` for one device's share: on a data mesh each device draws its own randomness
        (the key folded with its index; the key carried on stays replicated) and the metrics are
        averaged over devices."""
        if self.mesh is None or self.data == 1:
            return step

        def shared(state):
            key, local = jax.random.split(state.key)
            state, metrics = step(state.replace(key=jax.random.fold_in(local, jax.lax.axis_index(DATA))))
            return state.replace(key=key), reduce(metrics)

        return shared

    def jit_over_seeds(self, fn: Callable, state: Any) -> Callable:
        """``jit`` of ``fn(state_of_one_seed, n) -> (state, metrics)`` mapped over the seeds of ``state``.

        On a mesh: a ``shard_map`` where each device maps ``fn`` over its own seeds and envs.
        """
        if self.mesh is None:
            return jax.jit(map_seeds(fn, self.num_seeds, in_axes=(0, None)))
        specs = self.specs(state)
        body = map_seeds(fn, self.local_seeds, in_axes=(0, None))
        return jax.jit(jax.shard_map(body, mesh=self.mesh, in_specs=(specs, P()), out_specs=(specs, P(SEEDS))))

    def fetch(self, tree: Any) -> Any:
        """NumPy copies of (global) arrays on every process; a collective when arrays span processes."""
        if self.mesh is None or jax.process_count() == 1:
            return jax.device_get(tree)
        return multihost_utils.process_allgather(tree, tiled=True)

    def agree(self, flag: bool) -> bool:
        """Whether ``flag`` is true on any process (each process's own flag with one process)."""
        if jax.process_count() == 1:
            return flag
        return bool(np.any(multihost_utils.process_allgather(np.asarray(flag))))

    def sync(self, name: str) -> None:
        """Wait until every process gets here (after compiling: gloo wants processes close in time)."""
        if jax.process_count() > 1:
            multihost_utils.sync_global_devices(name)
