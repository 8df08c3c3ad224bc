"""Workers pinned to CPUs of their own: which CPUs, and that the jobs really run there."""

from __future__ import annotations

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


@pytest.fixture(autouse=True)
def fresh_cursor(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts pinning at the first CPU, as a fresh process does."""
    monkeypatch.setattr(cpus, "_next", 0)


def two_cpus() -> int:
    if len(cpus.usable_cpus()) < 2:
        pytest.skip("needs two usable CPUs to tell pinned workers apart")
    return 2


def seen_cpus(box: object, language: str) -> set[str]:
    """The CPU sets the jobs of a batch saw, enough jobs to reach every worker."""
    batch = [job(language, AFFINITY[language]) for _ in range(8)]
    results = box.run_batch(batch)  # type: ignore[attr-defined]
    assert {r.status for r in results} == {"ok"}, results[0].stderr
    return {r.stdout.strip() for r in results}


def test_workers_take_cpus_round_robin_and_sandboxes_carry_on_from_each_other() -> None:
    assert cpus.worker_cpus(2, [0, 1, 2, 3]) == [0, 1]
    assert cpus.worker_cpus(2, [0, 1, 2, 3]) == [2, 3]
    assert cpus.worker_cpus(3, [0, 1, 2, 3]) == [0, 1, 2]
    assert cpus.worker_cpus(1, [4, 6]) == [6]


def test_more_workers_than_cpus_are_left_to_the_kernel() -> None:
    assert cpus.worker_cpus(3, [0, 1]) == [None, None, None]
    assert cpus.worker_cpus(1, []) == [None]


def test_pin_cpus_must_be_true_or_false() -> None:
    with pytest.raises(ConfigError, match=r"pin_cpus.*'yes'"):
        ProcessSandbox(workers=1, pin_cpus="yes")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"pin_cpus.*1"):
        DockerSandbox(workers=1, pin_cpus=1)  # type: ignore[arg-type]


def test_containers_are_pinned_only_for_an_engine_on_this_kernel() -> None:
    usable = cpus.usable_cpus()
    assert _engine_cpus(LOCAL_ENGINE, max(usable) + 1) == usable
    assert _engine_cpus(LOCAL_ENGINE, max(usable)) == []  # the engine lacks one of ours
    assert _engine_cpus(LOCAL_ENGINE, None) == []
    assert _engine_cpus("https://10.0.0.7:2376", 64) == []


@pytest.mark.parametrize("language", ["python", "cpp"])
def test_process_workers_and_their_jobs_stay_on_a_cpu_each(language: str) -> None:
    workers = two_cpus()
    first, second = cpus.usable_cpus()[:2]
    with ProcessSandbox(workers=workers, keep_warm=True) as box:
        assert seen_cpus(box, language) == {f"[{first}]", f"[{second}]"}
        box._workers[0].restart()  # a replacement runner keeps its worker's CPU
        assert seen_cpus(box, language) == {f"[{first}]", f"[{second}]"}


def test_unpinned_process_jobs_may_run_anywhere() -> None:
    with ProcessSandbox(workers=two_cpus(), pin_cpus=False) as box:
        assert seen_cpus(box, "python") == {str(cpus.usable_cpus())}


def test_more_process_workers_than_cpus_are_not_pinned() -> None:
    workers = len(cpus.usable_cpus()) + 1
    with ProcessSandbox(workers=workers) as box:
        assert seen_cpus(box, "python") == {str(cpus.usable_cpus())}


@pytest.mark.docker
@pytest.mark.parametrize("language", ["python", "cpp"])
def test_each_container_has_a_cpu_of_its_own(language: str, tmp_path: Path) -> None:
    workers = two_cpus()
    first, second = cpus.usable_cpus()[:2]
    with DockerSandbox(workers=workers, memory_mb=DOCKER_MEMORY_MB, cache_dir=tmp_path) as box:
        assert seen_cpus(box, language) == {f"[{first}]", f"[{second}]"}
        cpusets = {
            docker_api().inspect_container(c["Id"])["HostConfig"]["CpusetCpus"]
            for c in sandbox_containers(box.id)
        }
        assert cpusets == {str(first), str(second)}


@pytest.mark.docker
@pytest.mark.parametrize(("options"), [{"pin_cpus": False}, {"cpus": 2.0}])
def test_containers_are_not_pinned_when_told_or_allowed_more_than_a_core(
    options: dict[str, object], tmp_path: Path
) -> None:
    with DockerSandbox(
        workers=two_cpus(),
        memory_mb=DOCKER_MEMORY_MB,
        cache_dir=tmp_path,
        **options,  # type: ignore[arg-type]
    ) as box:
        assert seen_cpus(box, "python") == {str(cpus.usable_cpus())}
        for container in sandbox_containers(box.id):
            assert docker_api().inspect_container(container["Id"])["HostConfig"]["CpusetCpus"] == ""
