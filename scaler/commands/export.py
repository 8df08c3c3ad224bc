"""``scaler export``: a static verl dataset, for training without the curriculum."""

from __future__ import annotations

from pathlib import Path

import click

from scaler.catalog import available_envs
from scaler.commands.common import (
    backend_option,
    json_option,
    open_sandbox,
    parse_levels,
    plugins_of_run,
    print_json,
    progress_bar,
)
from scaler.hookspecs import hookimpl
from scaler.instances import InstanceFactory


@click.command("export")
@click.argument(
    "pool_path", metavar="[POOL]", required=False, type=click.Path(exists=True, path_type=Path)
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
    help="The parquet file to write, in verl's row schema.",
)  # fmt: skip
@click.option(
    "--levels",
    help="Comma-separated levels (default: every level of each env; levels above an env's "
    "top are skipped for it).",
)
@click.option("-n", "count", type=click.IntRange(min=1), default=1, show_default=True,
              help="Instances per (env, level): seeds SEED .. SEED+N-1.")  # fmt: skip
@click.option("--seed", type=int, default=0, show_default=True)
@backend_option
@json_option
def export_command(
    pool_path: Path | None,
    output: Path,
    levels: str | None,
    count: int,
    seed: int,
    backend: str,
    as_json: bool,
) -> None:
    """Write a static verl dataset: N instances per level of every environment of POOL.

    \b
    For plain verl without the curriculum, and for evaluation sets per level. Rows follow
    verl's schema (data_source, prompt, ability, reward_model, extra_info); extra_info carries
    env, level and seed, which scaler.train.reward.compute_score reads. With no POOL, every
    installed environment.
    """
    from scaler.train.export import export_parquet, export_requests

    plugins = plugins_of_run()
    envs = available_envs(plugins, pool_path)
    requests = export_requests(envs, parse_levels(levels), count, seed)
    with open_sandbox(backend) as sandbox, progress_bar() as bar:
        task = bar.add_task("export", total=len(requests), status=str(output))
        written = export_parquet(
            InstanceFactory(sandbox, plugins),
            requests,
            output,
            lambda n: bar.update(task, advance=n),
        )
    if as_json:
        print_json({"output": str(output), "rows": written, "envs": len(envs)})
    else:
        click.echo(f"{written} rows from {len(envs)} environments written to {output}")


@hookimpl
def scaler_register_commands(cli: click.Group) -> None:
    cli.add_command(export_command)
