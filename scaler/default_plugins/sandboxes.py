from __future__ import annotations

from typing import Any

from scaler.hookspecs import hookimpl


def process_sandbox(**options: Any) -> Any:
    from scaler.sandbox.process import ProcessSandbox

    return ProcessSandbox(**options)


@hookimpl
def scaler_register_sandboxes(register: Any) -> None:
    register("process", process_sandbox)
