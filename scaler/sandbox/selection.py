"""Which sandbox backend to use, and why: ``sandbox = "auto"`` and ``scaler sandbox doctor``.

Docker is the default wherever an engine answers and the sandbox image is built and current;
otherwise the process backend runs the jobs, with a warning that it is not a security boundary.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from scaler.errors import ScalerError
from scaler.logs import get_logger
from scaler.sandbox.jobs import SANDBOXES, Sandbox
from scaler.sandbox.pool import WorkerPool

if TYPE_CHECKING:
    from scaler.registry import PluginSet

log = get_logger(__name__)

PROCESS_WARNING = (
    "using the process sandbox backend: it is not a security boundary against hostile code "
    "(run `scaler sandbox doctor` to see why Docker is not used)"
)


@attrs.frozen
class Check:
    name: str
    ok: bool
    detail: str


@attrs.frozen
class Choice:
    backend: str
    reason: str
    #: Docker answers but the image is missing: building it would enable docker.
    can_build_image: bool = False


def _docker_checks(tag: str | None) -> tuple[list[Check], bool, bool]:
    """Checks about Docker, whether docker is usable, and whether an image build would fix it."""
    from scaler.sandbox.image import default_tag, docker_client, image_status

    try:
        client = docker_client()
    except ScalerError as exc:
        return [Check("docker engine", False, str(exc))], False, False
    version = client.version().get("Version", "?")
    checks = [Check("docker engine", True, f"engine {version} answers")]
    status = image_status(client, tag or default_tag())
    if not status.exists:
        checks.append(
            Check("sandbox image", False, f"{status.tag} is not built: scaler sandbox build-image")
        )
    elif status.stale_reason:
        # Still usable: the backend then passes this scaler's runner in when it starts one.
        checks.append(
            Check(
                "sandbox image",
                True,
                f"{status.tag} is stale ({status.stale_reason}) but usable; refresh it with "
                "scaler sandbox build-image",
            )
        )
    else:
        checks.append(Check("sandbox image", True, f"{status.tag} is current"))
    return checks, status.exists, not status.exists


def diagnose(plugins: PluginSet, tag: str | None = None) -> tuple[list[Check], Choice]:
    """Everything ``doctor`` reports, and the backend ``auto`` picks."""
    root = os.geteuid() == 0
    checks = [
        Check(
            "g++",
            shutil.which("g++") is not None,
            "compiles C++ jobs (process backend)"
            if shutil.which("g++")
            else "not found: C++ jobs fail on the process backend",
        ),
        Check(
            "root",
            root,
            "process backend: jobs get a uid of their own and no network"
            if root
            else "process backend: jobs run as you, with the network and no process limit",
        ),
        Check(
            "debootstrap",
            shutil.which("debootstrap") is not None,
            "offline image builds possible"
            if shutil.which("debootstrap")
            else "not found: offline image builds need it (apt-get install debootstrap)",
        ),
    ]
    if "docker" not in plugins.registry(SANDBOXES):
        checks.append(Check("docker backend", False, "no plugin registers a docker backend"))
        return checks, Choice("process", "no docker backend is installed")
    docker_checks, usable, can_build = _docker_checks(tag)
    checks += docker_checks
    if usable:
        return checks, Choice("docker", "the engine answers and the image is current")
    failed = next(c for c in docker_checks if not c.ok)
    return checks, Choice("process", f"{failed.name}: {failed.detail}", can_build_image=can_build)


def auto_sandbox(*, plugins: PluginSet, **options: Any) -> Sandbox:
    """The ``auto`` backend: docker when possible, else process with a warning.

    It chooses between the backends of ``plugins``, the set it was found in, so a plugin's
    replacement of ``docker`` or ``process`` is what it makes.
    """
    _, choice = diagnose(plugins)
    if choice.backend == "process":
        log.warning(PROCESS_WARNING, reason=choice.reason)
        options.pop("image", None)
    return plugins.get(SANDBOXES, choice.backend)(plugins=plugins, **options)


def build_sandbox(
    plugins: PluginSet, name: str, options: Mapping[str, Any], *, source: str | None = None
) -> Sandbox:
    """The backend ``name`` of ``plugins`` with the ``options`` of a run config's [sandbox]
    table (config file ``source``): every sandbox factory is handed the set it came from.

    Unless the options say otherwise (``keep_warm``), a worker pool's runners keep their warm
    children between batches: whoever opens a sandbox by name sends batch after batch (a
    command, a training run's curriculum, a library call), and the runners end them when idle.
    """
    sandbox = plugins.build(
        SANDBOXES, name, options, table="sandbox", source=source, plugins=plugins
    )
    if isinstance(sandbox, WorkerPool) and "keep_warm" not in options:
        sandbox.keep_warm = True
    return sandbox
