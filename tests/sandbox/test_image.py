from __future__ import annotations

import json
import subprocess
import sys

import pytest

from scaler import __version__
from scaler.sandbox.image import (
    LABEL_RUNNER,
    LABEL_VERSION,
    ImageStatus,
    debootstrap_stage,
    default_tag,
    expected_labels,
    runner_sha256,
)


def test_default_tag_is_versioned() -> None:
    assert default_tag() == f"scaler-sandbox:{__version__}"


def test_current_labels_make_a_usable_image() -> None:
    status = ImageStatus("t", True, expected_labels())
    assert status.usable and status.stale_reason is None


@pytest.mark.parametrize(
    ("labels", "reason"),
    [
        (
            {LABEL_VERSION: __version__, LABEL_RUNNER: "0" * 64},
            "another version of the sandbox runner",
        ),
        ({LABEL_VERSION: "0.0.1", LABEL_RUNNER: runner_sha256()}, "built by scaler 0.0.1"),
        ({}, "another version of the sandbox runner"),
    ],
)
def test_stale_images_say_why(labels: dict[str, str], reason: str) -> None:
    status = ImageStatus("t", True, labels)
    assert not status.usable and reason in (status.stale_reason or "")


def test_a_missing_image_is_not_usable_and_not_stale() -> None:
    status = ImageStatus("t", False)
    assert not status.usable and status.stale_reason is None


@pytest.mark.docker
def test_the_built_image_carries_the_runner_and_labels() -> None:
    import docker

    client = docker.from_env()
    image = client.images.get(default_tag())
    assert image.labels[LABEL_RUNNER] == runner_sha256()
    inside = client.containers.run(
        default_tag(),
        [
            "python3",
            "-c",
            "import hashlib; print(hashlib.sha256(open("
            "'/opt/scaler/runner.py','rb').read()).hexdigest())",
        ],
        network_mode="none",
        user="65534:65534",
        remove=True,
    )
    assert inside.decode().strip() == runner_sha256()


@pytest.mark.docker
def test_build_image_skips_a_current_image() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "scaler", "sandbox", "build-image"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "is current" in done.stdout


def test_doctor_json_reports_checks_and_the_choice() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "scaler", "sandbox", "doctor", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(done.stdout)
    names = {c["name"] for c in report["checks"]}
    assert {"g++", "root", "debootstrap"} <= names
    assert report["auto"]["backend"] in {"docker", "process"} and report["auto"]["reason"]


@pytest.mark.parametrize(
    ("line", "stage"),
    [
        ("I: Retrieving libc6 2.36-9+deb12u4\n", "debootstrap: retrieving libc6 2.36-9+deb12u4"),
        (
            "I: Base system installed successfully.\n",
            "debootstrap: base system installed successfully",
        ),
        ("W: Cannot check Release signature\n", None),
        ("I: \n", None),
        ("dpkg: warning: ...\n", None),
    ],
)
def test_the_offline_build_shows_debootstraps_stages(line: str, stage: str | None) -> None:
    assert debootstrap_stage(line) == stage
