"""Soak: 10,000 jobs, a tenth of them hostile, through one docker pool from four threads.

Every job must come back exactly once with its own result (normal jobs echo a token unique to
them, so a lost, duplicated or swapped result shows), hostile jobs with the status their kind
ends with, and nothing may be left behind: no container, no process of the containers' uid.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import Future
from pathlib import Path

import pytest

from scaler.model import Limits, Program
from scaler.sandbox.docker import DockerSandbox
from scaler.sandbox.jobs import Job, JobResult
from tests.sandbox.conftest import sandbox_containers

JOBS = 10_000
THREADS = 4
HOSTILE_EVERY = 10
#: For jobs that must time out: short, so the soak stays quick.
QUICK = Limits(cpu_s=1.0, wall_s=0.5, memory_mb=256, processes=16, output_bytes=1 << 20)
#: For jobs that must end otherwise: wall-clock slack, so a loaded machine does not time them
#: out (seen: a garble job and two oom jobs timed out while other test runs shared the cores).
SLACK = Limits(cpu_s=1.0, wall_s=10.0, memory_mb=256, processes=16, output_bytes=1 << 20)
OOM = Limits(cpu_s=2.0, wall_s=20.0, memory_mb=256, processes=16)

#: Each hostile kind: its program, its limits, and the status it must end with.
HOSTILE: dict[str, tuple[str, Limits, str]] = {
    "fork-bomb": (
        "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass",
        QUICK,
        "timeout",
    ),
    "memory-bomb": ("x = b'x' * (1 << 30)", SLACK, "memory"),
    "spin": ("while True:\n    pass", QUICK, "timeout"),
    "sleep": ("import time\ntime.sleep(10**6)", QUICK, "timeout"),
    "flood": ("import sys\nwhile True:\n    sys.stdout.write('x' * 65536)", SLACK, "output-limit"),
    "garble": ("import os\nos.write(1, b'}{\\n')\nos.close(1)\nos.close(0)", SLACK, "ok"),
    "kill-runner": ("import os\nos.kill(os.getppid(), 9)", SLACK, "runtime-error"),
    "kill-all": ("import os, time\nos.kill(-1, 9)\ntime.sleep(1)", SLACK, "runtime-error"),
    "escape": (
        "import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
        "        time.sleep(1000)\n    os._exit(0)",
        SLACK,
        "ok",
    ),
    "oom": (
        "import os, time\nfor _ in range(3):\n    if os.fork() == 0:\n"
        "        x = b'x' * (100 << 20)\n        time.sleep(1)\n        os._exit(0)\n"
        "x = b'x' * (100 << 20)\ntime.sleep(1)",
        OOM,
        "memory",
    ),
    "litter": (
        "import os\nopen('/tmp/left', 'w').write('x' * (1 << 20))\nos.chmod('..', 0)",
        SLACK,
        "ok",
    ),
}
KINDS = sorted(HOSTILE)
ECHO = Program("python", "print(input())")


def job_for(index: int) -> tuple[str, Job, str | None, str]:
    """The index-th job: its kind, the job, its stdout (normal jobs only) and status."""
    if index % HOSTILE_EVERY == HOSTILE_EVERY - 1:
        kind = KINDS[(index // HOSTILE_EVERY) % len(KINDS)]
        source, limits, status = HOSTILE[kind]
        return kind, Job(Program("python", source), "", limits), None, status
    token = f"job-{index}"  # default limits: a loaded machine must not time an echo out
    return "echo", Job(ECHO, token), f"{token}\n", "ok"


def uid_processes(uid: int) -> set[int]:
    found = set()
    for name in os.listdir("/proc"):
        try:
            if name.isdigit() and Path(f"/proc/{name}").stat().st_uid == uid:
                found.add(int(name))
        except FileNotFoundError:
            continue
    return found


@pytest.mark.slow
@pytest.mark.docker
@pytest.mark.timeout(3600)
def test_soak(tmp_path: Path) -> None:
    nobody_before = uid_processes(65534)
    results: dict[int, list[JobResult]] = {}
    lock = threading.Lock()
    with DockerSandbox(workers=THREADS, memory_mb=256, cache_dir=tmp_path) as box:

        def submit_share(thread: int) -> None:
            futures: list[tuple[int, Future[JobResult]]] = []
            for index in range(thread, JOBS, THREADS):
                futures.append((index, box.submit(job_for(index)[1])))
            for index, future in futures:
                result = future.result()
                with lock:
                    results.setdefault(index, []).append(result)

        threads = [threading.Thread(target=submit_share, args=(t,)) for t in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        sandbox_id = box.id

    assert sorted(results) == list(range(JOBS))
    assert all(len(got) == 1 for got in results.values())
    wrong = {}
    for index, (got,) in results.items():
        kind, _, stdout, status = job_for(index)
        if got.status != status or (stdout is not None and got.stdout != stdout):
            wrong[index] = (kind, status, got.status, got.stdout[:80], got.stderr[-200:])
    assert wrong == {}
    assert sandbox_containers(sandbox_id) == []
    assert uid_processes(65534) <= nobody_before
