"""The problem sources synthesis reads from: CodeContests, the official pool and CodeI/O."""

from __future__ import annotations

from scaler.hookspecs import hookimpl
from scaler.registry import Register
from scaler.synth.sources import (
    CodeContestsSource,
    CodeIOSource,
    OfficialSource,
    ProblemSource,
)


@hookimpl
def scaler_register_sources(register: Register[ProblemSource]) -> None:
    register("codecontests", CodeContestsSource())
    register("scaler-official", OfficialSource())
    register("codeio", CodeIOSource())
