"""Workers pinned to CPUs of their own: which CPUs, and that the jobs really run there."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from scaler.errors import ConfigError
from scaler.sandbox import cpus
from scaler.sandbox.docker import LOCAL_ENGINE, DockerSandbox, _engine_cpus
from scaler.sandbox.process import ProcessSandbox
from tests.sandbox.conftest import DOCKER_MEMORY_MB, docker_api, job, sandbox_containers

AFFINITY = {
    "python": "import os\nprint(sorted(os.sched_getaffinity(0)))",
    "cpp": "#include <sched.h>\n#include <cstdio>\nint main() {\n  cpu_set_t s;\n"
    '  sched_getaffinity(0, sizeof s, &s);\n  printf("[");\n'
    "  for (int i = 0, n = 0; i < CPU_SETSIZE; i++)\n"
    '    if (CPU_ISSET(i, &s)) printf(n++ ? ", %d" : "%d", i);\n  printf("]\\n");\n}\n',
}


@pytest.fixture
def two_cpus() -> Iterator[int]:
    """This test's thread held to its first two CPUs (the sandboxes' workers and their runners
    inherit that), so that two workers are one per CPU on any machine."""
    before = os.sched_getaffinity(0)
    if len(before) < 2:
        pytest.skip("needs two usable CPUs to tell pinned workers apart")
    os.sched_setaffinity(0, sorted(before)[:2])
    yield 2
    os.sched_setaffinity(0, before)


def seen_cpus(box: object, language: str) -> set[str]:
    """The CPU sets the jobs of a batch saw, enough jobs to reach every worker."""
    batch = [job(language, AFFINITY[language]) for _ in range(8)]
    results = box.run_batch(batch)  # type: ignore[attr-defined]
    assert {r.status for r in results} == {"ok"}, results[0].stderr
    return {r.stdout.strip() for r in results}


def test_one_worker_per_cpu_is_pinned_and_any_other_count_is_not() -> None:
    assert cpus.worker_cpus(4, [0, 1, 2, 3]) == [0, 1, 2, 3]
    assert cpus.worker_cpus(2, [4, 6]) == [4, 6]
    assert cpus.worker_cpus(2, [0, 1, 2, 3]) == [None, None]  # another sandbox may pin there
    assert cpus.worker_cpus(3, [0, 1]) == [None, None, None]  # the kernel balances better
    assert cpus.worker_cpus(1, []) == [None]


def test_pin_cpus_must_be_true_or_false() -> None:
    with pytest.raises(ConfigError, match=r"pin_cpus.*'yes'"):
        ProcessSandbox(workers=1, pin_cpus="yes")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"pin_cpus.*1"):
        DockerSandbox(workers=1, pin_cpus=1)  # type: ignore[arg-type]


def test_containers_are_pinned_only_for_an_engine_on_this_kernel() -> None:
    usable = cpus.usable_cpus()
    here = {"KernelVersion": os.uname().release, "Name": socket.gethostname()}
    assert _engine_cpus(LOCAL_ENGINE, {**here, "NCPU": max(usable) + 1}) == usable
    assert _engine_cpus(LOCAL_ENGINE, {**here, "NCPU": max(usable)}) == []  # lacks one of ours
    assert _engine_cpus(LOCAL_ENGINE, here) == []
    assert _engine_cpus("https://10.0.0.7:2376", {**here, "NCPU": 64}) == []
    # Docker Desktop: a local socket, but a VM's kernel and CPUs.
    vm = {**here, "KernelVersion": "6.10.14-linuxkit", "NCPU": 64}
    assert _engine_cpus(LOCAL_ENGINE, vm) == []


@pytest.mark.parametrize("language", ["python", "cpp"])
def test_process_workers_and_their_jobs_stay_on_a_cpu_each(language: str, two_cpus: int) -> None:
    first, second = cpus.usable_cpus()
    with ProcessSandbox(workers=two_cpus, keep_warm=True) as box:
        assert seen_cpus(box, language) == {f"[{first}]", f"[{second}]"}
        box._workers[0].restart()  # a replacement runner keeps its worker's CPU
        assert seen_cpus(box, language) == {f"[{first}]", f"[{second}]"}


def test_unpinned_process_jobs_may_run_anywhere(two_cpus: int) -> None:
    with ProcessSandbox(workers=two_cpus, pin_cpus=False) as box:
        assert seen_cpus(box, "python") == {str(cpus.usable_cpus())}


@pytest.mark.parametrize("extra", [-1, 1])
def test_process_workers_not_one_per_cpu_are_not_pinned(extra: int, two_cpus: int) -> None:
    with ProcessSandbox(workers=two_cpus + extra) as box:
        assert seen_cpus(box, "python") == {str(cpus.usable_cpus())}


@pytest.mark.docker
@pytest.mark.parametrize("language", ["python", "cpp"])
def test_each_container_has_a_cpu_of_its_own(language: str, two_cpus: int, tmp_path: Path) -> None:
    first, second = cpus.usable_cpus()
    with DockerSandbox(workers=two_cpus, memory_mb=DOCKER_MEMORY_MB, cache_dir=tmp_path) as box:
        assert seen_cpus(box, language) == {f"[{first}]", f"[{second}]"}
        cpusets = {
            docker_api().inspect_container(c["Id"])["HostConfig"]["CpusetCpus"]
            for c in sandbox_containers(box.id)
        }
        assert cpusets == {str(first), str(second)}


@pytest.mark.docker
@pytest.mark.parametrize(("options"), [{"pin_cpus": False}, {"cpus": 2.0}])
def test_containers_are_not_pinned_when_told_or_allowed_more_than_a_core(
    options: dict[str, object], two_cpus: int, tmp_path: Path
) -> None:
    with DockerSandbox(
        workers=two_cpus,
        memory_mb=DOCKER_MEMORY_MB,
        cache_dir=tmp_path,
        **options,  # type: ignore[arg-type]
    ) as box:
        assert seen_cpus(box, "python") == {str(cpus.usable_cpus())}
        for container in sandbox_containers(box.id):
            assert docker_api().inspect_container(container["Id"])["HostConfig"]["CpusetCpus"] == ""
