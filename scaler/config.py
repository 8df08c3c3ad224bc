"""Run configurations: a TOML file naming the pool, sandbox, controller, curation and trainer.

Every component is named, and the name resolves through the plugin registries when the run
starts, so a plugin's controller is used by writing its name. Options of a component sit in its
table beside ``name`` and are passed to its factory. With no file, ``RunConfig()`` is the
embedded default; ``configs/default.toml`` spells it out (a test keeps the two equal).

    [run]         steps, out, seed, batch_size, prefetch
    [pool]        paths (native pools; empty: every installed environment), envs (ids to keep)
    [sandbox]     name (auto, docker, process, ...), then its options
    [prompt]      name
    [controller]  name, then its options
    [curation]    name, then its options
    [trainer]     name, then its options
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from scaler.compat import tomllib
from scaler.curriculum.config import CurriculumConfig
from scaler.errors import ConfigError

_RUN_KEYS: dict[str, type | tuple[type, ...]] = {
    "steps": int,
    "out": str,
    "seed": int,
    "batch_size": int,
    "prefetch": bool,
}
_POOL_KEYS: dict[str, type | tuple[type, ...]] = {"paths": list, "envs": list}
_COMPONENT_TABLES = ("sandbox", "prompt", "controller", "curation", "trainer")


@attrs.frozen
class Component:
    """A component named for a registry, with the options for its factory."""

    name: str
    options: Mapping[str, Any] = attrs.field(factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, **self.options}


@attrs.frozen
class RunConfig:
    steps: int = 200
    #: Where runs go: each run writes into ``out/<start time>`` unless given a directory.
    out: str = "runs"
    seed: int = 0
    batch_size: int = 8
    prefetch: bool = True
    pool_paths: tuple[str, ...] = ()
    pool_envs: tuple[str, ...] = ()
    sandbox: Component = Component("auto")
    prompt: Component = Component("scaler")
    controller: Component = Component("scaler")
    curation: Component = Component("scaler-window", {"window": 8})
    trainer: Component = Component("simulate", {"rollouts": 8})
    #: The file it was read from, for error messages and the run record.
    source: str | None = attrs.field(default=None, eq=False)

    def curriculum(self) -> CurriculumConfig:
        return CurriculumConfig(
            controller=self.controller.name,
            controller_options=dict(self.controller.options),
            curation=self.curation.name,
            curation_options=dict(self.curation.options),
            batch_size=self.batch_size,
            seed=self.seed,
            prefetch=self.prefetch,
        )

    def to_dict(self) -> dict[str, Any]:
        """The TOML tables as a dict; ``from_dict`` reads it back to an equal config."""
        return {
            "run": {
                "steps": self.steps,
                "out": self.out,
                "seed": self.seed,
                "batch_size": self.batch_size,
                "prefetch": self.prefetch,
            },
            "pool": {"paths": list(self.pool_paths), "envs": list(self.pool_envs)},
            **{table: getattr(self, table).to_dict() for table in _COMPONENT_TABLES},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str | None = None) -> RunConfig:
        if not isinstance(data, Mapping):
            raise ConfigError(
                f"must be a table of tables (run, pool, ...), got {type(data).__name__}",
                path=source,
            )
        unknown = sorted(set(data) - {"run", "pool", *_COMPONENT_TABLES})
        if unknown:
            raise ConfigError(
                f"unknown table; the tables are run, pool, {', '.join(_COMPONENT_TABLES)}",
                path=source,
                field=unknown[0],
            )
        run = _table(data, "run", _RUN_KEYS, source)
        pool = _table(data, "pool", _POOL_KEYS, source)
        values: dict[str, Any] = dict(run)
        for key in ("paths", "envs"):
            items = pool.get(key, [])
            if not all(isinstance(item, str) and item for item in items):
                raise ConfigError(
                    f"must be a list of non-empty strings, got {items!r}",
                    path=source,
                    field=f"pool.{key}",
                )
            values[f"pool_{key}"] = tuple(items)
        for table in _COMPONENT_TABLES:
            if table in data:
                values[table] = _component(data[table], table, source)
        config = cls(**values, source=source)
        for key in ("steps", "batch_size"):
            if getattr(config, key) < 1:
                raise ConfigError(
                    f"must be >= 1, got {getattr(config, key)!r}", path=source, field=f"run.{key}"
                )
        return config

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> RunConfig:
        try:
            with open(path, "rb") as handle:
                data = tomllib.load(handle)
        except OSError as exc:
            raise ConfigError(f"cannot read it: {exc.strerror}", path=str(path)) from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"not valid TOML: {exc}", path=str(path)) from exc
        except UnicodeDecodeError as exc:
            raise ConfigError(
                f"not UTF-8 text: {exc.reason} at byte {exc.start}", path=str(path)
            ) from exc
        except RecursionError as exc:
            raise ConfigError(
                "not readable: it nests arrays or tables too deeply", path=str(path)
            ) from exc
        config = cls.from_dict(data, str(path))
        base = Path(path).parent
        paths = tuple(str(base / p) if not Path(p).is_absolute() else p for p in config.pool_paths)
        return attrs.evolve(config, pool_paths=paths)


def _table(
    data: Mapping[str, Any],
    table: str,
    keys: Mapping[str, type | tuple[type, ...]],
    source: str | None,
) -> dict[str, Any]:
    values = data.get(table, {})
    if not isinstance(values, dict):
        raise ConfigError("must be a table", path=source, field=table)
    for key, value in values.items():
        if key not in keys:
            raise ConfigError(
                f"unknown key; [{table}] takes {', '.join(keys)}",
                path=source,
                field=f"{table}.{key}",
            )
        kind = keys[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            name = kind.__name__ if isinstance(kind, type) else kind[0].__name__
            raise ConfigError(
                f"must be a {name}, got {value!r}", path=source, field=f"{table}.{key}"
            )
    return dict(values)


def _component(values: Any, table: str, source: str | None) -> Component:
    if not isinstance(values, dict):
        raise ConfigError("must be a table with a name", path=source, field=table)
    name = values.get("name")
    if not isinstance(name, str) or not name:
        raise ConfigError(
            f"must name the {table} (a registered name), got {name!r}",
            path=source,
            field=f"{table}.name",
        )
    return Component(name, {k: v for k, v in values.items() if k != "name"})
