"""``scaler run``: a curriculum run from a config file.

It also holds how a run is shown, which ``scaler simulate`` shares: the sandbox opened as every
command opens one, a progress bar per step, the summary table at the end.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import click

from scaler.commands.common import (
    config_argument,
    json_option,
    log,
    open_sandbox,
    plugins_of_run,
    print_json,
    progress_bar,
    table,
)
from scaler.config import Component, RunConfig
from scaler.curriculum.report import format_level, format_value
from scaler.curriculum.scheduler import StepReport
from scaler.hookspecs import hookimpl
from scaler.run import (
    Run,
    RunInfo,
    launch_loop_owner,
    names_located_in,
    resumed_run,
    started_run,
)


@click.command("run")
@config_argument
@click.option(
    "--steps",
    type=click.IntRange(min=1),
    help="Steps to run (default: the config's run.steps; with --resume: this many more, "
    "default up to run.steps).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="The run directory (default: a new one under the config's run.out, i.e. runs/).",
)
@click.option(
    "--resume",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    metavar="DIR",
    help="Continue the run saved in DIR from its last finished step.",
)
@json_option
def run_command(
    config_file: Path | None,
    steps: int | None,
    out: Path | None,
    resume: Path | None,
    as_json: bool,
) -> None:
    """Run a curriculum: the pool, sandbox, controller, curation and trainer named in CONFIG.

    \b
    With no CONFIG, the embedded default: every installed environment (the builtin pack),
    sandbox auto, the paper's controller (scaler) and curation (scaler-window, 8 active), the
    simulated learner, 200 steps, written under runs/. configs/default.toml spells it out;
    copy it to change anything. Every name resolves through the plugin registries, so a
    plugin's controller is used by writing its name (load an uninstalled one with --plugin).

    \b
    The run directory gets metrics.jsonl, state.json (saved after every step: a killed run
    loses nothing, continue it with --resume DIR), report.md and PNG plots.

    \b
    A trainer that drives its own loop (trainer = "verl") is launched as by `scaler train`:
    --steps sets run.steps, --out verl's checkpoint directory (run the same command again to
    resume); `scaler train` also takes verl overrides and --dry-run.
    """
    if resume is not None and (config_file is not None or out is not None):
        raise click.UsageError("--resume continues a saved run with its own config and directory")
    config = RunConfig.load(config_file) if config_file else RunConfig()
    plugins = plugins_of_run()
    with names_located_in(config):
        if resume is not None:
            execute(resumed_run(resume, plugins, open_run_sandbox), steps, as_json)
        elif not launch_loop_owner(config, plugins, steps, out):
            execute(started_run(config, plugins, open_run_sandbox, out), steps, as_json)


def open_run_sandbox(component: Component, source: str | None) -> Any:
    """The sandbox a run config names, opened as every command opens one (``open_sandbox``)."""
    return open_sandbox(component.name, options=component.options, source=source)


def step_status(report: StepReport) -> str:
    """A step's figures for the progress bar's status column."""
    return (
        f"acc {report.mean_accuracy:.2f}  informative {report.informative_fraction:.2f}  "
        f"active {len(report.active)}"
    )


def execute(opened: AbstractContextManager[Run], steps: int | None, as_json: bool) -> None:
    """Drive a started or resumed run with a progress bar, then print its summary."""
    with opened as run:
        todo = run.steps_to_do(steps)
        log.info("run", directory=str(run.directory), from_step=run.step, steps=todo)
        info = run.finish() if todo <= 0 else _with_progress(run, todo)
    _print_summary(info, as_json)


def _with_progress(run: Run, steps: int) -> RunInfo:
    with progress_bar() as progress:
        task = progress.add_task(f"step {run.step}", total=steps, status="")
        first = run.step

        def advance(report: StepReport) -> None:
            progress.update(
                task,
                completed=report.step - first,
                description=f"step {report.step}",
                status=step_status(report),
            )

        return run.execute(steps, advance)


def _print_summary(info: RunInfo, as_json: bool) -> None:
    summary = dict(info.summary)
    per_env = summary.pop("per_env", {})
    if as_json:
        print_json(
            {
                "directory": str(info.directory),
                "steps": info.steps_done,
                "summary": summary,
                "envs": per_env,
                "files": [str(f) for f in info.files],
            }
        )
        return
    rows = [
        [
            env_id,
            data["steps_active"],
            f"{format_level(data['final_difficulty'])} / {format_level(data['max_level'])}",
            format_level(data["best_level"]),
            ", ".join(data["retirements"]) or "-",
        ]
        for env_id, data in sorted(per_env.items())
    ]
    table(
        f"{info.directory}: {info.steps_done} steps",
        ["env", "steps active", "difficulty / max", "best level", "retired"],
        rows,
    )
    retired = summary.get("retirements_by_reason", {})
    click.echo(
        f"mean accuracy {format_value(summary.get('mean_accuracy'))}; informative groups "
        f"{format_value(summary.get('informative_fraction'))} (last steps "
        f"{format_value(summary.get('informative_fraction_last'))}); retirements: "
        + (", ".join(f"{reason} {count}" for reason, count in sorted(retired.items())) or "none")
    )
    click.echo(f"report: {info.directory / 'report.md'}")


@hookimpl
def scaler_register_commands(cli: click.Group) -> None:
    cli.add_command(run_command)
