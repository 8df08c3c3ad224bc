"""scaler: verifiable, difficulty-controlled reasoning environments from programming problems.

The names below are the library API (docs/api.md), with what a plugin implements for each hook
(its "For plugin authors" table). Those that would import the curriculum, the plugin manager,
the sandbox, synthesis or evaluation are loaded on first use, so ``import scaler`` stays cheap
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
    from scaler.evaluate.policies import Policy
    from scaler.official_pool import ImportResult
    from scaler.plugins import PluginError, Plugins
    from scaler.sandbox.jobs import Job, JobResult, Sandbox
    from scaler.synth.checks import Check, CheckResult
    from scaler.synth.extract import Meta
    from scaler.synth.llm import Completion, LLMClient
    from scaler.synth.problem import SourceResult
    from scaler.synth.sources import ProblemSource
    from scaler.synth.stages import Draft, Extractor, Synthesizer
    from scaler.trainer import LoopOwner, Trainer

__version__ = "0.1.0"

#: Name -> the module that defines it, imported when the name is first used.
_LAZY: dict[str, str] = {
    "Check": "scaler.synth.checks",
    "CheckResult": "scaler.synth.checks",
    "Completion": "scaler.synth.llm",
    "Controller": "scaler.curriculum.controllers",
    "Curation": "scaler.curriculum.curation",
    "Curriculum": "scaler.curriculum_loop",
    "Draft": "scaler.synth.stages",
    "Extractor": "scaler.synth.stages",
    "ImportResult": "scaler.official_pool",
    "Job": "scaler.sandbox.jobs",
    "JobResult": "scaler.sandbox.jobs",
    "LLMClient": "scaler.synth.llm",
    "LoopOwner": "scaler.trainer",
    "Meta": "scaler.synth.extract",
    "PluginError": "scaler.plugins",
    "Plugins": "scaler.plugins",
    "Policy": "scaler.evaluate.policies",
    "ProblemSource": "scaler.synth.sources",
    "Prompt": "scaler.curriculum_loop",
    "Retirement": "scaler.curriculum.curation",
    "RunConfig": "scaler.config",
    "Sandbox": "scaler.sandbox.jobs",
    "SourceResult": "scaler.synth.problem",
    "Step": "scaler.curriculum_loop",
    "StepReport": "scaler.curriculum.scheduler",
    "Synthesizer": "scaler.synth.stages",
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
    "Check",
    "CheckResult",
    "Completion",
    "ConfigError",
    "Controller",
    "Curation",
    "Curriculum",
    "Draft",
    "EnvSpec",
    "EnvSpecError",
    "Extractor",
    "ImportResult",
    "Instance",
    "InstanceError",
    "Job",
    "JobResult",
    "LLMClient",
    "Limits",
    "LoopOwner",
    "Meta",
    "PluginError",
    "Plugins",
    "Policy",
    "PoolError",
    "ProblemSource",
    "Program",
    "Prompt",
    "Retirement",
    "RunConfig",
    "Sandbox",
    "ScaleParam",
    "ScalerError",
    "SourceResult",
    "Step",
    "StepReport",
    "Synthesizer",
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
