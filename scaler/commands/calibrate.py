"""``scaler calibrate``: recompute a pool's bases and level tables into a new pool file.

The library is imported when the command runs, not when the plugin set loads it.
"""

from __future__ import annotations

from pathlib import Path

import click

from scaler.commands import common as app
from scaler.hookspecs import hookimpl


@click.command("calibrate")
@click.argument("pool", type=click.Path(exists=True, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@app.pool_format_option
@click.option("--budget", type=click.IntRange(min=1), default=2048, show_default=True)
@click.option("--tokenizer", help="A local tokenizer: the budget counts tokens.")
@app.backend_option
@app.json_option
def calibrate(
    pool: Path,
    output: Path,
    fmt: str | None,
    budget: int,
    tokenizer: str | None,
    backend: str,
    as_json: bool,
) -> None:
    """Recompute every environment's bases and level table; write the pool to OUTPUT."""
    from scaler.calibration import input_measure, recalibrate
    from scaler.catalog import pool_envs
    from scaler.pool import write_pool

    envs = pool_envs(app.plugins_of_run(), pool, fmt)
    with app.open_sandbox(backend) as sandbox:
        updated = recalibrate(envs, sandbox, budget, input_measure(tokenizer))
    write_pool(updated, output)
    rows = [
        {"env_id": env.id, "before": list(env.levels), "after": list(new.levels)}
        for env, new in zip(envs, updated, strict=True)
    ]
    if as_json:
        app.print_json(rows)
        return
    app.table(
        f"{len(rows)} environments recalibrated into {output}",
        ["env", "levels before", "levels after", "same"],
        [[r["env_id"], len(r["before"]), len(r["after"]), r["before"] == r["after"]] for r in rows],
    )


@hookimpl
def scaler_register_commands(cli: click.Group) -> None:
    cli.add_command(calibrate)
