"""scaler: verifiable, difficulty-controlled reasoning environments from programming problems."""

from __future__ import annotations

from scaler.hookspecs import hookimpl
from scaler.model import EnvSpec, Instance, Limits, Program, ScaleParam, Verdict
from scaler.pool import load_pool, write_pool
from scaler.verify import compute_score, verify

__version__ = "0.1.0"

__all__ = [
    "EnvSpec",
    "Instance",
    "Limits",
    "Program",
    "ScaleParam",
    "Verdict",
    "__version__",
    "compute_score",
    "hookimpl",
    "load_pool",
    "verify",
    "write_pool",
]
