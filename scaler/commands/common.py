"""What the commands share: the run's plugin set, sandboxes, options, tables, JSON and progress.

Public, so that a plugin's commands look and behave like the core's: ``@json_option`` prints the
same JSON, ``open_sandbox("auto")`` makes the same choice with the same warning.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
import structlog
from rich.console import Console
from rich.table import Table

from scaler.errors import ScalerError
from scaler.plugins import Plugins
from scaler.sandbox.selection import PROCESS_WARNING, build_sandbox, diagnose

if TYPE_CHECKING:
    from rich.progress import Progress

    from scaler.evaluate.policies import Policy
    from scaler.sandbox.image import BuiltImage, Mode

log = structlog.get_logger("scaler.cli")


def plugins_of_run() -> Plugins:
    """The plugin set the command line loaded (``--plugin`` and the environment)."""
    plugins: Plugins = click.get_current_context().find_root().obj["plugins"]
    return plugins


def print_json(data: Any) -> None:
    text = json.dumps(data, indent=2, ensure_ascii=False)
    # A lone surrogate (from a JSON escape or undecodable argv) cannot be written as UTF-8;
    # in a JSON string its backslash escape is exactly how JSON spells it.
    click.echo(text.encode("utf-8", "backslashreplace").decode("utf-8"))


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(str(cell) for cell in row))
    Console(soft_wrap=True).print(table)


def open_sandbox(
    name: str,
    workers: int | None = None,
    options: Mapping[str, Any] | None = None,
    source: str | None = None,
) -> Any:
    """The named backend. For ``auto``, where Docker answers but the sandbox image is missing,
    the image is built first (about two minutes, once), so that Docker is what runs the jobs.

    ``options`` come from the [sandbox] table of the config file ``source``; errors name both.
    Unless they say otherwise, the runners keep their warm children between batches
    (``build_sandbox``).
    """
    plugins = plugins_of_run()
    options = {**(options or {}), **({"workers": workers} if workers else {})}
    if name != "auto":
        return sandbox_from(plugins, name, options, source)
    _, choice = diagnose(plugins)
    if choice.backend == "process" and choice.can_build_image:
        click.echo(
            "Docker answers but the sandbox image is not built: building it now "
            "(about two minutes, once; `scaler sandbox build-image` does the same)",
            err=True,
        )
        try:
            built = build_image_with_progress(None, "auto")
        except ScalerError as exc:
            log.warning("the sandbox image could not be built", error=str(exc))
        else:
            click.echo(built_line(built), err=True)
            _, choice = diagnose(plugins)
    if choice.backend == "process":
        log.warning(PROCESS_WARNING, reason=choice.reason)
    return sandbox_from(plugins, choice.backend, options, source)


def sandbox_from(
    plugins: Plugins, name: str, options: Mapping[str, Any], source: str | None
) -> Any:
    return build_sandbox(plugins, name, options, source=source)


def build_image_with_progress(tag: str | None, mode: Mode) -> BuiltImage:
    """Build the sandbox image, its current stage and the time so far shown on stderr."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from scaler.sandbox.image import build_image, docker_client

    columns = (SpinnerColumn(), TimeElapsedColumn(), TextColumn("{task.description}"))
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("building the sandbox image", total=None)
        return build_image(
            docker_client(),
            tag,
            mode,
            log=lambda message: progress.update(task, description=message),
        )


def built_line(built: BuiltImage) -> str:
    return (
        f"built {built.tag} ({built.method}, {built.size_bytes / 1e6:.0f} MB) "
        f"in {built.seconds:.0f} s"
    )


def parse_levels(text: str | None) -> list[int] | None:
    """``--levels 0,3,5`` -> sorted levels; None (every level) when not given."""
    return parse_integers(text, "--levels") if text else None


def parse_integers(text: str, option: str) -> list[int]:
    """``0,3,5`` -> the sorted distinct integers; an error naming ``option`` otherwise."""
    try:
        return sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError as exc:
        raise click.BadParameter(f"{text!r}: expected integers", param_hint=option) from exc


def make_policy(spec: str, options: Sequence[str]) -> Policy:
    """The policy ``NAME:MODEL`` of the run's plugin set, with ``--policy-option`` pairs."""
    from scaler.evaluate.policies import POLICIES
    from scaler.synth.llm import parse_llm_spec

    name, model = parse_llm_spec(spec)
    factory = plugins_of_run().get(POLICIES, name)
    try:
        return factory(model, **key_values(options, "--policy-option"))
    except TypeError as exc:
        raise click.BadParameter(
            f"policy {name!r} does not take these options: {exc}", param_hint="--policy-option"
        ) from exc


#: ``--policy-option KEY=VALUE`` (repeatable), for commands that build a policy.
policy_option = click.option(
    "--policy-option",
    "options",
    multiple=True,
    metavar="KEY=VALUE",
    help="A policy option, JSON where it parses. All: temperature (0.6), top_p (0.95), "
    "max_tokens. openai: base_url, api_key, concurrency ... hf: seed, device, dtype, "
    "batch_size (64), chat_template_kwargs. vllm: seed, chat_template_kwargs, engine options "
    "(tensor_parallel_size ...).",
)


#: ``--sandbox-option KEY=VALUE`` (repeatable), for the benchmarks: what a config's
#: [sandbox] table would set, so that an A/B of a backend's settings is one command.
sandbox_option = click.option(
    "--sandbox-option",
    "sandbox_options",
    multiple=True,
    metavar="KEY=VALUE",
    help="An option of the measured backend, JSON where it parses, as in a config's [sandbox] "
    "table: pin_cpus (true), keep_warm; docker: transport (auto, fifo, exec), memory_mb, "
    "cpus, jobs_per_container ... (docs/sandbox.md). --compare gets the defaults.",
)


def key_values(pairs: Sequence[str], option: str) -> dict[str, Any]:
    """``KEY=VALUE`` pairs of a repeatable option; values parsed as JSON where they parse."""
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint=option)
        try:
            options[key] = json.loads(value)
        except (json.JSONDecodeError, RecursionError):
            options[key] = value
    return options


#: A run config file; none: the embedded default (``scaler run``, ``scaler train``).
config_argument = click.argument(
    "config_file",
    metavar="[CONFIG.toml]",
    required=False,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
pool_option = click.option(
    "--pool",
    type=click.Path(dir_okay=True, path_type=Path),
    help="A native pool (JSONL file or directory); default: every installed environment.",
)
pool_format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(["native", "scaler-official"]),
    help="Pool format; default: scaler-official for a .json file, else native.",
)
#: Validation's breadth trials and depth runs (``scaler validate`` and its benchmark).
trials_option = click.option(
    "--trials",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="Breadth trials and depth runs per environment.",
)
F = TypeVar("F", bound=Callable[..., Any])


def backend_option(command: F) -> F:
    """``--backend NAME``, and ``--ray-address`` for ``--backend ray``."""
    command = click.option(
        "--ray-address",
        metavar="ADDR",
        expose_value=False,
        callback=_join_ray,
        help="With --backend ray: the Ray cluster to join (auto, HOST:PORT, ray://...); "
        "default: RAY_ADDRESS, else a local cluster started for this command.",
    )(command)
    return click.option(
        "--backend",
        default="auto",
        show_default=True,
        help="Sandbox backend that runs generators and solutions: auto (docker when the engine "
        "answers and the image is built, else process), docker, process, ray (every node of a "
        "Ray cluster, each on its own auto), or a plugin's.",
    )(command)


def _join_ray(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    """Ray reads the cluster's address from ``RAY_ADDRESS`` (the ray backend passes none)."""
    if value:
        os.environ["RAY_ADDRESS"] = value


def progress_bar() -> Progress:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[status]}"),
        console=Console(stderr=True),
    )
