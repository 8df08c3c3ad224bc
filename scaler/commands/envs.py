"""``scaler envs``: list, show and sample the installed environments (or a pool's)."""

from __future__ import annotations

from pathlib import Path

import click

from scaler.catalog import available_envs, find_env
from scaler.commands.common import (
    backend_option,
    json_option,
    open_sandbox,
    plugins_of_run,
    pool_option,
    print_json,
    table,
)
from scaler.hookspecs import hookimpl
from scaler.instances import InstanceFactory, check_level


@click.group()
def envs() -> None:
    """List, inspect and sample environments."""


@envs.command("list")
@pool_option
@json_option
def envs_list(pool: Path | None, as_json: bool) -> None:
    """List environments: id, name, output type, number of levels."""
    found = available_envs(plugins_of_run(), pool)
    rows = [
        {
            "id": env.id,
            "name": env.name,
            "output_type": env.output_type,
            "levels": len(env.levels),
            "version": env.version,
        }
        for env in sorted(found, key=lambda e: e.id)
    ]
    if as_json:
        print_json(rows)
        return
    table(
        f"{len(rows)} environments",
        ["id", "name", "output type", "levels"],
        [[r["id"], r["name"], r["output_type"], r["levels"]] for r in rows],
    )


@envs.command("show")
@click.argument("env_id", metavar="ENV")
@pool_option
@json_option
def envs_show(env_id: str, pool: Path | None, as_json: bool) -> None:
    """Show one environment: statement, parameters, levels, solutions."""
    env = find_env(plugins_of_run(), env_id, pool)
    if as_json:
        print_json(env.to_dict())
        return
    click.echo(f"{env.name}  ({env.id}, version {env.version})")
    click.echo(f"output type: {env.output_type}; source: {env.provenance.source}")
    click.echo("\n" + env.statement + "\n\nOutput: " + env.output_spec + "\n")
    click.echo(
        "scale parameters: "
        + ", ".join(f"{p.name} in [{p.min}, {p.max}] (base {p.base:g})" for p in env.scale_params)
    )
    table(
        f"{len(env.levels)} levels",
        ["level", "offset", *(p.name for p in env.scale_params)],
        [[lvl, off, *env.params_at(lvl).values()] for lvl, off in enumerate(env.levels)],
    )
    click.echo(
        "solutions: "
        + ", ".join(s.language for s in env.solutions)
        + f"; limits: {env.limits.cpu_s:g} s CPU, {env.limits.memory_mb} MB"
    )


@envs.command("sample")
@click.argument("env_id", metavar="ENV")
@pool_option
@click.option("--level", "-l", type=int, required=True, help="Difficulty level (0 = easiest).")
@click.option("--seed", "-s", type=int, default=0, show_default=True, help="First seed.")
@click.option(
    "-n",
    "count",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="How many instances (seeds SEED .. SEED+N-1).",
)
@backend_option
@json_option
def envs_sample(
    env_id: str, pool: Path | None, level: int, seed: int, count: int, backend: str, as_json: bool
) -> None:
    """Generate instances of ENV at a level: input, ground truth and the prompt.

    The same (environment version, level, seed) always gives the same instance, byte for byte.
    """
    plugins = plugins_of_run()
    env = find_env(plugins, env_id, pool)
    check_level(env, level)
    with open_sandbox(backend) as sandbox:
        instances = InstanceFactory(sandbox, plugins).sample(env, level, seed, count)
    if as_json:
        print_json([i.to_dict() for i in instances] if count > 1 else instances[0].to_dict())
        return
    for instance in instances:
        click.echo(
            f"== {instance.env_id} level {instance.level} seed {instance.seed} "
            f"params {instance.params}"
        )
        for message in instance.messages:
            click.echo(f"-- {message['role']}\n{message['content']}")
        click.echo(f"-- answer\n{instance.answer}\n")


@hookimpl
def scaler_register_commands(cli: click.Group) -> None:
    cli.add_command(envs)
