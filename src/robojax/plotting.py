"""Learning-curve figures (matplotlib, the optional ``plot`` extra)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from robojax.errors import RobojaxError
from robojax.results import Series
from robojax.stats import bootstrap_ci

X_AXES = {"env_steps": "env steps (per seed)", "wall_s": "wall-clock time (s)"}


def plot_curves(series: list[Series], metric: str, x: str, out: str | Path, confidence: float = 0.95) -> Path:
    """Draw one line per series (mean over seeds) with a shaded bootstrap confidence interval.

    Writes PNG or SVG, chosen by the suffix of ``out``; returns the path.
    """
    out = Path(out)
    if out.suffix.lower() not in (".png", ".svg"):
        raise RobojaxError(f"--out {str(out)!r}: the file must end in .png or .svg")
    if x not in X_AXES:
        raise RobojaxError(f"--x {x!r}: allowed values are {list(X_AXES)}")
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only, no display needed
        import matplotlib.pyplot as plt
    except ImportError:
        raise RobojaxError("robojax plot needs matplotlib: pip install 'robojax[plot]'") from None

    fig, ax = plt.subplots(figsize=(7.5, 4.5), layout="constrained")
    seeds = sorted({s.values.shape[1] for s in series})
    for s in series:
        xs = s.env_steps if x == "env_steps" else s.wall_s
        (line,) = ax.plot(xs, s.values.mean(axis=1), label=s.label, linewidth=1.6)
        low, high = bootstrap_ci(s.values, np.mean, confidence)
        if not np.all(np.isnan(low)):
            ax.fill_between(xs, low, high, color=line.get_color(), alpha=0.2, linewidth=0)
    ax.set_xlabel(X_AXES[x])
    ax.set_ylabel(metric)
    ax.grid(alpha=0.3)
    band = f"; shaded: {confidence:.0%} bootstrap CI over seeds" if max(seeds) > 1 else ""
    ax.set_title("one seed" if seeds == [1] else f"mean over {'/'.join(map(str, seeds))} seeds{band}", fontsize=10)
    ax.legend(fontsize=8, loc="best")
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=130)
    plt.close(fig)
    return out
