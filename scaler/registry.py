"""What library code knows of plugins: the kinds of registry, and a loaded set as it uses one.

Every kind of component scaler looks up by name has one ``Kind`` constant, defined beside the
interface it registers (``CONTROLLERS: Kind[ControllerFactory]`` in
``scaler.curriculum.controllers``), so a lookup is typed: ``plugins.get(CONTROLLERS, name)``
is a ``ControllerFactory`` and ``plugins.build(CONTROLLERS, ...)`` a ``Controller``.

This module is apart from ``scaler.plugins`` (the loader) because the loader imports the hook
specifications, and through their signatures every interface the hooks name; the modules that
define those interfaces also take a plugin set, so they type it with ``PluginSet`` from here,
which imports none of them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

import attrs

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
F = TypeVar("F")
R = TypeVar("R")

#: The callback a registration hook receives: ``register(name, obj)``. A hook of environments
#: receives ``Callable[[EnvSpec], None]`` instead (an environment is named by its id).
Register = Callable[[str, F], None]


@attrs.frozen
class Kind(Generic[T_co]):
    """One registry: ``name`` (as ``scaler plugins`` lists it), and how an error names one
    entry (``singular``). Its hook is ``scaler_register_<name>``; ``T_co`` is what is
    registered."""

    name: str
    singular: str

    @property
    def hook(self) -> str:
        return f"scaler_register_{self.name}"


@attrs.frozen
class Registered(Generic[T]):
    name: str
    obj: T
    plugin: str
    #: Plugins whose registration of the same name this one replaced, earliest first.
    replaced: tuple[str, ...] = ()


def _names(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    return tuple(part.strip() for part in value.split(",") if part.strip())


def locate(spec: str) -> str:
    """A ``--plugin`` value as any process can load it: a file or package directory becomes an
    absolute path (a bare name too, where ``NAME.py`` or ``NAME/`` is in the working directory:
    the ``scaler`` script does not import from there); anything else stays a module name."""
    path = Path(spec)
    for candidate in (path, Path(f"{spec}.py")):
        if candidate.exists():
            return str(candidate.resolve())
    return spec


@attrs.frozen
class PluginSpec:
    """What decides a process's plugin set; the same spec gives the same set in any process.

    ``extra`` are ``--plugin`` values with paths made absolute (a Ray worker runs elsewhere);
    ``load`` is ``SCALER_LOAD_PLUGINS`` (None: every installed plugin), ``block`` is
    ``SCALER_BLOCK_PLUGINS``. It is here rather than in ``scaler.plugins`` because a trainer
    that runs its own loop (``scaler.trainer.LoopOwner``, named by a hook) is handed one.
    """

    extra: tuple[str, ...] = ()
    load: tuple[str, ...] | None = None
    block: tuple[str, ...] = ()

    @classmethod
    def from_environ(
        cls, extra: Iterable[str] = (), environ: Mapping[str, str] | None = None
    ) -> PluginSpec:
        """The spec of ``environ`` (default: this process's) plus the ``--plugin`` values."""
        environ = os.environ if environ is None else environ
        listed = (*(_names(environ.get("SCALER_PLUGINS")) or ()), *extra)
        return cls(
            extra=tuple(dict.fromkeys(locate(spec) for spec in listed)),
            load=_names(environ.get("SCALER_LOAD_PLUGINS")),
            block=_names(environ.get("SCALER_BLOCK_PLUGINS")) or (),
        )

    def to_environ(self) -> dict[str, str]:
        """The environment variables that give another process this spec."""
        environ = {"SCALER_PLUGINS": ",".join(self.extra)}
        if self.load is not None:
            environ["SCALER_LOAD_PLUGINS"] = ",".join(self.load)
        if self.block:
            environ["SCALER_BLOCK_PLUGINS"] = ",".join(self.block)
        return environ


class PluginSet(Protocol):
    """A loaded plugin set, as the library takes it: always passed in, never found.

    ``scaler.plugins.Plugins`` is the one implementation; load it once per process
    (``Plugins.load()``) and hand it to what needs components by name.
    """

    @property
    def spec(self) -> PluginSpec:
        """Where the set came from; hand it to other processes to load the same set."""

    @property
    def hook(self) -> Any:
        """Call event hooks: ``plugins.hook.scaler_step_end(report=...)``."""

    def registry(self, kind: Kind[T]) -> Mapping[str, Registered[T]]:
        """Name -> Registered for one kind of component, in registration order."""

    def get(self, kind: Kind[T], name: str) -> T:
        """The component registered as ``name``; ``UnknownName`` lists the known ones."""

    def build(
        self,
        kind: Kind[Callable[..., R]],
        name: str,
        options: Mapping[str, Any],
        *,
        table: str,
        source: str | None = None,
        **args: Any,
    ) -> R:
        """What the factory ``name`` makes of ``args`` and the ``options`` of the run config's
        ``table``; bad input is a ConfigError naming the config file ``source`` and field."""
