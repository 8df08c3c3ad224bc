"""Where a command's environments come from: a pool file, or every registered environment."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from scaler.config import RunConfig
from scaler.errors import ConfigError, UnknownName
from scaler.model import ENVIRONMENTS, EnvSpec
from scaler.official_pool import import_official
from scaler.pool import load_pool
from scaler.registry import PluginSet
from scaler.verify import VERIFIERS


def available_envs(plugins: PluginSet, pool: str | os.PathLike[str] | None = None) -> list[EnvSpec]:
    """The pool's environments, or the registered ones; output types must have a verifier."""
    if pool is None:
        return [entry.obj for entry in plugins.registry(ENVIRONMENTS).values()]
    return load_pool(pool, output_types=plugins.registry(VERIFIERS))


def pool_envs(
    plugins: PluginSet, pool: str | os.PathLike[str], fmt: str | None = None
) -> list[EnvSpec]:
    """A pool's environments in either format: ``native`` or ``scaler-official`` (the
    official JSON; the default for a ``.json`` file)."""
    fmt = fmt or ("scaler-official" if Path(pool).suffix == ".json" else "native")
    if fmt == "scaler-official":
        return list(import_official(Path(pool)).envs)
    return available_envs(plugins, pool)


def select_envs(envs: Sequence[EnvSpec], ids: Sequence[str]) -> list[EnvSpec]:
    """The environments ``ids`` name, in that order; an id not among ``envs`` is refused."""
    by_id = {env.id: env for env in envs}
    for env_id in ids:
        if env_id not in by_id:
            raise UnknownName("environment", env_id, list(by_id))
    return [by_id[env_id] for env_id in ids]


def find_env(
    plugins: PluginSet, env_id: str, pool: str | os.PathLike[str] | None = None
) -> EnvSpec:
    (env,) = select_envs(available_envs(plugins, pool), [env_id])
    return env


def resolve_envs(config: RunConfig, plugins: PluginSet) -> list[EnvSpec]:
    """The run's environments: its pools (or every installed env), filtered by ``pool.envs``."""
    if config.pool_paths:
        envs: dict[str, EnvSpec] = {}
        for path in config.pool_paths:
            for env in available_envs(plugins, path):
                if env.id in envs:
                    raise ConfigError(
                        f"environment {env.id!r} is in more than one pool",
                        path=config.source,
                        field="pool.paths",
                    )
                envs[env.id] = env
        found = list(envs.values())
    else:
        found = available_envs(plugins)
    return select_envs(found, config.pool_envs) if config.pool_envs else found
