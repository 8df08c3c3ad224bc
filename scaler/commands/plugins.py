"""``scaler plugins``: what is loaded, from where, and which names each plugin registered."""

from __future__ import annotations

from typing import Any

import click

from scaler.commands.common import json_option, plugins_of_run, print_json, table
from scaler.hookspecs import hookimpl
from scaler.plugins import KINDS


@click.command("plugins")
@json_option
def plugins_command(as_json: bool) -> None:
    """List loaded plugins: version, origin, hooks, and the names each registered."""
    plugins = plugins_of_run()
    registered: dict[str, dict[str, list[str]]] = {}
    replaced: dict[str, list[str]] = {}
    for kind in KINDS:
        for entry in plugins.registry(kind).values():
            registered.setdefault(entry.plugin, {}).setdefault(kind.name, []).append(entry.name)
            for loser in entry.replaced:
                replaced.setdefault(loser, []).append(f"{kind.name}:{entry.name}")
    rows: list[dict[str, Any]] = [
        {
            "name": info.name,
            "version": info.version,
            "origin": info.origin,
            "module": info.module,
            "hooks": list(info.hooks),
            "registered": registered.get(info.name, {}),
            "replaced_by_later_plugins": replaced.get(info.name, []),
        }
        for info in plugins.info()
    ]
    if as_json:
        print_json(rows)
        return
    table(
        f"{len(rows)} plugins",
        ["name", "version", "origin", "hooks", "registered"],
        [
            [
                r["name"],
                r["version"] or "-",
                r["origin"],
                "\n".join(r["hooks"]),
                "\n".join(
                    f"{kind}: {', '.join(names) if len(names) <= 6 else f'{len(names)} names'}"
                    for kind, names in r["registered"].items()
                ),
            ]
            for r in rows
        ],
    )


@hookimpl
def scaler_register_commands(cli: click.Group) -> None:
    cli.add_command(plugins_command)
