"""scaler: verifiable, difficulty-controlled reasoning environments from programming problems.

The names below are the library API (docs/api.md). Those that would import the curriculum,
the plugin manager or the sandbox are loaded on first use, so ``import scaler`` stays cheap
for a reward function that only verifies.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from scaler.errors import (
    ConfigError,
    EnvSpecError,
    InstanceError,
    PoolError,
    ScalerError,
    UnknownName,
)
from scaler.hookspecs import hookimpl
from scaler.model import EnvSpec, Instance, Limits, Program, ScaleParam, Verdict
from scaler.pool import load_pool, write_pool
from scaler.verify import compute_score, verify

if TYPE_CHECKING:
    from scaler.config import RunConfig
    from scaler.curriculum.controllers import Controller
    from scaler.curriculum.curation import Curation, Retirement
    from scaler.curriculum.scheduler import StepReport
    from scaler.curriculum_loop import Curriculum, Prompt, Step
    from scaler.plugins import PluginError, Plugins
    from scaler.sandbox.jobs import Job, JobResult, Sandbox
    from scaler.trainer import Trainer

__version__ = "0.1.0"

#: Name -> the module that defines it, imported when the name is first used.
_LAZY: dict[str, str] = {
    "Controller": "scaler.curriculum.controllers",
    "Curation": "scaler.curriculum.curation",
    "Curriculum": "scaler.curriculum_loop",
    "Job": "scaler.sandbox.jobs",
    "JobResult": "scaler.sandbox.jobs",
    "PluginError": "scaler.plugins",
    "Plugins": "scaler.plugins",
    "Prompt": "scaler.curriculum_loop",
    "Retirement": "scaler.curriculum.curation",
    "RunConfig": "scaler.config",
    "Sandbox": "scaler.sandbox.jobs",
    "Step": "scaler.curriculum_loop",
    "StepReport": "scaler.curriculum.scheduler",
    "Trainer": "scaler.trainer",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'scaler' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "ConfigError",
    "Controller",
    "Curation",
    "Curriculum",
    "EnvSpec",
    "EnvSpecError",
    "Instance",
    "InstanceError",
    "Job",
    "JobResult",
    "Limits",
    "PluginError",
    "Plugins",
    "PoolError",
    "Program",
    "Prompt",
    "Retirement",
    "RunConfig",
    "Sandbox",
    "ScaleParam",
    "ScalerError",
    "Step",
    "StepReport",
    "Trainer",
    "UnknownName",
    "Verdict",
    "__version__",
    "compute_score",
    "hookimpl",
    "load_pool",
    "verify",
    "write_pool",
]
