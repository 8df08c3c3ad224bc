from __future__ import annotations

from typing import Any

from scaler.hookspecs import hookimpl
from scaler.registry import PluginSet, Register
from scaler.sandbox.jobs import Sandbox, SandboxFactory
from scaler.sandbox.selection import auto_sandbox


def process_sandbox(*, plugins: PluginSet, **options: Any) -> Sandbox:
    from scaler.sandbox.process import ProcessSandbox

    return ProcessSandbox(**options)


def docker_sandbox(*, plugins: PluginSet, **options: Any) -> Sandbox:
    from scaler.sandbox.docker import DockerSandbox

    return DockerSandbox(**options)


def ray_sandbox(*, plugins: PluginSet, **options: Any) -> Sandbox:
    from scaler.sandbox.ray_cluster import RaySandbox

    return RaySandbox(plugins=plugins, **options)


@hookimpl
def scaler_register_sandboxes(register: Register[SandboxFactory]) -> None:
    register("docker", docker_sandbox)
    register("process", process_sandbox)
    register("auto", auto_sandbox)
    register("ray", ray_sandbox)
