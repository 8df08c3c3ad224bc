"""``scaler verify``: score one answer against one instance, as the reward function does."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from scaler.commands.common import json_option, plugins_of_run, print_json
from scaler.errors import ScalerError, UnknownName
from scaler.hookspecs import hookimpl
from scaler.model import Instance
from scaler.verify import verify


@click.command("verify")
@click.option("--answer", required=True, help="The model's response text (with \\boxed{...}).")
@click.option(
    "--instance",
    "instance_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="An instance as printed by `scaler envs sample --json`.",
)
@json_option
def verify_command(answer: str, instance_file: Path, as_json: bool) -> None:
    """Check an answer against an instance; exits 1 when it is wrong."""
    try:
        data = json.loads(instance_file.read_text(encoding="utf-8"))
        if isinstance(data, list):  # `envs sample -n N --json` prints a list: its first
            data = data[0] if data else None
        instance = Instance.from_dict(data)
    except (KeyError, TypeError, ValueError, OverflowError, RecursionError) as exc:
        raise ScalerError(
            f"{instance_file}: not an instance ({type(exc).__name__}: {exc})"
        ) from exc
    try:
        verdict = verify(answer, instance, plugins_of_run())
    except UnknownName as exc:
        raise ScalerError(f"{instance_file}: field 'output_type': {exc}") from exc
    if as_json:
        print_json(verdict.to_dict())
    else:
        mark = "correct" if verdict.correct else "wrong"
        click.echo(
            f"{mark}: {verdict.reason} (extracted {verdict.extracted!r}, "
            f"expected {verdict.expected!r})"
        )
    if not verdict.correct:
        sys.exit(1)


@hookimpl
def scaler_register_commands(cli: click.Group) -> None:
    cli.add_command(verify_command)
