"""The curriculum's own controllers and curation policies, as plugins."""

from __future__ import annotations

from typing import Any

from scaler.curriculum.controllers import (
    EloController,
    FixedController,
    RatchetController,
    ScalerController,
)
from scaler.curriculum.curation import AllEnvironments, ProgressWindow, ScalerWindow
from scaler.hookspecs import hookimpl


@hookimpl
def scaler_register_controllers(register: Any) -> None:
    register("scaler", ScalerController)
    register("fixed", FixedController)
    register("ratchet", RatchetController)
    register("elo", EloController)


@hookimpl
def scaler_register_curation(register: Any) -> None:
    register("scaler-window", ScalerWindow)
    register("all", AllEnvironments)
    register("progress-window", ProgressWindow)
