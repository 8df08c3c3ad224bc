"""Where a command's environments come from: a pool file, or every registered environment."""

from __future__ import annotations

import os

from scaler.config import RunConfig
from scaler.errors import ConfigError, UnknownName
from scaler.model import ENVIRONMENTS, EnvSpec
from scaler.pool import load_pool
from scaler.registry import PluginSet
from scaler.verify import VERIFIERS


def available_envs(plugins: PluginSet, pool: str | os.PathLike[str] | None = None) -> list[EnvSpec]:
    """The pool's environments, or the registered ones; output types must have a verifier."""
    if pool is None:
        return [entry.obj for entry in plugins.registry(ENVIRONMENTS).values()]
    return load_pool(pool, output_types=plugins.registry(VERIFIERS))


def find_env(
    plugins: PluginSet, env_id: str, pool: str | os.PathLike[str] | None = None
) -> EnvSpec:
    envs = {env.id: env for env in available_envs(plugins, pool)}
    if env_id not in envs:
        raise UnknownName("environment", env_id, list(envs))
    return envs[env_id]


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
    if not config.pool_envs:
        return found
    by_id = {env.id: env for env in found}
    for env_id in config.pool_envs:
        if env_id not in by_id:
            raise UnknownName("environment", env_id, list(by_id))
    return [by_id[env_id] for env_id in config.pool_envs]
