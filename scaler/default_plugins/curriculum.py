"""The curriculum's own controllers and curation policies, as plugins."""

from __future__ import annotations

from scaler.curriculum.controllers import (
    ControllerFactory,
    EloController,
    FixedController,
    RatchetController,
    ScalerController,
)
from scaler.curriculum.curation import (
    AllEnvironments,
    CurationFactory,
    ProgressWindow,
    ScalerWindow,
)
from scaler.hookspecs import hookimpl
from scaler.registry import Register


@hookimpl
def scaler_register_controllers(register: Register[ControllerFactory]) -> None:
    register("scaler", ScalerController)
    register("fixed", FixedController)
    register("ratchet", RatchetController)
    register("elo", EloController)


@hookimpl
def scaler_register_curation(register: Register[CurationFactory]) -> None:
    register("scaler-window", ScalerWindow)
    register("all", AllEnvironments)
    register("progress-window", ProgressWindow)
