"""``scaler validate``: every check on every environment of a pool, and its cards and report.

The library is imported when the command runs, not when the plugin set loads it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from scaler.commands import common as app
from scaler.hookspecs import hookimpl
from scaler.synth.checks import CHECKS
from scaler.synth.validate import CHECK_NAMES


@click.command("validate")
@click.argument("pool", type=click.Path(exists=True, path_type=Path))
@app.pool_format_option
@click.option("--checks", "check_names", default=",".join(CHECK_NAMES), show_default=True)
@click.option(
    "--report",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the markdown report (and a PNG of failed checks beside it).",
)
@app.trials_option
@click.option("--budget", type=click.IntRange(min=1), default=2048, show_default=True)
@click.option("--tokenizer", help="A local tokenizer: the budget counts tokens.")
@click.option("--workers", type=click.IntRange(min=1), default=4, show_default=True)
@app.backend_option
@app.json_option
def validate(
    pool: Path,
    fmt: str | None,
    check_names: str,
    report: Path | None,
    trials: int,
    budget: int,
    tokenizer: str | None,
    workers: int,
    backend: str,
    as_json: bool,
) -> None:
    """Re-run the checks on every environment of POOL and write environment cards.

    \b
    Every check runs on every environment (a report shows all that is wrong). A card
    gives per level the input size and the reference runtime, the output diversity,
    the agreement of the solutions, and a fresh calibration against the pool's table.
    Exit status 1 when any environment fails a check (as `scaler verify` on a wrong
    answer), 2 on bad input.
    """
    from scaler.calibration import input_measure
    from scaler.catalog import pool_envs
    from scaler.synth.validate import validate_pool, write_report

    plugins = app.plugins_of_run()
    envs = pool_envs(plugins, pool, fmt)
    names = tuple(n.strip() for n in check_names.split(",") if n.strip())
    for name in names:
        plugins.get(CHECKS, name)
    with app.open_sandbox(backend) as sandbox, app.progress_bar() as bar:
        task = bar.add_task("validate", total=len(envs), status="")
        cards = validate_pool(
            envs,
            sandbox,
            plugins,
            names,
            trials,
            budget,
            input_measure(tokenizer),
            workers,
            lambda card: bar.update(task, advance=1, status=card.env.id),
        )
    if report is not None:
        write_report(cards, names, report)
    if as_json:
        app.print_json([card.to_dict() for card in cards])
    else:
        app.table(
            f"{sum(c.ok for c in cards)} of {len(cards)} environments pass",
            ["env", *names],
            [
                [c.env.id, *("ok" if r.ok else f"FAIL: {r.reason}" for r in c.results)]
                for c in cards
            ],
        )
        if report is not None:
            click.echo(f"report: {report}")
    if not all(card.ok for card in cards):
        sys.exit(1)


@hookimpl
def scaler_register_commands(cli: click.Group) -> None:
    cli.add_command(validate)
