"""Errors a user can act on: each names the file, the record, the field and the value."""

from __future__ import annotations

from typing import Any


class ScalerError(Exception):
    """Base class of errors caused by input; the CLI shows the message and exits 2."""


def describe(message: str, field: str | None = None, value: Any = None) -> str:
    """``field 'levels' must not decrease ... (value [0, 5, 3])``, the value cut to 80 chars.

    Every error about a record words its fault this way, so the same fault reads the same
    whether a pool file or a plugin carried it.
    """
    what = f"field {field!r} " if field is not None else ""
    shown = ""
    if value is not None:
        text = repr(value)
        shown = f" (value {text[:80] + '...' if len(text) > 80 else text})"
    return f"{what}{message}{shown}"


class PoolError(ScalerError):
    """A record in a pool (or a file that should be one) is not valid."""

    def __init__(
        self,
        path: str,
        message: str,
        *,
        line: int | None = None,
        key: str | None = None,
        field: str | None = None,
        value: Any = None,
    ) -> None:
        self.path = path
        self.line = line
        self.key = key
        self.field = field
        self.value = value
        self.message = message
        where = path
        if line is not None:
            where += f", line {line}"
        if key is not None:
            where += f", record {key!r}"
        super().__init__(f"{where}: {describe(message, field, value)}")


class EnvSpecError(ScalerError):
    """An environment breaks a rule that every EnvSpec keeps, whoever built it.

    It carries no location: a pool names the file and line, a plugin registry the plugin and
    the env id, each wrapping the same ``describe`` text.
    """

    def __init__(self, field: str, message: str, value: Any = None) -> None:
        self.field = field
        self.message = message
        self.value = value
        super().__init__(describe(message, field, value))


class UnknownName(ScalerError):
    """A name that no plugin registered (an env id, a verifier, a sandbox ...)."""

    def __init__(self, kind: str, name: str, known: list[str]) -> None:
        self.kind = kind
        self.name = name
        hint = ", ".join(sorted(known)[:20]) or "none registered"
        more = " ..." if len(known) > 20 else ""
        super().__init__(f"unknown {kind} {name!r}; known: {hint}{more}")


class InstanceError(ScalerError):
    """An instance could not be built: the generator or the reference solution failed."""


class ConfigError(ScalerError):
    """A run configuration, or an option given to a component, is not valid."""

    def __init__(self, message: str, *, path: str | None = None, field: str | None = None) -> None:
        self.message = message
        self.path = path
        self.field = field
        named = f"field {field!r}" if field is not None else None
        where = ", ".join(part for part in (path, named) if part)
        super().__init__(f"{where}: {message}" if where else message)

    def located(self, path: str | None, table: str) -> ConfigError:
        """The same error, named by the config file and the table the option sits in."""
        field = f"{table}.{self.field}" if self.field is not None else table
        return ConfigError(self.message, path=path, field=field)
