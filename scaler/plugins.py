"""The plugin manager: default plugins, then the ``scaler`` entry points, then ``--plugin`` modules.

Components are looked up by name in registries filled through the registration hooks. The hooks
are called in load order, so an installed plugin can replace a default and a ``--plugin`` module
can replace both; every registry entry remembers which plugin put it there and what it replaced.

Environment variables:

- ``SCALER_LOAD_PLUGINS``: comma-separated entry-point names (or distribution names) to load;
  others are skipped. Set it empty to load no installed plugin at all.
- ``SCALER_BLOCK_PLUGINS``: comma-separated plugin names never to load (default plugins too).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import os
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import attrs
import pluggy

from scaler import hookspecs
from scaler.errors import EnvSpecError, ScalerError, UnknownName

#: The core's own implementations, loaded as plugins like any other (dogfooding).
DEFAULT_PLUGINS: tuple[str, ...] = (
    "scaler.default_plugins.checks",
    "scaler.default_plugins.curriculum",
    "scaler.default_plugins.evaluation",
    "scaler.default_plugins.importers",
    "scaler.default_plugins.llms",
    "scaler.default_plugins.prompts",
    "scaler.default_plugins.sandboxes",
    "scaler.default_plugins.sources",
    "scaler.default_plugins.synth_commands",
    "scaler.default_plugins.synthesis",
    "scaler.default_plugins.train_commands",
    "scaler.default_plugins.verifiers",
)

#: Registry name -> the registration hook that fills it.
REGISTRIES: dict[str, str] = {
    "environments": "scaler_register_environments",
    "importers": "scaler_register_importers",
    "sources": "scaler_register_sources",
    "llms": "scaler_register_llms",
    "extractors": "scaler_register_extractors",
    "generators": "scaler_register_generators",
    "checks": "scaler_register_checks",
    "verifiers": "scaler_register_verifiers",
    "prompts": "scaler_register_prompts",
    "controllers": "scaler_register_controllers",
    "curation": "scaler_register_curation",
    "sandboxes": "scaler_register_sandboxes",
    "trainers": "scaler_register_trainers",
    "policies": "scaler_register_policies",
}


#: How an error message names one entry of a registry.
_SINGULAR: dict[str, str] = {
    "environments": "environment",
    "curation": "curation policy",
    "sandboxes": "sandbox",
    "llms": "LLM client",
    "checks": "check",
}


class PluginError(ScalerError):
    """A plugin could not be loaded or does not fit the hook specifications."""


@attrs.frozen
class Registered:
    name: str
    obj: Any
    plugin: str
    #: Plugins whose registration of the same name this one replaced, earliest first.
    replaced: tuple[str, ...] = ()


@attrs.frozen
class PluginInfo:
    name: str
    origin: str
    module: str
    version: str | None
    hooks: tuple[str, ...]


def _names(value: str | None) -> set[str] | None:
    if value is None:
        return None
    return {part.strip() for part in value.split(",") if part.strip()}


class Plugins:
    """One loaded set of plugins and the registries they filled."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager("scaler")
        self.pm.add_hookspecs(hookspecs)
        self._info: dict[str, tuple[str, str, str | None]] = {}
        self._registries: dict[str, dict[str, Registered]] = {}

    @classmethod
    def load(cls, extra: Iterable[str] = (), environ: Mapping[str, str] | None = None) -> Plugins:
        """Load default plugins, installed entry points and ``extra`` modules or paths."""
        environ = os.environ if environ is None else environ
        blocked = _names(environ.get("SCALER_BLOCK_PLUGINS")) or set()
        only = _names(environ.get("SCALER_LOAD_PLUGINS"))
        plugins = cls()
        for name in DEFAULT_PLUGINS:
            if name not in blocked:
                plugins._register(importlib.import_module(name), name, "default", None)
        for ep in importlib.metadata.entry_points(group="scaler"):
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
        for spec in extra:
            module = _import_module_or_path(spec)
            if module.__name__ not in blocked:
                plugins._register(module, module.__name__, f"--plugin {spec}", None)
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

    def registry(self, kind: str) -> dict[str, Registered]:
        """Name -> Registered for one kind of component (see ``REGISTRIES``)."""
        if kind not in REGISTRIES:
            raise UnknownName("registry", kind, list(REGISTRIES))
        if kind not in self._registries:
            self._registries[kind] = self._collect(kind)
        return self._registries[kind]

    def get(self, kind: str, name: str) -> Any:
        entries = self.registry(kind)
        if name not in entries:
            raise UnknownName(_SINGULAR.get(kind, kind.rstrip("s")), name, list(entries))
        return entries[name].obj

    def _collect(self, kind: str) -> dict[str, Registered]:
        entries: dict[str, Registered] = {}
        caller = getattr(self.pm.hook, REGISTRIES[kind])
        # An environment is checked as a pool record is, its output type against the verifiers.
        output_types = set(self.registry("verifiers")) if kind == "environments" else set()
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
                    f"plugin {impl.plugin_name!r} failed in {REGISTRIES[kind]}: "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
        return entries


def _registration(
    kind: str, plugin: str, args: tuple[Any, ...], output_types: set[str]
) -> tuple[str, Any]:
    """Environments register themselves (named by id); everything else as (name, object)."""
    if kind == "environments":
        from scaler.model import EnvSpec
        from scaler.pool import check_env

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
    """``--plugin`` takes an importable module name or a path to a ``.py`` file."""
    path = Path(spec)
    if spec.endswith(".py") or path.exists():
        if not path.is_file():
            raise PluginError(f"--plugin {spec}: no such file")
        name = f"scaler_plugin_{path.stem}"
        module_spec = importlib.util.spec_from_file_location(name, path)
        if module_spec is None or module_spec.loader is None:
            raise PluginError(f"--plugin {spec}: cannot be loaded as a Python module")
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[name] = module
        try:
            module_spec.loader.exec_module(module)
        except Exception as exc:
            del sys.modules[name]
            raise PluginError(f"--plugin {spec}: {type(exc).__name__}: {exc}") from exc
        return module
    try:
        return importlib.import_module(spec)
    except ImportError as exc:
        raise PluginError(f"--plugin {spec}: cannot import it ({exc})") from exc


_default: Plugins | None = None


def default_plugins() -> Plugins:
    """The plugins a library caller gets without loading any: defaults plus entry points."""
    global _default
    if _default is None:
        _default = Plugins.load()
    return _default
