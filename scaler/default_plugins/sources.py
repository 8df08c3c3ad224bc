"""The problem sources synthesis reads from: CodeContests, the official pool and CodeI/O."""

from __future__ import annotations

from typing import Any

from scaler.hookspecs import hookimpl
from scaler.synth.sources import CodeContestsSource, CodeIOSource, OfficialSource


@hookimpl
def scaler_register_sources(register: Any) -> None:
    register("codecontests", CodeContestsSource())
    register("scaler-official", OfficialSource())
    register("codeio", CodeIOSource())
