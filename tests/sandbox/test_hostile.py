"""Hostile programs against both backends: each ends with a clear status, leaves the host and
the pool unaffected (the next jobs run normally), and leaves no process or container behind.

What each case ends with (process backend as root: a uid of its own per worker, no network):

| case                              | docker          | process (root)                     |
|-----------------------------------|-----------------|------------------------------------|
| connect to the host's 127.0.0.1   | ok, refused     | ok, unreachable                    |
| write /etc, /opt, the runner ...  | ok, all denied  | ok, all denied                     |
| write the host's /tmp             | ok, not on host | ok, WRITTEN on the host            |
| read /etc/shadow, /root/secret    | ok, unreadable  | ok, unreadable                     |
| read a world-readable host file   | ok, not there   | ok, READ                           |
| fork bomb (Python, C++)           | timeout         | timeout                            |
| memory bomb (Python, C++)         | memory          | memory                             |
| memory bomb over 4 processes      | memory          | ok (the limit is per process)      |
| CPU spin (Python, C++)            | timeout         | timeout                            |
| sleep forever                     | timeout         | timeout                            |
| 100 MB of output                  | output-limit    | output-limit                       |
| garble and close the protocol     | ok, not reached | ok, not reached                    |
| kill the runner (its parent)      | runtime-error   | runtime-error (PermissionError)    |
| kill -9 -1                        | runtime-error   | ok (nothing else of its uid)       |
| setsid + double-fork escapees     | ok, killed      | ok, killed                         |
| main thread exits, threads run on | ok, killed      | ok, killed                         |

Without root, the process backend cannot stop several of these (docs/sandbox.md): the tests
assert what happens then, and skip only the two that would hit the host itself (a fork bomb
without a process limit, and kill -9 -1 as the user running the tests).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scaler.sandbox import runner
from scaler.sandbox.image import RUNNER_PATH
from tests.sandbox.conftest import (
    assert_serves,
    container_processes,
    job_uid_processes,
    run,
    sandbox_containers,
    thread_statuses,
)

#: The process backend isolates jobs (own uid, no network, a process limit) only as root.
ISOLATED = os.geteuid() == 0
#: docker's init, the lifeline's cat, and the runner.
CONTAINER_PROCESSES = 3

needs_isolation = pytest.mark.skipif(
    not ISOLATED,
    reason="as a user, the process backend has no process limit and shares the uid of this "
    "test run: this program would hit the host itself (docs/sandbox.md)",
)


@pytest.fixture(autouse=True)
def nothing_left_behind(backend: str, box: Any) -> Iterator[None]:
    """After each case: the pool still answers correctly, and no container or job process
    is left (a docker pool keeps its own containers, each with its three processes only).

    Only the box's own containers are counted: other sandboxes on the same engine (another
    test run) come and go meanwhile, and every container a box starts carries its id."""
    yield
    assert_serves(box)
    if backend == "docker":
        mine = sandbox_containers(box.id)
        assert len(mine) == box.workers
        for container in mine:
            assert len(container_processes(container["Id"])) == CONTAINER_PROCESSES
    elif ISOLATED:
        assert job_uid_processes(box) == []


def needs_compiler(backend: str, language: str) -> None:
    """C++ compiles in the container (docker), or with the host's g++ (process)."""
    if language == "cpp" and backend == "process" and shutil.which("g++") is None:
        pytest.skip("the process backend compiles C++ with the host's g++, which is missing")


def expect(backend: str, docker: Any, process: Any, process_as_user: Any = None) -> Any:
    """What a case should give on this backend (as a user: ``process_as_user`` if given)."""
    if backend == "docker":
        return docker
    return process if ISOLATED or process_as_user is None else process_as_user


# --- network --------------------------------------------------------------------------------


@pytest.fixture
def loopback_server() -> Iterator[tuple[int, list[bytes]]]:
    """A TCP server on the host's 127.0.0.1 (never any other address); what it received."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.1)
    received: list[bytes] = []
    done = threading.Event()

    def serve() -> None:
        while not done.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            with connection:
                connection.settimeout(5)
                received.append(connection.recv(1024))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], received
    done.set()
    thread.join()
    server.close()


CONNECT = """
import errno, socket
try:
    with socket.create_connection(("127.0.0.1", {port}), timeout=5) as s:
        s.sendall(b"hello from the sandbox")
    print("connected")
except OSError as exc:
    print("blocked", errno.errorcode.get(exc.errno, exc.errno))
"""


def test_connecting_to_the_hosts_loopback(
    backend: str, box: Any, loopback_server: tuple[int, list[bytes]]
) -> None:
    port, received = loopback_server
    result = run(box, "python", CONNECT.format(port=port))
    assert result.status == "ok", result.stderr
    # docker: the container's own loopback, where nothing listens; process as root: an empty
    # network namespace, loopback down. As a user, jobs keep the host's network.
    assert result.stdout == expect(
        backend, "blocked ECONNREFUSED\n", "blocked ENETUNREACH\n", "connected\n"
    )
    assert received == expect(backend, [], [], [b"hello from the sandbox"])


# --- files ----------------------------------------------------------------------------------

TRY_WRITES = """
import json, os, sys
found = {}
for path in json.load(sys.stdin):
    try:
        if os.path.exists(path):  # opened for writing, never changed
            os.close(os.open(path, os.O_WRONLY | os.O_APPEND))
        else:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
        found[path] = "WRITABLE"
    except OSError as exc:
        found[path] = "denied"
print(json.dumps(found))
"""


def test_writing_outside_the_work_dir(backend: str, box: Any) -> None:
    tag = uuid.uuid4().hex[:8]
    if backend == "docker":
        runner_file, cache = RUNNER_PATH, f"/cache/{runner.CPP_CACHE}"
    else:
        runner_file, cache = runner.__file__, str(box.cache_dir / runner.CPP_CACHE)
    targets = [
        f"/etc/scaler-hostile-{tag}",
        f"/opt/scaler-hostile-{tag}",
        f"/scaler-hostile-{tag}",
        runner_file,
        "/usr/bin/python3",
        f"{cache}/poison-{tag}",
    ]
    digest = Path(runner.__file__).read_bytes()
    result = run(box, "python", TRY_WRITES, json.dumps(targets))
    assert result.status == "ok", result.stderr
    found = json.loads(result.stdout)
    # As a user, the process backend's jobs may write whatever the user may: its own files.
    writable_as_user = {runner_file, f"{cache}/poison-{tag}"}
    assert found == {
        path: expect(
            backend, "denied", "denied", "WRITABLE" if path in writable_as_user else "denied"
        )
        for path in targets
    }
    assert Path(runner.__file__).read_bytes() == digest
    for path in targets[:3]:
        assert not Path(path).exists()
    Path(f"{cache}/poison-{tag}").unlink(missing_ok=True)


def test_writing_the_hosts_tmp(backend: str, box: Any) -> None:
    host_file = Path(f"/tmp/scaler-hostile-{uuid.uuid4().hex[:8]}")
    try:
        result = run(box, "python", f"open({str(host_file)!r}, 'w').write('left behind')")
        assert result.status == "ok", result.stderr
        # docker: the container's own /tmp, emptied after the job; the process backend
        # shares the host's /tmp, and what a job leaves there stays (docs/sandbox.md).
        assert host_file.exists() == (backend == "process")
        if backend == "docker":
            seen = run(box, "python", f"import os\nprint(os.path.exists({str(host_file)!r}))")
            assert seen.stdout == "False\n"
    finally:
        host_file.unlink(missing_ok=True)


TRY_READS = """
import errno, json, sys
found = {}
for path in json.load(sys.stdin):
    try:
        with open(path) as f:
            found[path] = "READ " + f.read(64)
    except OSError as exc:
        found[path] = errno.errorcode.get(exc.errno, str(exc.errno))
print(json.dumps(found))
"""


@pytest.fixture
def host_secrets() -> Iterator[tuple[Path, Path]]:
    """A secret in /root (the user's home when not root) and a world-readable one in /tmp."""
    token = uuid.uuid4().hex
    home = Path("/root") if ISOLATED else Path.home()
    private, public = home / f"scaler-secret-{token[:8]}", Path(f"/tmp/scaler-public-{token[:8]}")
    private.write_text(f"private {token}")
    public.write_text(f"public {token}")
    public.chmod(0o644)
    yield private, public
    private.unlink()
    public.unlink()


def test_reading_host_files(backend: str, box: Any, host_secrets: tuple[Path, Path]) -> None:
    private, public = host_secrets
    result = run(box, "python", TRY_READS, json.dumps(["/etc/shadow", str(private), str(public)]))
    assert result.status == "ok", result.stderr
    found = json.loads(result.stdout)
    if backend == "docker":
        # The image's own /etc/shadow (root only); the host's files are not in the container.
        assert found == {"/etc/shadow": "EACCES", str(private): "EACCES", str(public): "ENOENT"}
        return
    # The process backend shares the host's files: whatever the job's uid may read, it reads.
    assert found["/etc/shadow"] == "EACCES"
    assert found[str(private)] == ("EACCES" if ISOLATED else f"READ {private.read_text()}")
    assert found[str(public)] == f"READ {public.read_text()}"


# --- processes, memory, CPU, time, output ---------------------------------------------------

FORK_BOMB = """
import os
while True:
    try:
        os.fork()
    except OSError:
        pass
"""

CPP_FORK_BOMB = "#include <unistd.h>\nint main() { for (;;) fork(); }\n"


@needs_isolation
@pytest.mark.parametrize(
    ("language", "source"), [("python", FORK_BOMB), ("cpp", CPP_FORK_BOMB)], ids=["python", "cpp"]
)
def test_fork_bomb(backend: str, box: Any, language: str, source: str) -> None:
    needs_compiler(backend, language)
    # The pids limit (docker) or RLIMIT_NPROC (own uid) stops the forks; the CPU limit the job.
    result = run(box, language, source, cpu_s=1.0, wall_s=3.0, processes=16)
    assert result.status == "timeout"


CPP_MEMORY_BOMB = """
#include <cstring>
#include <vector>
int main() {
    std::vector<char*> blocks;
    for (;;) { char *p = new char[64 << 20]; std::memset(p, 1, 64 << 20); blocks.push_back(p); }
}
"""


@pytest.mark.parametrize(
    ("language", "source"),
    [("python", "data = b'x' * (4 * 1024**3)"), ("cpp", CPP_MEMORY_BOMB)],
    ids=["python", "cpp"],
)
def test_memory_bomb(backend: str, box: Any, language: str, source: str) -> None:
    needs_compiler(backend, language)
    result = run(box, language, source, memory_mb=256)
    assert result.status == "memory"
    assert ("MemoryError" if language == "python" else "bad_alloc") in result.stderr


FORKED_MEMORY_BOMB = """
import os, time
children = []
for _ in range(3):
    pid = os.fork()
    if pid == 0:
        data = b"x" * (200 * 1024 * 1024)
        time.sleep(2)
        os._exit(0)
    children.append(pid)
data = b"x" * (200 * 1024 * 1024)
for pid in children:
    os.waitpid(pid, 0)
print("all four held 200 MB")
"""


def test_memory_bomb_over_several_processes(backend: str, box: Any) -> None:
    # Each process stays under its own 512 MB limit; together they need 800 MB. The docker
    # container has 512 MB in all: the kernel's OOM killer ends one, and the runner sees it.
    result = run(box, "python", FORKED_MEMORY_BOMB, memory_mb=512, processes=16)
    assert result.status == expect(backend, "memory", "ok")
    if backend == "docker":
        assert "memory limit" in result.stderr
    else:  # the process backend's limits are per process (docs/sandbox.md)
        assert result.stdout == "all four held 200 MB\n"


@pytest.mark.parametrize(
    ("language", "source"),
    [
        ("python", "while True:\n    pass"),
        ("cpp", "int main() { volatile long x = 0; for (;;) x++; }"),
    ],
    ids=["python", "cpp"],
)
def test_cpu_spin(backend: str, box: Any, language: str, source: str) -> None:
    needs_compiler(backend, language)
    assert run(box, language, source, cpu_s=1.0, wall_s=5.0).status == "timeout"


def test_sleeping_forever(backend: str, box: Any) -> None:
    result = run(box, "python", "import time\ntime.sleep(10**6)", wall_s=1.0)
    assert result.status == "timeout"


def test_100_mb_of_output(backend: str, box: Any) -> None:
    source = "import sys\nfor _ in range(100):\n    sys.stdout.write('x' * 1024 * 1024)"
    result = run(box, "python", source, output_bytes=1024 * 1024)
    assert result.status == "output-limit"
    assert result.stdout == "x" * 1024 * 1024


# --- the protocol and the runner ------------------------------------------------------------

GARBLE = """
import json, os
os.write(1, b'{"id": 0, "status": "ok"}\\nnot json\\n')
os.close(1)
reached = []
for pid in os.listdir("/proc"):
    if not pid.isdigit() or int(pid) == os.getpid():
        continue
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        continue
    for fd in fds:
        path = f"/proc/{pid}/fd/{fd}"
        try:
            if os.readlink(path).startswith(("pipe:", "socket:")):
                out = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
                os.write(out, b'{"id": 1, "status": "ok"}\\ngarbage\\n')
                os.close(out)
                reached.append(int(pid))
        except OSError:
            pass
os.write(2, json.dumps({"runner": os.getppid() in reached, "init": 1 in reached}).encode())
"""


def test_garbling_and_closing_the_protocol_stream(backend: str, box: Any) -> None:
    result = run(box, "python", GARBLE)
    if backend == "process" and not ISOLATED:
        # Same uid as its runner: the job writes into the runner's pipes (docs/sandbox.md).
        assert result.status == "runtime-error"
        assert "sandbox worker died: garbled output" in result.stderr
        return
    assert result.status == "ok"
    assert result.stdout == '{"id": 0, "status": "ok"}\nnot json\n'  # its own stdout, no more
    reached = json.loads(result.stderr)
    assert reached["runner"] is False  # docker: the runner is not dumpable; process: other uid
    # In a container the job may write into the stdio of docker's init (same uid): that is
    # not the protocol, which runs over the runner's exec stream.
    assert reached["init"] is (backend == "docker")


def test_killing_the_runner(backend: str, box: Any) -> None:
    result = run(box, "python", "import os\nos.kill(os.getppid(), 9)")
    assert result.status == "runtime-error"
    if backend == "process" and ISOLATED:
        assert "PermissionError" in result.stderr  # the runner runs as root
    else:
        assert "sandbox worker died" in result.stderr


@needs_isolation
def test_kill_minus_one(backend: str, box: Any) -> None:
    result = run(box, "python", "import os\nos.kill(-1, 9)\nprint('still here')")
    # docker: every process of the container but its init (the runner among them); process
    # as root: nothing else runs under the job's own uid.
    assert result.status == expect(backend, "runtime-error", "ok")
    if backend == "docker":
        assert "sandbox worker died" in result.stderr


ESCAPE = """
import os, time
r, w = os.pipe()
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.write(w, str(os.getpid()).encode())
        time.sleep(1000)
    os._exit(0)
print(os.read(r, 32).decode())
"""

CPP_ESCAPE = """
#include <cstdio>
#include <unistd.h>
int main() {
    int fds[2]; pipe(fds);
    if (fork() == 0) {
        setsid();
        if (fork() == 0) {
            char b[32];
            write(fds[1], b, std::snprintf(b, 32, "%d", getpid()));
            for (;;) pause();
        }
        _exit(0);
    }
    char b[32] = {0}; read(fds[0], b, 31); std::printf("%s\\n", b);
}
"""


@pytest.mark.parametrize(
    ("language", "source"), [("python", ESCAPE), ("cpp", CPP_ESCAPE)], ids=["python", "cpp"]
)
def test_background_processes(backend: str, box: Any, language: str, source: str) -> None:
    needs_compiler(backend, language)
    result = run(box, language, source)
    assert result.status == "ok", result.stderr
    pid = int(result.stdout)
    if backend == "process":  # a pid of this host (in a container, of the container)
        assert not _alive(pid)


#: The child's main thread exits on its own (exit(2), not exit_group(2)) and leaves a thread
#: running: /proc then shows the child as a zombie, but it lives until its last thread ends.
#: The parent prints the child's pid once the child looks like a zombie.
MAIN_THREAD_EXIT = """
import ctypes, os, platform, threading, time
SYS_EXIT = {"x86_64": 60, "aarch64": 93}[platform.machine()]
pid = os.fork()
if pid == 0:
    os.setsid()
    threading.Thread(target=time.sleep, args=(1000,)).start()
    ctypes.CDLL(None).syscall(SYS_EXIT, 0)
while open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] != "Z":
    time.sleep(0.01)
print(pid)
"""

CPP_MAIN_THREAD_EXIT = """
#include <cstdio>
#include <fstream>
#include <iterator>
#include <pthread.h>
#include <string>
#include <unistd.h>
static void *forever(void *) { for (;;) pause(); }
int main() {
    pid_t pid = fork();
    if (pid == 0) {
        setsid();
        pthread_t thread;
        pthread_create(&thread, nullptr, forever, nullptr);
        pthread_exit(nullptr);
    }
    for (;;) {
        std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
        std::string text((std::istreambuf_iterator<char>(stat)), {});
        if (text[text.rfind(')') + 2] == 'Z') break;
        usleep(10000);
    }
    std::printf("%d\\n", pid);
}
"""


@pytest.mark.parametrize(
    ("language", "source"),
    [("python", MAIN_THREAD_EXIT), ("cpp", CPP_MAIN_THREAD_EXIT)],
    ids=["python", "cpp"],
)
def test_a_process_whose_main_thread_exited(
    backend: str, box: Any, language: str, source: str
) -> None:
    needs_compiler(backend, language)
    result = run(box, language, source)
    assert result.status == "ok", result.stderr
    pid = int(result.stdout)
    if backend == "process":
        assert not _alive(pid)


def _alive(pid: int) -> bool:
    """Whether a thread of pid runs: its /proc entry says zombie once its main thread exited."""
    return any(status["State"].strip()[0] not in "ZX" for status in thread_statuses(pid))
