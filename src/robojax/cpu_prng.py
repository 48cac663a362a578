"""Threefry random numbers as one fused kernel on CPU instead of a five-step loop.

On CPU, JAX lowers every ``threefry2x32`` call (each ``random.split``, ``normal``, ``categorical``,
...) to a ``while`` loop of five rounds, to keep compile times of huge programs down. XLA's CPU
runtime then runs each round as about 16 separate kernels and copies: in a PPO rollout step on
CartPole that loop was 80 of 171 kernels. The unrolled form, which JAX already uses on GPU,
computes the same random bits (the same function, written without the loop) and fuses into one
kernel: measured on an Intel Xeon, PPO's rollout step drops to 56 kernels and the large CartPole
setting (2048 envs) trains 1.04-1.08x faster, with the same compile time
(``benchmarks/threefry_cpu.py``, ``benchmarks/RESULTS.md``). Float operations fused next to
the draws may round differently (SAC on Pendulum: up to ~5e-7 after 20 train steps), so runs
are not bit-comparable with runs made with JAX's loop; runs stay deterministic.
"""

from __future__ import annotations

import warnings


def use_unrolled_threefry_on_cpu(unrolled: bool = True) -> bool:
    """Register JAX's unrolled threefry lowering for the CPU platform (``unrolled=False``: JAX's
    own rolled one again, for comparisons); False if this JAX lacks them.

    JAX has no public switch for this, so it goes through the private lowering registry; a JAX
    that moved those names keeps its default (slower, same numbers) and a warning says so.
    Programs lowered before the call keep the lowering they had.
    """
    try:
        from jax._src.interpreters import mlir
        from jax._src.random import threefry2x32

        rule = threefry2x32._threefry2x32_lowering_rule if unrolled else threefry2x32._threefry2x32_cpu_lowering_rule
        mlir.register_lowering(threefry2x32.threefry2x32_p, rule, platform="cpu")
    except (ImportError, AttributeError) as e:
        warnings.warn(f"robojax: keeping JAX's rolled threefry loop on CPU ({e})", RuntimeWarning, stacklevel=2)
        return False
    return True
