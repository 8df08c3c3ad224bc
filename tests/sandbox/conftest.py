"""Sandboxes for the sandbox tests, and what the tests inspect them with.

Docker tests carry ``@pytest.mark.docker``: tests/conftest.py skips them, saying why, where no
engine answers or the image is not built, and fails them under CI.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scaler.model import Limits, Program
from scaler.sandbox.jobs import Job, JobResult

#: Per container in the docker tests: small enough that a few forked processes exhaust it.
DOCKER_MEMORY_MB = 512
DOCKER_PIDS = 64


def job(language: str, source: str, stdin: str = "", **limits: float) -> Job:
    return Job(Program(language, source), stdin, Limits(**{"wall_s": 10.0, **limits}))


def run(box: Any, language: str, source: str, stdin: str = "", **limits: float) -> JobResult:
    (result,) = box.run_batch([job(language, source, stdin, **limits)])
    return result


def assert_serves(box: Any) -> None:
    """Every worker still gives correct answers (twice the pool's size uses them all)."""
    jobs = [job("python", "print(input()[::-1])", f"abc{i}") for i in range(2 * box.workers)]
    assert [r.stdout for r in box.run_batch(jobs)] == [f"{i}cba\n" for i in range(len(jobs))]


def docker_api() -> Any:
    import docker

    return docker.from_env().api


def sandbox_containers(label_value: str | None = None) -> list[dict[str, Any]]:
    """Every container with the sandbox label (of one sandbox, given its id), stopped ones too."""
    from scaler.sandbox.docker import LABEL

    label = LABEL if label_value is None else f"{LABEL}={label_value}"
    return docker_api().containers(all=True, filters={"label": label})


def container_processes(container_id: str) -> list[str]:
    """The command lines running in a container, as the engine sees them."""
    top = docker_api().top(container_id)
    column = top["Titles"].index("CMD")
    return [row[column] for row in top["Processes"]]


def job_uid_processes(box: Any) -> list[int]:
    """Processes with a live thread running as one of the box's job uids.

    Only the box's own uids: other sandboxes on the host (another test run, say) run their jobs
    as other uids of the same range. Threads, not processes: a process whose main thread has
    exited shows as a zombie in /proc while its other threads run on.
    """
    uids = set(box.job_uids)
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        for status in thread_statuses(int(pid)):
            if int(status["Uid"].split()[0]) in uids and status["State"].strip()[0] not in "ZX":
                found.append(int(pid))
                break
    return found


def thread_statuses(pid: int) -> list[dict[str, str]]:
    """The status fields of each thread of pid (none once it is gone: processes come and go)."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    statuses = []
    for task in tasks:
        try:
            text = Path(f"/proc/{pid}/task/{task}/status").read_text()
        except OSError:
            continue
        statuses.append(dict(line.split(":", 1) for line in text.splitlines() if ":" in line))
    return statuses


@pytest.fixture(scope="session")
def process_box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from scaler.sandbox.process import ProcessSandbox

    with ProcessSandbox(workers=2, cache_dir=tmp_path_factory.mktemp("process-cache")) as box:
        yield box


@pytest.fixture(scope="session")
def docker_box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from scaler.sandbox.docker import DockerSandbox

    with DockerSandbox(
        workers=2,
        memory_mb=DOCKER_MEMORY_MB,
        pids=DOCKER_PIDS,
        cache_dir=tmp_path_factory.mktemp("docker-cache"),
    ) as box:
        yield box


@pytest.fixture(
    params=["process", pytest.param("docker", marks=pytest.mark.docker)], scope="session"
)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def box(backend: str, request: pytest.FixtureRequest) -> Any:
    """The backend's session sandbox (docker fixtures start only for docker-marked tests)."""
    return request.getfixturevalue(f"{backend}_box")
