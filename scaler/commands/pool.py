"""``scaler pool``: convert a foreign pool into a native one through a registered importer."""

from __future__ import annotations

from pathlib import Path

import click

from scaler.commands.common import json_option, plugins_of_run, print_json
from scaler.errors import ScalerError
from scaler.hookspecs import hookimpl
from scaler.official_pool import IMPORTERS
from scaler.pool import write_pool


@click.group()
def pool() -> None:
    """Convert and write environment pools."""


@pool.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    required=True,
    help="Importer name (see `scaler plugins`), e.g. scaler-official.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The native JSONL pool to write.",
)
@json_option
def pool_import(file: Path, fmt: str, output: Path, as_json: bool) -> None:
    """Convert a foreign pool FILE into a native JSONL pool.

    Entries that cannot be converted are reported with the reason; the others are written.
    """
    result = plugins_of_run().get(IMPORTERS, fmt)(file)
    if result.envs:
        write_pool(result.envs, output)
    summary = {
        "output": str(output),
        "converted": [env.id for env in result.envs],
        "rejected": [{"key": r.key, "reason": r.reason} for r in result.rejected],
    }
    if as_json:
        print_json(summary)
    else:
        if result.envs:
            click.echo(f"wrote {len(result.envs)} environments to {output}")
        for rejection in result.rejected:
            click.echo(f"not converted: {rejection.key}: {rejection.reason}")
    if not result.envs:
        raise ScalerError(f"{file}: no entry could be converted; {output} was not written")


@hookimpl
def scaler_register_commands(cli: click.Group) -> None:
    cli.add_command(pool)
