"""Errors a user can act on: each names the file, the record, the field and the value."""

from __future__ import annotations

from typing import Any


class ScalerError(Exception):
    """Base class of errors caused by input; the CLI shows the message and exits 2."""


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
        what = f" field {field!r}" if field is not None else ""
        shown = ""
        if value is not None:
            text = repr(value)
            shown = f" (value {text[:80] + '...' if len(text) > 80 else text})"
        super().__init__(f"{where}:{what} {message}{shown}".replace(": ", ": ", 1))


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
