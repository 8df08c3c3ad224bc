"""PNG plots of an evaluation.

Built on :class:`matplotlib.figure.Figure` with an Agg canvas, never through ``pyplot``, as the
curriculum's plots are (``scaler/curriculum/plots.py`` says why).
"""

from __future__ import annotations

from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from scaler.evaluate.envs import FRONTIER_ACCURACY, EnvEvaluation

#: Above this many envs the legend would hide the lines.
MAX_LEGEND = 12


def accuracy_plot(evaluation: EnvEvaluation, out: Path) -> Path:
    """Accuracy against level, one line per env, with the Wilson intervals as bands."""
    figure = Figure(figsize=(8, 4.5), dpi=110, layout="tight")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    for env in evaluation.envs:
        levels = [r.level for r in env.levels]
        axes.plot(levels, [r.acc for r in env.levels], marker="o", label=env.env_id)
        axes.fill_between(
            levels, [r.low for r in env.levels], [r.high for r in env.levels], alpha=0.15
        )
    axes.axhline(FRONTIER_ACCURACY, color="grey", linewidth=0.8, linestyle="--")
    axes.set(xlabel="level", ylabel="accuracy", ylim=(-0.02, 1.02), title=evaluation.policy)
    if len(evaluation.envs) <= MAX_LEGEND:
        axes.legend(fontsize=8)
    figure.savefig(out)
    return out
