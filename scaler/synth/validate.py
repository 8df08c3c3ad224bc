"""Re-running the checks on a pool, and an environment card per environment.

Unlike the pipeline, which stops a candidate at its first failing check, validation runs every
check on every environment, so a report shows all that is wrong. The card adds what a user
needs to judge an environment: per level the input size and the reference solution's
runtime, the diversity of its outputs, whether the solutions agree, and how a fresh
calibration compares with the level table the pool carries.
"""

from __future__ import annotations

import json
import statistics
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import attrs

from scaler.calibration import Measure, calibrate_envs, stdin_chars
from scaler.errors import InstanceError
from scaler.model import EnvSpec
from scaler.registry import PluginSet
from scaler.sandbox.jobs import Sandbox
from scaler.synth.checks import (
    CHECKS,
    CORE_CHECKS,
    Candidate,
    CheckContext,
    CheckResult,
    CheckSettings,
    GeneratorFailed,
    first_failure_raised,
    generate_each,
    solve,
)

#: Seeds per level for the card's sizes and runtimes.
CARD_SEEDS = 2

#: Every core check, budget included: validation shows all that is wrong.
CHECK_NAMES: tuple[str, ...] = tuple(CORE_CHECKS)


@attrs.frozen
class LevelFigures:
    level: int
    params: Mapping[str, int]
    input_size: int
    cpu_s: float | None
    error: str = ""


@attrs.frozen
class EnvCard:
    env: EnvSpec
    results: tuple[CheckResult, ...]
    levels: tuple[LevelFigures, ...]
    recalibrated: tuple[int, ...] | None
    calibration_error: str = ""

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    def to_dict(self) -> dict[str, Any]:
        return {
            "env_id": self.env.id,
            "ok": self.ok,
            "checks": [r.to_dict() for r in self.results],
            "levels": [attrs.asdict(f) for f in self.levels],
            "declared_levels": list(self.env.levels),
            "recalibrated_levels": None if self.recalibrated is None else list(self.recalibrated),
            "calibration_error": self.calibration_error,
        }


def _level_figures(
    env: EnvSpec, candidate: Candidate, context: CheckContext
) -> tuple[LevelFigures, ...]:
    """Every level's inputs in one generator batch, then the first solution on all of those
    that were made in one solution batch: two round trips, not two per level."""
    levels = [(level, env.params_at(level)) for level in range(len(env.levels))]
    made = generate_each(
        context, candidate, [(params, s) for _, params in levels for s in range(CARD_SEEDS)]
    )
    per_level = [made[i * CARD_SEEDS : (i + 1) * CARD_SEEDS] for i in range(len(levels))]
    solvable = [
        first_failure_raised(items)
        for items in per_level
        if not any(isinstance(item, GeneratorFailed) for item in items)
    ]
    solved = iter(solve(context, candidate, [g for items in solvable for g in items], range(1)))
    figures = []
    for (level, params), items in zip(levels, per_level, strict=True):
        failure = next((item for item in items if isinstance(item, GeneratorFailed)), None)
        if failure is not None:
            figures.append(LevelFigures(level, params, 0, None, failure.detail[-200:]))
            continue
        inputs = first_failure_raised(items)
        runs = [next(solved)[0] for _ in inputs]
        size = max(context.measure({"stdin": g.stdin, "shown_input": g.shown}) for g in inputs)
        failed = next((r for r in runs if not r.ok), None)
        figures.append(
            LevelFigures(
                level,
                params,
                size,
                statistics.fmean(r.cpu_s for r in runs),
                f"solution 0: {failed.status}" if failed else "",
            )
        )
    return tuple(figures)


def _recalibrated(env: EnvSpec, context: CheckContext) -> tuple[tuple[int, ...] | None, str]:
    try:
        (calibration,) = calibrate_envs(
            [env], context.sandbox, context.settings.budget, measure=context.measure
        )
    except InstanceError as exc:
        return None, str(exc)
    return calibration.levels, ""


def validate_env(env: EnvSpec, context: CheckContext, checks: Sequence[str]) -> EnvCard:
    """Every check, the level figures and the recalibration at once, each in its own thread:
    they are independent, and each is a few sequential sandbox rounds, so together they keep
    the workers busy where one after the other would leave them waiting on each round."""
    candidate = Candidate.from_env(env)
    with ThreadPoolExecutor(len(checks) + 2, thread_name_prefix="scaler-check") as pool:
        results = [
            pool.submit(context.plugins.get(CHECKS, name), candidate, context) for name in checks
        ]
        levels = pool.submit(_level_figures, env, candidate, context)
        recalibrated = pool.submit(_recalibrated, env, context)
        return EnvCard(
            env,
            tuple(r.result() for r in results),
            levels.result(),
            *recalibrated.result(),
        )


def validate_envs(
    envs: Sequence[EnvSpec],
    context: CheckContext,
    checks: Sequence[str],
    workers: int = 4,
    on_card: Callable[[EnvCard], None] | None = None,
) -> list[EnvCard]:
    """A card per env, in order; envs are validated concurrently over the shared sandbox."""

    def one(env: EnvSpec) -> EnvCard:
        card = validate_env(env, context, checks)
        if on_card is not None:
            on_card(card)
        return card

    with ThreadPoolExecutor(max(1, workers), thread_name_prefix="scaler-validate") as pool:
        return list(pool.map(one, envs))


def validate_pool(
    envs: Sequence[EnvSpec],
    sandbox: Sandbox,
    plugins: PluginSet,
    checks: Sequence[str] = CHECK_NAMES,
    trials: int = 100,
    budget: int = 2048,
    measure: Measure = stdin_chars,
    workers: int = 4,
    on_card: Callable[[EnvCard], None] | None = None,
) -> list[EnvCard]:
    """What ``scaler validate`` runs, in one place so that its benchmark runs the same:
    ``trials`` breadth trials and as many depth runs, inputs sized by ``measure``."""
    settings = CheckSettings(trials=trials, depth_runs=trials, budget=budget)
    context = CheckContext(sandbox, plugins, settings, measure)
    return validate_envs(envs, context, checks, workers, on_card)


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def failure_reasons(cards: Sequence[EnvCard]) -> Counter[str]:
    """Failed checks counted by check name (one env can fail several)."""
    return Counter(r.check for card in cards for r in card.results if not r.ok)


def plot_reasons(cards: Sequence[EnvCard], out: Path) -> Path:
    """A bar chart of failed checks, so a pool's weak spots show at a glance."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    counts = failure_reasons(cards)
    figure = Figure(figsize=(7, 3.5), dpi=110, layout="tight")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    names = sorted(counts, key=lambda n: -counts[n]) or ["none"]
    axes.bar(names, [counts.get(n, 0) for n in names], color="#d62728")
    axes.set_ylabel("environments failing")
    axes.set_title(f"failed checks over {len(cards)} environments")
    figure.savefig(out)
    return out


def write_report(cards: Sequence[EnvCard], checks: Sequence[str], path: Path) -> None:
    """The markdown report at ``path``, with the chart of failed checks beside it (PNG)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    plot = plot_reasons(cards, path.with_suffix(".png"))
    path.write_text(render_report(cards, checks, plot), encoding="utf-8")


def render_report(cards: Sequence[EnvCard], checks: Sequence[str], plot: Path | None) -> str:
    passed = sum(card.ok for card in cards)
    lines = [
        "# Validation report",
        "",
        f"{passed} of {len(cards)} environments pass every check ({', '.join(checks)}).",
        "",
        "## Yield",
        "",
        "| check | pass | fail |",
        "|---|---|---|",
    ]
    for name in checks:
        ok = sum(1 for c in cards for r in c.results if r.check == name and r.ok)
        bad = sum(1 for c in cards for r in c.results if r.check == name and not r.ok)
        lines.append(f"| {name} | {ok} | {bad} |")
    lines += ["", "## Failures", ""]
    failures = [(c.env.id, r) for c in cards for r in c.results if not r.ok]
    if failures:
        lines += ["| env | check | reason |", "|---|---|---|"]
        lines += [f"| {env} | {r.check} | {_cell(r.reason)} |" for env, r in failures]
    else:
        lines.append("None.")
    if plot is not None:
        lines += ["", f"![failed checks]({plot.name})"]
    lines += ["", "## Environment cards", ""]
    for card in cards:
        lines += _card(card)
    return "\n".join(lines) + "\n"


def _figure(value: Any) -> str:
    if isinstance(value, dict):
        return json.dumps(value)
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def _card(card: EnvCard) -> list[str]:
    env = card.env
    verdict = (
        "passes every check"
        if card.ok
        else "FAILS " + ", ".join(r.check for r in card.results if not r.ok)
    )
    lines = [
        f"### {env.id}: {verdict}",
        "",
        f"- name: {_cell(env.name)}; output type: {env.output_type}; "
        f"{len(env.solutions)} reference solutions "
        f"({', '.join(sorted({s.language for s in env.solutions}))})",
        "- scale parameters: "
        + ", ".join(f"{p.name} in [{p.min}, {p.max}]" for p in env.scale_params),
    ]
    for result in card.results:
        figures = ", ".join(f"{k} {_figure(v)}" for k, v in result.details.items())
        status = "ok" if result.ok else f"FAIL: {_cell(result.reason)}"
        lines.append(f"- {result.check}: {status}" + (f" ({figures})" if figures else ""))
    declared = list(env.levels)
    if card.recalibrated is None:
        lines.append(f"- recalibration failed: {_cell(card.calibration_error)}")
    else:
        fresh = list(card.recalibrated)
        same = "identical" if fresh == declared else "different"
        lines.append(f"- level table: declared {declared}; recalibrated {fresh} ({same})")
    lines += [
        "",
        "| level | params | input size | solution 0 CPU s | note |",
        "|---|---|---|---|---|",
    ]
    for f in card.levels:
        cpu = "" if f.cpu_s is None else f"{f.cpu_s:.3f}"
        params = ", ".join(f"{k}={v}" for k, v in f.params.items())
        lines.append(f"| {f.level} | {params} | {f.input_size} | {cpu} | {_cell(f.error)} |")
    return [*lines, ""]
