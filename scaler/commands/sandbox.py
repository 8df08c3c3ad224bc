"""``scaler sandbox``: build the Docker image, say what can run here, run one program."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Literal

import click

from scaler.commands.common import (
    backend_option,
    build_image_with_progress,
    built_line,
    json_option,
    log,
    open_sandbox,
    plugins_of_run,
    print_json,
)
from scaler.hookspecs import hookimpl
from scaler.model import Language, Limits, Program
from scaler.sandbox.jobs import Job
from scaler.sandbox.selection import diagnose


@click.group()
def sandbox() -> None:
    """Run programs in the sandbox."""


@sandbox.command("build-image")
@click.option("--tag", default=None, help="Image tag (default: scaler-sandbox:<scaler version>).")
@click.option(
    "--offline",
    "mode",
    flag_value="offline",
    help="Build from a debootstrap root filesystem (no registry needed).",
)
@click.option("--online", "mode", flag_value="online", help="Build from python:3.11-slim.")
@click.option("--force", is_flag=True, help="Rebuild even when the image is current.")
def sandbox_build_image(
    tag: str | None, mode: Literal["offline", "online"] | None, force: bool
) -> None:
    """Build the Docker sandbox image (Python 3, g++, the runner).

    By default online when the base image can be pulled, else offline. An image built for
    another scaler or runner version is stale and is rebuilt.
    """
    from scaler.sandbox.image import docker_client, image_status

    status = image_status(docker_client(), tag)
    if status.usable and not force:
        click.echo(f"{status.tag} is current (use --force to rebuild)")
        return
    if status.exists:
        log.info("rebuilding", tag=status.tag, reason=status.stale_reason or "--force")
    click.echo(built_line(build_image_with_progress(tag, mode or "auto")))


@sandbox.command("doctor")
@json_option
def sandbox_doctor(as_json: bool) -> None:
    """Say which sandbox backends can run here, and which one `auto` picks and why."""
    checks, choice = diagnose(plugins_of_run())
    if as_json:
        print_json(
            {
                "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in checks],
                "auto": {"backend": choice.backend, "reason": choice.reason},
            }
        )
        return
    for check in checks:
        click.echo(f"{'ok ' if check.ok else 'no '} {check.name}: {check.detail}")
    click.echo(f"auto picks: {choice.backend} ({choice.reason})")
    if choice.backend == "process":
        click.echo("note: the process backend is not a security boundary against hostile code")


@sandbox.command("run")
@click.argument("program", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--language",
    type=click.Choice(["python", "cpp"]),
    default=None,
    help="Default: from the file extension (.py, .cpp/.cc).",
)
@click.option("--stdin", "stdin_file", type=click.File("r"), help="File to feed on stdin.")
@click.option(
    "--timeout",
    type=float,
    default=10.0,
    show_default=True,
    help="CPU seconds (wall clock: twice that).",
)
@click.option("--memory-mb", type=int, default=1024, show_default=True)
@backend_option
@json_option
def sandbox_run(
    program: Path,
    language: Language | None,
    stdin_file: Any,
    timeout: float,
    memory_mb: int,
    backend: str,
    as_json: bool,
) -> None:
    """Run one PROGRAM under the sandbox's limits and print the result."""
    if language is None:
        by_suffix: dict[str, Language] = {
            ".py": "python",
            ".cpp": "cpp",
            ".cc": "cpp",
            ".cxx": "cpp",
        }
        language = by_suffix.get(program.suffix)
        if language is None:
            raise click.BadParameter(
                f"cannot tell the language of {program.name}; pass --language", param_hint="PROGRAM"
            )
    job = Job(
        Program(language, program.read_text(encoding="utf-8")),
        stdin_file.read() if stdin_file else "",
        Limits(cpu_s=timeout, wall_s=2 * timeout, memory_mb=memory_mb),
    )
    with open_sandbox(backend, workers=1) as box:
        (result,) = box.run_batch([job])
        ran_on = box.name
    if as_json:
        print_json({**result.to_dict(), "backend": ran_on})
    else:
        click.echo(
            f"status: {result.status} (exit {result.exit_code}), "
            f"{result.wall_s:.3f} s wall, {result.cpu_s:.3f} s CPU, backend {ran_on}"
        )
        if result.stdout:
            click.echo("-- stdout\n" + result.stdout.rstrip("\n"))
        if result.stderr:
            click.echo("-- stderr\n" + result.stderr.rstrip("\n"))
    if not result.ok:
        sys.exit(1)


@hookimpl
def scaler_register_commands(cli: click.Group) -> None:
    cli.add_command(sandbox)
