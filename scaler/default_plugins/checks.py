"""The method's validation checks, plus determinism and budget, as plugins."""

from __future__ import annotations

from typing import Any

from scaler.hookspecs import hookimpl
from scaler.synth.checks import CHECKS


@hookimpl
def scaler_register_checks(register: Any) -> None:
    for name, check in CHECKS.items():
        register(name, check)
