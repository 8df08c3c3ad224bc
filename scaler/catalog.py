"""Where a command's environments come from: a pool file, or every registered environment."""

from __future__ import annotations

import os

from scaler.errors import UnknownName
from scaler.model import EnvSpec
from scaler.plugins import Plugins
from scaler.pool import load_pool


def available_envs(plugins: Plugins, pool: str | os.PathLike[str] | None = None) -> list[EnvSpec]:
    """The pool's environments, or the registered ones; output types must have a verifier."""
    if pool is None:
        return [entry.obj for entry in plugins.registry("environments").values()]
    return load_pool(pool, output_types=plugins.registry("verifiers"))


def find_env(plugins: Plugins, env_id: str, pool: str | os.PathLike[str] | None = None) -> EnvSpec:
    envs = {env.id: env for env in available_envs(plugins, pool)}
    if env_id not in envs:
        raise UnknownName("environment", env_id, list(envs))
    return envs[env_id]
