"""The method's validation checks, plus determinism and budget, as plugins."""

from __future__ import annotations

from scaler.hookspecs import hookimpl
from scaler.registry import Register
from scaler.synth.checks import CORE_CHECKS, Check


@hookimpl
def scaler_register_checks(register: Register[Check]) -> None:
    for name, check in CORE_CHECKS.items():
        register(name, check)
