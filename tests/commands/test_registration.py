"""The core's commands are plugins like any other: one module per command group in
``scaler.commands``, each a default plugin, and nothing registered by ``scaler.cli`` itself."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
from typing import Any

import click
import pytest

import scaler.commands
from scaler.plugins import DEFAULT_PLUGINS

#: Modules of scaler.commands that hold no command of their own.
SHARED = {"scaler.commands.common"}

COMMAND_MODULES = sorted(
    info.name
    for info in pkgutil.iter_modules(scaler.commands.__path__, "scaler.commands.")
    if info.name not in SHARED
)


def _registered(module_name: str) -> dict[str, click.Command]:
    """The commands the module adds to a root group of its own."""
    group = click.Group("scaler")
    importlib.import_module(module_name).scaler_register_commands(cli=group)
    return dict(group.commands)


def test_there_are_command_modules() -> None:
    assert "scaler.commands.run" in COMMAND_MODULES


@pytest.mark.parametrize("module_name", COMMAND_MODULES)
def test_each_command_module_is_a_default_plugin_that_registers_commands(
    module_name: str,
) -> None:
    assert module_name in DEFAULT_PLUGINS
    assert _registered(module_name)


def test_help_lists_every_command_group(run: Any) -> None:
    code, out, _ = run("--help")
    assert code == 0
    listed = out.split("Commands:", 1)[1].split()
    for module_name in COMMAND_MODULES:
        for name in _registered(module_name):
            assert name in listed, (module_name, name)


def test_cli_defines_no_command_of_its_own() -> None:
    code = "from scaler.cli import cli\nprint(sorted(cli.commands))\n"
    done = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, timeout=120
    )
    assert done.stdout.strip() == "[]"
