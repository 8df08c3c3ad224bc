"""The plugin manager: default plugins, then the ``scaler`` entry points, then ``--plugin`` modules.

Components are looked up by name in registries filled through the registration hooks, one
registry per ``Kind`` (``KINDS``): ``plugins.get(CONTROLLERS, "scaler")`` is typed as what
``CONTROLLERS`` holds. The hooks are called in load order, so an installed plugin can replace
a default and a ``--plugin`` module can replace both; every registry entry remembers which
plugin put it there and what it replaced.

A process has one plugin set, loaded once from one ``PluginSpec``: the ``--plugin`` list and
the environment variables below. Processes that a run starts (Ray workers: the curriculum
actor, verl's reward workers) get the same spec through their environment, so a plugin's
verifier scores rewards where its environment makes instances.

Environment variables:

- ``SCALER_PLUGINS``: comma-separated plugin modules or paths to load, as ``--plugin`` does
  (``PluginSpec.to_environ`` writes it for the processes a run starts).
- ``SCALER_LOAD_PLUGINS``: comma-separated entry-point names (or distribution names) to load;
  others are skipped. Set it empty to load no installed plugin at all.
- ``SCALER_BLOCK_PLUGINS``: comma-separated plugin names never to load (default plugins too).

An unknown name in either of the last two is an error that lists the installed plugins.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import os
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

import attrs
import pluggy

from scaler import hookspecs
from scaler.curriculum.controllers import CONTROLLERS
from scaler.curriculum.curation import CURATION
from scaler.errors import ConfigError, EnvSpecError, ScalerError, UnknownName
from scaler.evaluate.policies import POLICIES
from scaler.model import ENVIRONMENTS, EnvSpec
from scaler.official_pool import IMPORTERS
from scaler.pool import check_env
from scaler.prompts import PROMPTS
from scaler.registry import Kind, PluginSpec, Registered, locate
from scaler.sandbox.jobs import SANDBOXES
from scaler.synth.checks import CHECKS
from scaler.synth.llm import LLMS
from scaler.synth.sources import SOURCES
from scaler.synth.stages import EXTRACTORS, GENERATORS
from scaler.trainer import TRAINERS
from scaler.verify import VERIFIERS

T = TypeVar("T")
R = TypeVar("R")

#: The core's own implementations, loaded as plugins like any other (dogfooding).
DEFAULT_PLUGINS: tuple[str, ...] = (
    "scaler.commands.bench",
    "scaler.commands.calibrate",
    "scaler.commands.envs",
    "scaler.commands.eval",
    "scaler.commands.export",
    "scaler.commands.plugins",
    "scaler.commands.pool",
    "scaler.commands.run",
    "scaler.commands.sandbox",
    "scaler.commands.simulate",
    "scaler.commands.synth",
    "scaler.commands.train",
    "scaler.commands.validate",
    "scaler.commands.verify",
    "scaler.default_plugins.checks",
    "scaler.default_plugins.curriculum",
    "scaler.default_plugins.importers",
    "scaler.default_plugins.llms",
    "scaler.default_plugins.policies",
    "scaler.default_plugins.prompts",
    "scaler.default_plugins.sandboxes",
    "scaler.default_plugins.sources",
    "scaler.default_plugins.synthesis",
    "scaler.default_plugins.trainers",
    "scaler.default_plugins.verifiers",
)

#: Every registry, in the order ``scaler plugins`` lists them; each fills from its ``hook``.
KINDS: tuple[Kind[Any], ...] = (
    ENVIRONMENTS,
    IMPORTERS,
    SOURCES,
    LLMS,
    EXTRACTORS,
    GENERATORS,
    CHECKS,
    VERIFIERS,
    PROMPTS,
    CONTROLLERS,
    CURATION,
    SANDBOXES,
    TRAINERS,
    POLICIES,
)


class PluginError(ScalerError):
    """A plugin could not be loaded or does not fit the hook specifications."""


@attrs.frozen
class PluginInfo:
    name: str
    origin: str
    module: str
    version: str | None
    hooks: tuple[str, ...]


class Plugins:
    """One loaded set of plugins and the registries they filled: the ``PluginSet``
    (``scaler.registry``) that library code is handed."""

    def __init__(self, spec: PluginSpec | None = None) -> None:
        self.pm = pluggy.PluginManager("scaler")
        self.pm.add_hookspecs(hookspecs)
        #: Where this set came from; hand it to other processes to load the same set.
        self.spec = spec or PluginSpec()
        self._info: dict[str, tuple[str, str, str | None]] = {}
        self._registries: dict[Kind[Any], dict[str, Registered[Any]]] = {}

    @classmethod
    def load(cls, extra: Iterable[str] = (), environ: Mapping[str, str] | None = None) -> Plugins:
        """Load default plugins, installed entry points and ``extra`` modules or paths."""
        return cls.from_spec(PluginSpec.from_environ(extra, environ))

    @classmethod
    def from_spec(cls, spec: PluginSpec) -> Plugins:
        """Load the plugin set ``spec`` describes; unknown names in it are errors."""
        entry_points = list(importlib.metadata.entry_points(group="scaler"))
        installed = {ep.name for ep in entry_points} | {
            ep.dist.name for ep in entry_points if ep.dist is not None
        }
        unknown = sorted(set(spec.load or ()) - installed)
        if unknown:
            raise PluginError(
                f"SCALER_LOAD_PLUGINS names {', '.join(map(repr, unknown))}, which no installed "
                f"plugin is called; installed: {', '.join(sorted(installed)) or 'none'}"
            )
        blocked = set(spec.block)
        only = None if spec.load is None else set(spec.load)
        plugins = cls(spec)
        for name in DEFAULT_PLUGINS:
            if name not in blocked:
                plugins._register(importlib.import_module(name), name, "default", None)
        for ep in entry_points:
            dist = ep.dist.name if ep.dist is not None else None
            if ep.name in blocked or (only is not None and not {ep.name, dist} & only):
                continue
            try:
                module = ep.load()
            except Exception as exc:
                raise PluginError(
                    f"entry point {ep.name!r} ({ep.value}) of {dist or 'an unknown distribution'} "
                    f"failed to load: {type(exc).__name__}: {exc}"
                ) from exc
            version = ep.dist.version if ep.dist is not None else None
            plugins._register(module, ep.name, f"entry point of {dist}", version)
        extra_names = set()
        for extra in spec.extra:
            module = _import_module_or_path(extra)
            extra_names.add(module.__name__)
            if module.__name__ not in blocked:
                plugins._register(module, module.__name__, f"--plugin {extra}", None)
        unknown = sorted(blocked - installed - set(DEFAULT_PLUGINS) - extra_names)
        if unknown:
            raise PluginError(
                f"SCALER_BLOCK_PLUGINS names {', '.join(map(repr, unknown))}, which no plugin is "
                f"called; plugins: {', '.join([*DEFAULT_PLUGINS, *sorted(installed)])}"
            )
        try:
            plugins.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            raise PluginError(f"plugin {exc.plugin!r}: {exc}") from exc
        return plugins

    def register(self, module: object, name: str, origin: str = "register()") -> None:
        """Add a plugin object after loading (tests and embedding applications use this)."""
        self._register(module, name, origin, None)
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            raise PluginError(f"plugin {name!r}: {exc}") from exc

    def _register(self, module: object, name: str, origin: str, version: str | None) -> None:
        if self.pm.has_plugin(name) or self.pm.is_registered(module):
            return
        try:
            self.pm.register(module, name=name)
        except (pluggy.PluginValidationError, ValueError) as exc:
            raise PluginError(f"plugin {name!r} ({origin}): {exc}") from exc
        self._info[name] = (origin, getattr(module, "__name__", repr(module)), version)
        self._registries.clear()

    @property
    def hook(self) -> Any:
        """Call event hooks: ``plugins.hook.scaler_step_end(report=...)``."""
        return self.pm.hook

    def info(self) -> list[PluginInfo]:
        result = []
        for name, plugin in self.pm.list_name_plugin():
            origin, module, version = self._info.get(name, ("unknown", repr(plugin), None))
            hooks = tuple(sorted(impl.name for impl in self.pm.get_hookcallers(plugin) or ()))
            result.append(PluginInfo(name, origin, module, version, hooks))
        return result

    def registry(self, kind: Kind[T]) -> dict[str, Registered[T]]:
        """Name -> Registered for one kind of component, in registration order."""
        if kind not in self._registries:
            self._registries[kind] = self._collect(kind)
        return self._registries[kind]

    def get(self, kind: Kind[T], name: str) -> T:
        """The component registered as ``name``; ``UnknownName`` lists the known ones."""
        entries = self.registry(kind)
        if name not in entries:
            raise UnknownName(kind.singular, name, list(entries))
        return entries[name].obj

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
        """The component ``name`` of registry ``kind``, made by its factory with ``args`` and the
        ``options`` of the run config's ``table``. An unknown name, options the factory refuses
        (a ConfigError) or does not take (a TypeError) are a ConfigError naming the config file
        ``source`` and the field, so every component of a run reports bad input alike."""
        try:
            factory = self.get(kind, name)
        except UnknownName as exc:
            raise ConfigError(str(exc), path=source, field=f"{table}.name") from exc
        try:
            return factory(**args, **options)
        except ConfigError as exc:
            raise exc.located(source, table) from exc
        except TypeError as exc:
            raise ConfigError(
                f"{name!r} does not take these options: {exc}", path=source, field=table
            ) from exc

    def _collect(self, kind: Kind[T]) -> dict[str, Registered[T]]:
        entries: dict[str, Registered[T]] = {}
        caller = getattr(self.pm.hook, kind.hook)
        # An environment is checked as a pool record is, its output type against the verifiers.
        output_types = set(self.registry(VERIFIERS)) if kind == ENVIRONMENTS else set()
        for impl in caller.get_hookimpls():

            def register(*args: Any, _plugin: str = impl.plugin_name) -> None:
                name, obj = _registration(kind, _plugin, args, output_types)
                before = entries.get(name)
                replaced = (*before.replaced, before.plugin) if before else ()
                entries[name] = Registered(name, obj, _plugin, replaced)

            try:
                impl.function(register)
            except ScalerError:
                raise
            except Exception as exc:
                raise PluginError(
                    f"plugin {impl.plugin_name!r} failed in {kind.hook}: "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
        return entries


def _registration(
    kind: Kind[Any], plugin: str, args: tuple[Any, ...], output_types: set[str]
) -> tuple[str, Any]:
    """Environments register themselves (named by id); everything else as (name, object)."""
    if kind == ENVIRONMENTS:
        if len(args) != 1 or not isinstance(args[0], EnvSpec):
            raise PluginError(f"plugin {plugin!r}: register() takes one EnvSpec, got {args!r}")
        env = args[0]
        try:
            check_env(env, output_types)
        except EnvSpecError as exc:
            raise PluginError(f"plugin {plugin!r}: environment {env.id!r}: {exc}") from exc
        return env.id, env
    if len(args) != 2 or not isinstance(args[0], str) or not args[0]:
        raise PluginError(f"plugin {plugin!r}: register() takes (name, object), got {args!r}")
    return args[0], args[1]


def _import_module_or_path(spec: str) -> ModuleType:
    """``--plugin`` takes an importable module name, a ``.py`` file or a package directory."""
    path = Path(locate(spec))
    if not path.exists():
        if spec.endswith(".py") or os.sep in spec:
            raise PluginError(f"--plugin {spec}: no such file")
        try:
            return importlib.import_module(spec)
        except ImportError as exc:
            raise PluginError(f"--plugin {spec}: cannot import it ({exc})") from exc
    if path.is_dir():
        init = path / "__init__.py"
        if not init.is_file():
            raise PluginError(f"--plugin {spec}: a directory, but not a package (no __init__.py)")
        name = f"scaler_plugin_{path.name}"
        module_spec = importlib.util.spec_from_file_location(
            name, init, submodule_search_locations=[str(path)]
        )
    else:
        name = f"scaler_plugin_{path.stem}"
        module_spec = importlib.util.spec_from_file_location(name, path)
    if module_spec is None or module_spec.loader is None:
        raise PluginError(f"--plugin {spec}: cannot be loaded as a Python module")
    with _import_lock:
        if name in sys.modules:
            return sys.modules[name]
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[name] = module
        try:
            module_spec.loader.exec_module(module)
        except Exception as exc:
            del sys.modules[name]
            raise PluginError(f"--plugin {spec}: {type(exc).__name__}: {exc}") from exc
        return module


#: Held while a plugin file executes: another thread must not take the half-made module from
#: ``sys.modules`` (the import system's own locks do not cover modules loaded from a path).
_import_lock = threading.RLock()


_process: Plugins | None = None
#: verl's reward workers score a batch from many threads at once: one of them loads the set,
#: the others wait for it (a half-executed plugin module must never be registered).
_process_lock = threading.Lock()


def process_plugins() -> Plugins:
    """This process's plugin set, for the entry points that no caller of scaler's hands one:
    verl's reward function and the curriculum actor, in Ray workers. It is the one
    ``use_process_plugins`` was given (the command line gives it the set it loaded), else
    loaded once from this process's environment, which is how a Ray worker started by
    ``scaler train`` gets the driver's set. Library code takes its set from its caller."""
    global _process
    with _process_lock:
        if _process is None:
            _process = Plugins.from_spec(PluginSpec.from_environ())
        return _process


def use_process_plugins(plugins: Plugins | None) -> None:
    """Make ``plugins`` this process's set (None: load it again from the environment when next
    asked). Processes started from here get it through ``plugins.spec.to_environ()``, as
    ``scaler train`` hands it to Ray."""
    global _process
    _process = plugins
