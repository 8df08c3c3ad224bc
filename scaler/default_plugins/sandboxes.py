from __future__ import annotations

from typing import Any

from scaler.hookspecs import hookimpl
from scaler.sandbox.selection import auto_sandbox


def process_sandbox(**options: Any) -> Any:
    from scaler.sandbox.process import ProcessSandbox

    return ProcessSandbox(**options)


def docker_sandbox(**options: Any) -> Any:
    from scaler.sandbox.docker import DockerSandbox

    return DockerSandbox(**options)


@hookimpl
def scaler_register_sandboxes(register: Any) -> None:
    register("docker", docker_sandbox)
    register("process", process_sandbox)
    register("auto", auto_sandbox)
