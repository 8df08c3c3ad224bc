"""The ``scaler`` command line: the root group and ``main``, which loads the plugins first.

Every command is a plugin's, the core's own too (``scaler.commands``, each registered through
``scaler_register_commands``): plugins are loaded before click parses, so that a ``--plugin``
module's commands are there to be parsed.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from scaler import __version__, logs
from scaler.errors import ScalerError
from scaler.plugins import Plugins, use_process_plugins


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="scaler")
@click.option(
    "--plugin",
    "extra_plugins",
    multiple=True,
    metavar="MODULE_OR_PATH",
    help="Load a plugin module that is not installed (repeatable), like `pytest -p`.",
)
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-vv for debug).")
@click.option(
    "--log-format", type=click.Choice(["console", "json"]), default="console", show_default=True
)
@click.pass_context
def cli(ctx: click.Context, extra_plugins: tuple[str, ...], verbose: int, log_format: str) -> None:
    """Build verifiable reasoning environments from programming problems, and sample them.

    \b
    Start here:
      scaler envs list                       the installed environments
      scaler envs sample lis-length --level 3 --seed 1
      scaler plugins                         what is installed, and who registered what

    Every command that lists things takes --json. Errors in input files name the file, the
    record, the field and the value, and exit with status 2.
    """
    logs.configure(verbose, log_format)
    ctx.ensure_object(dict)
    if "plugins" not in ctx.obj:
        ctx.obj["plugins"] = Plugins.load(extra_plugins)
        use_process_plugins(ctx.obj["plugins"])


def _extra_plugins(argv: Sequence[str]) -> list[str]:
    """``--plugin`` values, read before click parses, so plugins can add commands."""
    found = []
    for index, arg in enumerate(argv):
        if arg == "--plugin" and index + 1 < len(argv):
            found.append(argv[index + 1])
        elif arg.startswith("--plugin="):
            found.append(arg.split("=", 1)[1])
    return found


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        plugins = Plugins.load(_extra_plugins(args))
        use_process_plugins(plugins)
        plugins.hook.scaler_register_commands(cli=cli)
        cli.main(args=args, prog_name="scaler", obj={"plugins": plugins}, standalone_mode=False)
    except ScalerError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
