"""Summaries and markdown reports of a curriculum run, from its per-step metrics records.

A record is one parsed line of ``metrics.jsonl``. The functions here are pure: they read the
records and return numbers or text, so the CLI, a notebook or a test can decide where these go.
The PNGs the reports embed come from :mod:`scaler.curriculum.plots`; the reports link them by
file name only, because a report is written beside its plots.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

#: The tail over which ``informative_fraction_last`` is averaged: late training is what tells
#: whether the curriculum kept producing signal, the early steps always do.
LAST_STEPS = 50

Metrics = Sequence[Mapping[str, Any]]

_HOW_TO_READ = (
    "Each active environment has a difficulty d (a level) that its controller moves to keep the "
    "policy's accuracy near a target: d goes up when the policy solves more than that, down when "
    "it solves less, so on learnable environments the difficulty lines climb as training goes "
    "on. A prompt's group of rollouts is *informative* when its rewards differ; only those "
    "groups carry a gradient, which is what the curriculum tries to keep high. Before a step, "
    "environments that stopped teaching leave the active set: **zero-accuracy** means the "
    "environment is unlearnable for the policy now (accuracy 0 in each of the last few "
    "steps), **saturated** means it sat at its maximum level, **no-progress** means the slope of "
    "d over the recent steps is <= 0, and **instance-failure** means its instances could not be "
    "built. Replacements come from the pool, and a retired environment may be drawn again later."
)


def require_metrics(metrics: Metrics) -> None:
    """Refuse an empty run up front: every summary and plot would otherwise be meaningless."""
    if not metrics:
        raise ValueError("no metrics records: the run has no completed step (metrics.jsonl empty)")


def step_of(record: Mapping[str, Any], index: int) -> int:
    """The record's step, falling back to its 1-based position for records written without one."""
    step = record.get("step")
    return int(step) if step is not None else index + 1


def mean_normalized_difficulty(record: Mapping[str, Any]) -> float | None:
    """Mean of difficulty / max_level over the step's envs, so pools mixing short and long level
    tables compare on one scale; envs with a single level (max_level 0) have no scale and are
    left out. None when no env of the step has one."""
    values = [
        float(env["difficulty"]) / float(env["max_level"])
        for env in (record.get("envs") or {}).values()
        if env.get("difficulty") is not None and env.get("max_level")
    ]
    return sum(values) / len(values) if values else None


def _mean(values: Sequence[Any]) -> float | None:
    present = [float(v) for v in values if v is not None and not _is_nan(v)]
    return sum(present) / len(present) if present else None


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def retirements(metrics: Metrics) -> list[dict[str, Any]]:
    """Every retirement of the run in order, each carrying the step it happened at (the record's
    step when the retirement itself does not say)."""
    found: list[dict[str, Any]] = []
    for index, record in enumerate(metrics):
        for retired in record.get("retired") or ():
            found.append(
                {
                    "step": int(retired.get("step", step_of(record, index))),
                    "env_id": str(retired["env_id"]),
                    "reason": str(retired.get("reason", "unknown")),
                    "detail": str(retired.get("detail", "")),
                }
            )
    return found


def active_steps(metrics: Metrics) -> dict[str, list[int]]:
    """The steps each env was in the active set, for every env the records name, in order of
    first appearance.

    Retirements happen before a step, so a record's ``active`` is the set that step used and an
    env retired at step t was last active at t - 1. An env named only by a retirement (logs that
    start mid-run) gets an empty list rather than vanishing from tables and plots.
    """
    steps: dict[str, set[int]] = {}
    for index, record in enumerate(metrics):
        step = step_of(record, index)
        for name in (*(record.get("active") or ()), *(record.get("envs") or {})):
            steps.setdefault(str(name), set()).add(step)
        for retired in record.get("retired") or ():
            steps.setdefault(str(retired["env_id"]), set())
    return {name: sorted(seen) for name, seen in steps.items()}


def summarize(metrics: Metrics) -> dict[str, Any]:
    """The run's headline numbers and a per-env digest; means skip steps where a value is null
    (None when no step has one)."""
    require_metrics(metrics)
    per_env: dict[str, dict[str, Any]] = {
        name: {
            "steps_active": len(steps),
            "final_difficulty": None,
            "max_level": None,
            "best_level": None,
            "retirements": [],
        }
        for name, steps in sorted(active_steps(metrics).items())
    }
    for record in metrics:
        for name, env in (record.get("envs") or {}).items():
            entry = per_env[str(name)]
            if env.get("difficulty") is not None:
                entry["final_difficulty"] = env["difficulty"]
            if env.get("max_level") is not None:
                entry["max_level"] = env["max_level"]
            levels = [int(level) for level in env.get("levels") or ()]
            if levels:
                best = entry["best_level"]
                entry["best_level"] = max(levels) if best is None else max(best, *levels)
    retired = retirements(metrics)
    for item in retired:
        per_env[item["env_id"]]["retirements"].append(item["reason"])

    finals = [
        float(e["final_difficulty"]) / float(e["max_level"])
        for e in per_env.values()
        if e["final_difficulty"] is not None and e["max_level"]
    ]
    last = metrics[-min(LAST_STEPS, len(metrics)) :]
    return {
        "steps": len(metrics),
        "envs_seen": len(per_env),
        "retirements_by_reason": dict(sorted(Counter(r["reason"] for r in retired).items())),
        "mean_accuracy": _mean([r.get("mean_accuracy") for r in metrics]),
        "informative_fraction": _mean([r.get("informative_fraction") for r in metrics]),
        "informative_fraction_last": _mean([r.get("informative_fraction") for r in last]),
        "mean_final_difficulty_normalized": sum(finals) / len(finals) if finals else None,
        "instance_wait_s_total": sum(float(r.get("instance_wait_s") or 0.0) for r in metrics),
        "per_env": per_env,
    }


def format_value(value: Any) -> str:
    """A summary value as people read it: floats to 3 places, "-" where there is none (an env
    retired before it finished a step has no difficulty)."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _cell(value: Any) -> str:
    """One markdown table cell: a value as read, pipes and newlines made harmless."""
    return format_value(value).replace("|", "\\|").replace("\n", " ")


def format_level(value: Any) -> str:
    """A difficulty or level as short as it reads: d is a float but usually whole (3, not 3.0)."""
    if value is None:
        return "-"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    return [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
        *("| " + " | ".join(_cell(v) for v in row) + " |" for row in rows),
    ]


def _by_reason(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{reason} {n}" for reason, n in counts.items()) or "none"


#: The scalar rows of a summary table and in comparisons, in reading order.
_SCALARS: tuple[tuple[str, str], ...] = (
    ("steps", "steps"),
    ("envs_seen", "envs seen"),
    ("mean_accuracy", "mean accuracy"),
    ("informative_fraction", "informative-group fraction"),
    ("informative_fraction_last", f"informative-group fraction (last {LAST_STEPS} steps)"),
    ("mean_final_difficulty_normalized", "mean final difficulty / max level"),
    ("instance_wait_s_total", "instance wait (s, total)"),
)


def _image(path: Path) -> str:
    return f"![{Path(path).stem}]({Path(path).name})"


def render_report(metrics: Metrics, run_info: Mapping[str, Any], plots: Sequence[Path]) -> str:
    """The markdown report of one run; ``plots`` are embedded by file name, so the report must be
    written in the directory that holds them."""
    summary = summarize(metrics)
    lines = ["# Curriculum run", ""]
    lines += [f"- **{key}**: {_cell(value)}" for key, value in run_info.items()] or ["- (no info)"]
    lines += ["", "## Summary", ""]
    lines += _table(
        ("metric", "value"),
        [
            *((label, summary[key]) for key, label in _SCALARS),
            ("retirements", _by_reason(summary["retirements_by_reason"])),
        ],
    )
    lines += ["", "## Plots", ""]
    lines += [line for path in plots for line in (_image(path), "")] or ["None.", ""]
    lines += ["## Environments", ""]
    lines += _table(
        ("env", "steps active", "final d / max level", "best level", "retirements"),
        [
            (
                name,
                env["steps_active"],
                f"{format_level(env['final_difficulty'])} / {format_level(env['max_level'])}",
                format_level(env["best_level"]),
                ", ".join(env["retirements"]) or "-",
            )
            for name, env in summary["per_env"].items()
        ],
    )
    lines += ["", "## Retirements", ""]
    retired = retirements(metrics)
    if retired:
        lines += _table(
            ("step", "env", "reason", "detail"),
            [(r["step"], r["env_id"], r["reason"], r["detail"]) for r in retired],
        )
    else:
        lines.append("None.")
    lines += ["", "## How to read this", "", _HOW_TO_READ, ""]
    return "\n".join(lines)


def render_compare_report(runs: Mapping[str, Metrics], plot: Path) -> str:
    """A markdown comparison of several runs (one row per label) around their compare plot."""
    if not runs:
        raise ValueError("no runs to compare")
    summaries: dict[str, dict[str, Any]] = {}
    for label, metrics in runs.items():
        if not metrics:
            raise ValueError(f"run {label!r} has no metrics records")
        summaries[label] = summarize(metrics)
    lines = ["# Curriculum comparison", ""]
    lines += _table(
        ("run", *(label for _, label in _SCALARS), "retirements"),
        [
            (
                label,
                *(summary[key] for key, _ in _SCALARS),
                _by_reason(summary["retirements_by_reason"]),
            )
            for label, summary in summaries.items()
        ],
    )
    lines += ["", _image(plot), "", "## How to read this", "", _HOW_TO_READ, ""]
    return "\n".join(lines)
