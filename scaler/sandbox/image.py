"""The Docker sandbox image: Python 3, g++ and the runner, built online or offline.

Online, the image starts from a registry base image (``python:3.11-slim`` plus g++), the usual
path. Offline (no registry reachable, as on machines that only reach package mirrors), it is a
Debian root filesystem made with debootstrap and loaded with ``docker import``. Either way the
runner is baked in at ``/opt/scaler/runner.py`` and the image is labelled with the scaler version
and the runner's SHA-256, so an image built for another runner is recognised as stale.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import attrs

from scaler import __version__
from scaler.errors import ScalerError
from scaler.sandbox import runner

REPOSITORY = "scaler-sandbox"
RUNNER_PATH = "/opt/scaler/runner.py"
LABEL_VERSION = "org.scaler.version"
LABEL_RUNNER = "org.scaler.runner-sha256"
ONLINE_BASE = "python:3.11-slim"
DEBIAN_SUITE = "bookworm"
#: Removed from the offline root filesystem: documentation and caches no job needs.
ROOTFS_PRUNE = (
    "usr/share/doc",
    "usr/share/man",
    "usr/share/info",
    "var/cache/apt",
    "var/lib/apt/lists",
)

Mode = Literal["auto", "online", "offline"]


def default_tag() -> str:
    return f"{REPOSITORY}:{__version__}"


def runner_sha256() -> str:
    return hashlib.sha256(Path(runner.__file__).read_bytes()).hexdigest()


def expected_labels() -> dict[str, str]:
    return {LABEL_VERSION: __version__, LABEL_RUNNER: runner_sha256()}


@attrs.frozen
class BuiltImage:
    """What a build made, for the one line a user reads at the end."""

    tag: str
    method: Literal["online", "offline"]
    seconds: float
    size_bytes: int


@attrs.frozen
class ImageStatus:
    tag: str
    exists: bool
    labels: dict[str, str] = attrs.field(factory=dict)

    @property
    def stale_reason(self) -> str | None:
        """Why an existing image must be rebuilt, or None when it matches this scaler."""
        if not self.exists:
            return None
        want = expected_labels()
        if self.labels.get(LABEL_RUNNER) != want[LABEL_RUNNER]:
            return "it was built with another version of the sandbox runner"
        if self.labels.get(LABEL_VERSION) != want[LABEL_VERSION]:
            return f"it was built by scaler {self.labels.get(LABEL_VERSION, '(unknown)')}"
        return None

    @property
    def usable(self) -> bool:
        return self.exists and self.stale_reason is None


def docker_client() -> Any:
    """A client for the local engine, or a ScalerError that says what is missing."""
    try:
        import docker
    except ImportError as exc:
        raise ScalerError(
            "the docker backend needs the docker package, a dependency of scaler: reinstall "
            "scaler (pip install --force-reinstall scaler)"
        ) from exc
    try:
        client = docker.from_env(timeout=120)
        client.ping()
    except Exception as exc:
        raise ScalerError(
            f"no Docker engine answers ({type(exc).__name__}: {exc}); start dockerd, or use "
            "--backend process"
        ) from exc
    return client


def image_status(client: Any, tag: str | None = None) -> ImageStatus:
    import docker.errors

    tag = tag or default_tag()
    try:
        image = client.images.get(tag)
    except docker.errors.ImageNotFound:
        return ImageStatus(tag, False)
    return ImageStatus(tag, True, dict(image.labels or {}))


def build_online(client: Any, tag: str, log: Callable[[str], None]) -> None:
    """``python:3.11-slim`` plus g++ and the runner, built by the engine."""
    dockerfile = (
        f"FROM {ONLINE_BASE}\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends g++ "
        "&& rm -rf /var/lib/apt/lists/*\n"
        f"COPY runner.py {RUNNER_PATH}\n"
        "WORKDIR /tmp\nENV TMPDIR=/tmp\n"
    )
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        for name, data in (
            ("Dockerfile", dockerfile.encode()),
            ("runner.py", Path(runner.__file__).read_bytes()),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    context.seek(0)
    log(f"building {tag} from {ONLINE_BASE}")
    client.images.build(
        fileobj=context, custom_context=True, tag=tag, labels=expected_labels(), rm=True, pull=True
    )


def build_offline(
    client: Any, tag: str, log: Callable[[str], None], workdir: Path | None = None
) -> None:
    """A debootstrap root filesystem (minbase, python3, g++) loaded with ``docker import``."""
    if os.geteuid() != 0:
        raise ScalerError("an offline image build runs debootstrap, which needs root")
    debootstrap = shutil.which("debootstrap")
    if debootstrap is None:
        raise ScalerError(
            "an offline image build needs debootstrap (Debian: apt-get install debootstrap)"
        )
    with tempfile.TemporaryDirectory(prefix="scaler-image-", dir=workdir) as tmp:
        rootfs = Path(tmp) / "rootfs"
        log(f"debootstrap {DEBIAN_SUITE} (minbase, python3, g++): about a minute")
        _debootstrap(
            [debootstrap, "--variant=minbase", "--include=python3,g++", DEBIAN_SUITE, str(rootfs)],
            log,
        )
        for path in ROOTFS_PRUNE:
            shutil.rmtree(rootfs / path, ignore_errors=True)
        baked = rootfs / RUNNER_PATH.lstrip("/")
        baked.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(runner.__file__, baked)
        baked.chmod(0o644)
        archive = Path(tmp) / "rootfs.tar"
        log(f"packing the root filesystem into {archive}")
        subprocess.run(["tar", "-C", str(rootfs), "-cf", str(archive), "."], check=True)
        repository, _, version = tag.rpartition(":")
        changes = [f"LABEL {key}={value}" for key, value in expected_labels().items()]
        changes += ["WORKDIR /tmp", "ENV TMPDIR=/tmp"]
        log(f"docker import as {tag}")
        client.api.import_image_from_file(
            str(archive), repository=repository or tag, tag=version or "latest", changes=changes
        )


def _debootstrap(command: list[str], log: Callable[[str], None]) -> None:
    """Run debootstrap, passing on each stage it announces (``I: ...`` lines) as it goes."""
    lines: list[str] = []
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line.rstrip())
            stage = debootstrap_stage(line)
            if stage:
                log(stage)
    if process.returncode != 0:
        raise ScalerError("debootstrap failed:\n" + "\n".join(lines[-5:]))


def debootstrap_stage(line: str) -> str | None:
    """``I: Retrieving libc6 2.36`` -> ``debootstrap: retrieving libc6 2.36``; None for the
    rest of its output (warnings go to the error tail only if it fails)."""
    if not line.startswith("I: "):
        return None
    text = line[3:].strip().rstrip(".")
    return f"debootstrap: {text[:1].lower()}{text[1:]}" if text else None


def build_image(
    client: Any,
    tag: str | None = None,
    mode: Mode = "auto",
    log: Callable[[str], None] = lambda _: None,
) -> BuiltImage:
    """Build the image (``auto``: online when the base image can be pulled, else offline)."""
    tag = tag or default_tag()
    began = time.monotonic()
    method: Literal["online", "offline"] = "offline"
    if mode in ("auto", "online"):
        try:
            build_online(client, tag, log)
            method = "online"
        except Exception as exc:
            if mode == "online":
                raise ScalerError(f"online image build failed: {exc}") from exc
            log(f"online build impossible ({str(exc).splitlines()[0][:160]}); building offline")
            build_offline(client, tag, log)
    else:
        build_offline(client, tag, log)
    status = image_status(client, tag)
    if not status.usable:
        raise ScalerError(f"built {tag}, but it does not carry the expected labels")
    size = int(client.images.get(tag).attrs.get("Size") or 0)
    return BuiltImage(tag, method, time.monotonic() - began, size)
