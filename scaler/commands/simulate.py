"""``scaler simulate``: the simulated learner on real instances, to study controllers and curation.

A run made of options instead of a config file, shown as ``scaler run`` shows one; ``--compare``
makes one run per controller and prints their summaries side by side.
"""

from __future__ import annotations

from pathlib import Path

import click

from scaler.commands.common import (
    backend_option,
    json_option,
    plugins_of_run,
    pool_option,
    print_json,
    progress_bar,
    table,
)
from scaler.commands.run import execute, open_run_sandbox, step_status
from scaler.config import RunConfig
from scaler.curriculum.report import format_value
from scaler.curriculum.scheduler import StepReport
from scaler.hookspecs import hookimpl
from scaler.run import compare, compare_configs, resumed_run, simulation_config, started_run


@click.command("simulate")
@click.option("--steps", type=click.IntRange(min=1), default=200, show_default=True)
@click.option(
    "--controller", default="scaler", show_default=True, help="Difficulty controller by name."
)
@click.option(
    "--curation", default="scaler-window", show_default=True, help="Curation policy by name."
)
@click.option(
    "--window",
    type=click.IntRange(min=1),
    default=8,
    show_default=True,
    help="Active environments (for window policies).",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=8,
    show_default=True,
    help="Prompts per step.",
)
@click.option("--seed", type=int, default=0, show_default=True)
@pool_option
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Run directory.")
@click.option(
    "--resume",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    metavar="DIR",
    help="Continue the run saved in DIR for --steps more steps, writing back into DIR.",
)
@click.option(
    "--compare",
    metavar="C1,C2,...",
    help="Run once per controller (or CONTROLLER@CURATION) and plot them side by side.",
)
@backend_option
@json_option
@click.pass_context
def simulate_command(
    ctx: click.Context,
    steps: int,
    controller: str,
    curation: str,
    window: int,
    batch_size: int,
    seed: int,
    pool: Path | None,
    out: Path | None,
    resume: Path | None,
    compare: str | None,
    backend: str,
    as_json: bool,
) -> None:
    """Train a simulated learner on real instances, to study controllers and curation.

    \b
    The learner's skill per environment grows when it practises near its frontier (groups
    whose rollouts disagree) and stalls far from it; some environments are unlearnable, some
    saturate, some stall (docs/concepts.md, "The simulator"). Its answers are scored by the
    real verifiers.

    \b
      scaler simulate --steps 300
      scaler simulate --compare scaler,elo,ratchet --out runs/compare
      scaler simulate --steps 50 --resume runs/20261125-101500
    """
    plugins = plugins_of_run()
    if resume is not None:
        fixed = ("controller", "curation", "window", "batch_size", "seed", "pool", "out", "compare")
        given = [name for name in fixed if _given(ctx, name)]
        if given:
            raise click.UsageError(
                f"--resume continues the saved run with its own settings; drop --{given[0]}"
            )
        other_backend = backend if _given(ctx, "backend") else None
        execute(resumed_run(resume, plugins, open_run_sandbox, other_backend), steps, as_json)
        return
    config = simulation_config(
        steps=steps,
        seed=seed,
        batch_size=batch_size,
        pool=pool,
        backend=backend,
        controller=controller,
        curation=curation,
        window=window,
    )
    if compare:
        items = [item.strip() for item in compare.split(",") if item.strip()]
        _compare(config, items, out, as_json)
        return
    execute(started_run(config, plugins, open_run_sandbox, out), steps, as_json)


def _given(ctx: click.Context, name: str) -> bool:
    return ctx.get_parameter_source(name) is click.core.ParameterSource.COMMANDLINE


def _compare(base: RunConfig, items: list[str], out: Path | None, as_json: bool) -> None:
    """One run per ``--compare`` item, all in the sandbox of ``base``, then the table of their
    summaries side by side."""
    configs = compare_configs(base, items)
    total = sum(config.steps for config in configs.values())
    with open_run_sandbox(base.sandbox, None) as sandbox, progress_bar() as bar:
        task = bar.add_task("compare", total=total, status="")

        def advance(label: str, report: StepReport) -> None:
            bar.update(task, advance=1, description=label, status=step_status(report))

        results, report_file = compare(configs, out, plugins_of_run(), sandbox, advance)
    directory = report_file.parent
    rows = {
        label: {k: v for k, v in info.summary.items() if k != "per_env"}
        for label, info in results.items()
    }
    if as_json:
        print_json({"directory": str(directory), "runs": rows, "report": str(report_file)})
        return
    keys = [
        "mean_accuracy",
        "informative_fraction",
        "informative_fraction_last",
        "mean_final_difficulty_normalized",
    ]
    trainer_keys = sorted({k for row in rows.values() for k in row.get("trainer", {})})
    table(
        f"{directory}",
        ["run", *keys, *trainer_keys, "retirements"],
        [
            [
                label,
                *(format_value(row.get(k)) for k in keys),
                *(format_value(row.get("trainer", {}).get(k)) for k in trainer_keys),
                sum(row.get("retirements_by_reason", {}).values()),
            ]
            for label, row in rows.items()
        ],
    )
    click.echo(f"report: {report_file}")


@hookimpl
def scaler_register_commands(cli: click.Group) -> None:
    cli.add_command(simulate_command)
