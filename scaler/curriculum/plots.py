"""PNG plots of a curriculum run, from its per-step metrics records.

Figures are built on :class:`matplotlib.figure.Figure` with an Agg canvas, never through
``pyplot``: pyplot keeps global figure state and may pick an interactive backend, and these
functions run inside a library, sometimes in worker threads. No matplotlib setting is changed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import ListedColormap, to_hex
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from scaler.curriculum.report import (
    Metrics,
    active_steps,
    mean_normalized_difficulty,
    require_metrics,
    retirements,
    step_of,
)

DPI = 110
#: Steps in the rolling mean drawn over noisy per-step series.
ROLLING_WINDOW = 10
#: Above this many envs a per-env legend is a wall of text: the envs that got furthest keep
#: their colours and legend entries, the rest are drawn in grey as one entry.
MAX_ENV_LEGEND = 12
_OTHERS_COLOUR = "#b0b0b0"
#: Above this many envs the raster's rows are too thin for labels to be read.
MAX_ROW_LABELS = 40

#: The core's retirement reasons keep one colour and marker across runs and plots, so figures
#: can be compared at a glance; reasons that plugins add get the spare colours in name order.
_REASON_STYLE: dict[str, tuple[str, str]] = {
    "zero-accuracy": ("#d62728", "X"),
    "saturated": ("#2ca02c", "*"),
    "no-progress": ("#ff7f0e", "v"),
    "instance-failure": ("#9467bd", "s"),
}
_SPARE_COLOURS = ("#8c564b", "#e377c2", "#17becf", "#bcbd22", "#1f77b4", "#7f7f7f")
_SPARE_MARKER = "D"
#: A star of the same area as the other markers reads as a dot; scale it up to match.
_MARKER_AREA = {"*": 2.2}
#: A fraction on 0..1, with room for lines sitting on 0 or 1 not to hide under the frame.
_FRACTION_LIMITS = (-0.02, 1.02)
_ACTIVE_COLOUR = "#4c72b0"
_SERIES = (
    ("informative_fraction", "informative-group fraction", "#1f77b4"),
    ("mean_accuracy", "mean accuracy", "#ff7f0e"),
)


def plot_run(metrics: Metrics, out_dir: Path, title: str = "") -> list[Path]:
    """Write difficulty.png, active-set.png and signal.png into ``out_dir`` (created if missing)
    and return their paths in that order."""
    require_metrics(metrics)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    return [
        _save(_difficulty_figure(metrics, title), out_dir / "difficulty.png"),
        _save(_active_set_figure(metrics, title), out_dir / "active-set.png"),
        _save(_signal_figure(metrics, title), out_dir / "signal.png"),
    ]


def plot_compare(runs: Mapping[str, Metrics], out: Path) -> Path:
    """Write one figure comparing runs (one line per label) on rolling informative fraction,
    rolling mean accuracy and mean normalised difficulty, and return its path."""
    if not runs:
        raise ValueError("no runs to compare")
    for label, metrics in runs.items():
        if not metrics:
            raise ValueError(f"run {label!r} has no metrics records")
    fig = Figure(figsize=(15, 4.4), dpi=DPI, layout="tight")
    panels = fig.subplots(1, 3, sharex=True)
    names = (
        f"informative-group fraction (rolling {ROLLING_WINDOW})",
        f"mean accuracy (rolling {ROLLING_WINDOW})",
        "mean difficulty / max level",
    )
    for label, metrics in runs.items():
        steps = _steps(metrics)
        series = (
            _rolling_mean(_series(metrics, "informative_fraction")),
            _rolling_mean(_series(metrics, "mean_accuracy")),
            np.array([_nan(mean_normalized_difficulty(r)) for r in metrics], dtype=float),
        )
        for ax, values in zip(panels, series, strict=True):
            ax.plot(steps, values, linewidth=1.6, label=label)
    for ax, name in zip(panels, names, strict=True):
        ax.set_title(name, fontsize=11)
        ax.set_xlabel("step")
        ax.set_ylim(*_FRACTION_LIMITS)
        ax.grid(alpha=0.3)
    panels[0].legend(fontsize=9, loc="best")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    return _save(fig, out)


def _save(fig: Figure, path: Path) -> Path:
    FigureCanvasAgg(fig)
    fig.savefig(path, format="png", dpi=DPI)
    return path


def _title(ax: Axes, title: str, what: str) -> None:
    ax.set_title(f"{title}: {what}" if title else what, fontsize=12)


def _nan(value: Any) -> float:
    return float("nan") if value is None else float(value)


def _steps(metrics: Metrics) -> np.ndarray:
    return np.array([step_of(r, i) for i, r in enumerate(metrics)], dtype=float)


def _series(metrics: Metrics, key: str) -> np.ndarray:
    return np.array([_nan(r.get(key)) for r in metrics], dtype=float)


def _rolling_mean(values: np.ndarray, window: int = ROLLING_WINDOW) -> np.ndarray:
    """Trailing mean over up to ``window`` steps, skipping NaN, so the curve starts at step one
    instead of after a warm-up gap; NaN only where the whole window is missing."""
    present = ~np.isnan(values)
    sums = np.cumsum(np.where(present, values, 0.0))
    counts = np.cumsum(present)
    sums[window:] = sums[window:] - sums[:-window]
    counts[window:] = counts[window:] - counts[:-window]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def _reason_styles(reasons: Sequence[str]) -> dict[str, tuple[str, str]]:
    spare = sorted({r for r in reasons if r not in _REASON_STYLE})
    styles = {r: _REASON_STYLE[r] for r in _REASON_STYLE if r in reasons}
    for i, reason in enumerate(spare):
        styles[reason] = (_SPARE_COLOURS[i % len(_SPARE_COLOURS)], _SPARE_MARKER)
    return styles


def _retirement_markers(
    ax: Axes, points: Sequence[tuple[str, float, float]], size: float = 70
) -> list[Line2D]:
    """Scatter (reason, x, y) points, one colour and marker per reason, and return legend handles
    for the reasons that occur, so every plot gets the same key."""
    styles = _reason_styles([reason for reason, _, _ in points])
    handles = []
    for reason, (colour, marker) in styles.items():
        xs = [x for r, x, _ in points if r == reason]
        ys = [y for r, _, y in points if r == reason]
        count = len(xs)
        area = size * _MARKER_AREA.get(marker, 1.0)
        ax.scatter(
            xs, ys, s=area, c=colour, marker=marker, edgecolors="white", linewidths=0.6, zorder=5
        )
        handles.append(
            Line2D(
                [],
                [],
                linestyle="none",
                marker=marker,
                markersize=8 * _MARKER_AREA.get(marker, 1.0) ** 0.5,
                markerfacecolor=colour,
                markeredgecolor="white",
                label=f"{reason} ({count})",
            )
        )
    return handles


def _env_colours(count: int) -> list[str]:
    """Qualitative colours while they stay distinct, a continuous map beyond 20 envs."""
    if count <= 10:
        cmap, spread = colormaps["tab10"], 10
    elif count <= 20:
        cmap, spread = colormaps["tab20"], 20
    else:
        cmap, spread = colormaps["turbo"], count
    return [to_hex(cmap(i / max(spread - 1, 1))) for i in range(count)]


def _difficulty_figure(metrics: Metrics, title: str) -> Figure:
    steps = _steps(metrics)
    index = {step: i for i, step in enumerate(steps)}
    curves: dict[str, np.ndarray] = {}
    for i, record in enumerate(metrics):
        for name, env in (record.get("envs") or {}).items():
            if env.get("difficulty") is None:
                continue
            curve = curves.setdefault(str(name), np.full(len(metrics), np.nan))
            curve[i] = float(env["difficulty"])

    fig = Figure(figsize=(11, 5.5), dpi=DPI, layout="tight")
    ax = fig.add_subplot()
    ranked = sorted(curves, key=lambda name: (-_last(curves[name]), name))
    shown, others = ranked[:MAX_ENV_LEGEND], ranked[MAX_ENV_LEGEND:]
    # Plotted in legend order (highest final d first, then the grey rest); zorder keeps the
    # grey lines under the coloured ones.
    for name, colour in zip(shown, _env_colours(len(shown)), strict=True):
        # A lone point between gaps draws no line segment; the small marker keeps it visible.
        ax.plot(
            steps,
            curves[name],
            color=colour,
            linewidth=1.5,
            marker=".",
            markersize=2.5,
            label=name,
            zorder=2,
        )
    for i, name in enumerate(others):
        label = f"{len(others)} other{'s' if len(others) > 1 else ''}" if i == 0 else None
        ax.plot(steps, curves[name], color=_OTHERS_COLOUR, linewidth=0.8, label=label, zorder=1)

    points = []
    for retired in retirements(metrics):
        played = curves.get(retired["env_id"])
        position = index.get(float(retired["step"]))
        if played is None or position is None:
            continue  # never played, or retired at a step not in these records: no d to mark
        known = played[: position + 1][~np.isnan(played[: position + 1])]
        if known.size:
            points.append((retired["reason"], float(retired["step"]), float(known[-1])))
    handles = _retirement_markers(ax, points)

    _title(ax, title, f"difficulty per environment ({len(curves)} envs played)")
    ax.set_xlabel("step")
    ax.set_ylabel("difficulty d (level)")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    # Envs stuck at level 0 (the zero-accuracy ones) would otherwise hide under the x axis.
    top = max(ax.get_ylim()[1], 1.0)
    ax.set_ylim(-0.03 * top, top)
    ax.grid(alpha=0.3)
    outside = {"borderaxespad": 0, "fontsize": 8, "title_fontsize": 8}
    if handles:
        reasons = ax.legend(
            handles=handles,
            title="retired",
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            **outside,
        )
        if curves:
            # The next legend call replaces the axes' own legend, so keep this one as an extra
            # artist; unclipped, or the layout clips it to the axes and cuts it off.
            ax.add_artist(reasons)
            reasons.set_clip_on(False)
    if curves:
        ax.legend(
            title="env (by final d)" if others else "env",
            loc="lower left",
            bbox_to_anchor=(1.01, 0.0),
            **outside,
        )
    return fig


def _last(curve: np.ndarray) -> float:
    """The last difficulty a curve reached (-1 for one never played)."""
    known = curve[~np.isnan(curve)]
    return float(known[-1]) if known.size else -1.0


def _active_set_figure(metrics: Metrics, title: str) -> Figure:
    steps = [step_of(r, i) for i, r in enumerate(metrics)]
    first, last = min(steps), max(steps)
    active = active_steps(metrics)
    retired = retirements(metrics)
    # Envs known only from a retirement (logs that start mid-run) sort by when they retired.
    first_seen = {r["env_id"]: r["step"] for r in reversed(retired)}
    first_seen.update({name: seen[0] for name, seen in active.items() if seen})
    order = sorted(active, key=lambda name: (first_seen[name], name))
    row = {name: i for i, name in enumerate(order)}
    grid = np.zeros((len(order), last - first + 1))
    for name, seen in active.items():
        for step in seen:
            grid[row[name], step - first] = 1.0

    height = 1.8 + 0.22 * min(len(order), MAX_ROW_LABELS)
    fig = Figure(figsize=(11, max(3.6, height)), dpi=DPI, layout="tight")
    ax = fig.add_subplot()
    if order:
        ax.imshow(
            grid,
            cmap=ListedColormap(["white", _ACTIVE_COLOUR]),
            vmin=0,
            vmax=1,
            aspect="auto",
            interpolation="nearest",
            extent=(first - 0.5, last + 0.5, len(order) - 0.5, -0.5),
        )
    else:  # records without env data (a run stopped early, trimmed logs): say so, don't fail
        ax.text(0.5, 0.5, "no environment recorded", transform=ax.transAxes, ha="center")
    points = [(r["reason"], r["step"], row[r["env_id"]]) for r in retired]
    handles = _retirement_markers(ax, points, size=60 if len(order) <= MAX_ROW_LABELS else 30)

    _title(ax, title, f"active set ({len(order)} envs, ordered by first step active)")
    ax.set_xlabel("step")
    ax.set_xlim(first - 0.5, last + 0.5)
    if len(order) <= MAX_ROW_LABELS:
        ax.set_yticks(range(len(order)), order, fontsize=8 if len(order) <= 20 else 6.5)
    else:
        ax.set_yticks([])
        ax.set_ylabel(f"environments ({len(order)})")
    active_key = Line2D(
        [], [], linestyle="none", marker="s", markersize=8, color=_ACTIVE_COLOUR, label="active"
    )
    handles.insert(0, active_key)
    ax.legend(
        handles=handles, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0
    )
    return fig


def _signal_figure(metrics: Metrics, title: str) -> Figure:
    steps = _steps(metrics)
    fig = Figure(figsize=(11, 4.5), dpi=DPI, layout="tight")
    ax = fig.add_subplot()
    for key, label, colour in _SERIES:
        raw = _series(metrics, key)
        ax.plot(steps, raw, color=colour, linewidth=0.9, alpha=0.35)
        ax.plot(
            steps,
            _rolling_mean(raw),
            color=colour,
            linewidth=2.0,
            label=f"{label} (rolling {ROLLING_WINDOW})",
        )
    _title(ax, title, "training signal per step")
    ax.set_xlabel("step")
    ax.set_ylim(*_FRACTION_LIMITS)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    return fig
