"""DockerSandbox end to end: real containers, real limits, real cleanup."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scaler.errors import ConfigError, ScalerError
from scaler.model import Program
from scaler.plugins import Plugins
from scaler.sandbox.docker import (
    FIFO_ROOT_PREFIX,
    LABEL,
    LABEL_OWNER,
    LOCAL_ENGINE,
    OWNER_FILE,
    PROTOCOL_MOUNT,
    DockerSandbox,
    FifoStream,
    _engine_here,
    create_hardened,
    owner_token,
    remove_leftovers,
    remove_stale_fifo_roots,
)
from scaler.sandbox.image import RUNNER_PATH, default_tag
from scaler.sandbox.jobs import SANDBOXES, Job, Sandbox
from scaler.sandbox.runner import CPP_CACHE
from tests.sandbox.conftest import (
    DOCKER_MEMORY_MB,
    DOCKER_PIDS,
    assert_serves,
    docker_api,
    job,
    run,
    sandbox_containers,
)

ROOT = Path(__file__).resolve().parents[2]

CPP_ECHO = """
#include <iostream>
#include <string>
int main() {
    std::string line, all;
    while (std::getline(std::cin, line)) all += line + "|";
    std::cout << all << std::endl;
}
"""

HOSTNAME = "import socket\nprint(socket.gethostname())"


def wait_until(condition: Any, what: str, timeout: float = 60.0) -> None:
    """Polls until condition() holds; the engine removes containers asynchronously."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting: {what}")
        time.sleep(0.1)


@pytest.fixture
def single(tmp_path: Path) -> Iterator[DockerSandbox]:
    """One container, recycled after three jobs."""
    with DockerSandbox(
        workers=1, jobs_per_container=3, memory_mb=DOCKER_MEMORY_MB, cache_dir=tmp_path
    ) as box:
        yield box


def test_a_missing_docker_package_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "docker", None)
    with pytest.raises(ScalerError, match="the docker package, a dependency of scaler"):
        DockerSandbox(workers=1)


def test_the_docker_sdk_comes_with_scaler() -> None:
    """Docker first: `pip install scaler` brings the SDK, no extra needed."""
    import importlib.metadata

    requires = importlib.metadata.requires("scaler") or []
    assert any(r.startswith("docker") and "extra ==" not in r for r in requires), requires


def test_an_unreachable_engine_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    with pytest.raises(ScalerError, match="no Docker engine answers"):
        DockerSandbox(workers=1)


def test_docker_is_a_registered_backend() -> None:
    assert "docker" in Plugins.load(environ={}).registry(SANDBOXES)


@pytest.mark.docker
def test_a_missing_image_is_named() -> None:
    with pytest.raises(ScalerError, match="scaler-sandbox:no-such-tag is not built"):
        DockerSandbox(workers=1, image="scaler-sandbox:no-such-tag")


@pytest.mark.docker
def test_is_a_sandbox(docker_box: DockerSandbox) -> None:
    assert isinstance(docker_box, Sandbox)
    assert (docker_box.name, docker_box.workers) == ("docker", 2)


@pytest.mark.docker
def test_containers_are_hardened(docker_box: DockerSandbox) -> None:
    containers = sandbox_containers(docker_box.id)
    assert len(containers) == 2
    for found in containers:
        info = docker_api().inspect_container(found["Id"])
        host = info["HostConfig"]
        assert info["Config"]["User"] == "65534:65534"
        assert info["Config"]["Labels"][LABEL] == docker_box.id
        assert info["Config"]["Labels"][LABEL_OWNER] == owner_token()
        assert host["NetworkMode"] == "none"
        assert host["ReadonlyRootfs"] is True
        assert host["CapDrop"] == ["ALL"]
        assert host["SecurityOpt"] == ["no-new-privileges"]
        assert host["PidsLimit"] == DOCKER_PIDS
        assert host["Memory"] == host["MemorySwap"] == DOCKER_MEMORY_MB * 1024 * 1024
        assert host["NanoCpus"] == 10**9
        assert host["Init"] is True
        assert host["AutoRemove"] is True
        assert host["LogConfig"]["Type"] == "none"
        assert list(host["Tmpfs"]) == ["/tmp"] and "noexec" in host["Tmpfs"]["/tmp"]
        cache, protocol = host["Binds"]
        assert cache == f"{docker_box.cache_dir}:/cache:ro"
        fifos, target, mode = protocol.split(":")
        assert (Path(fifos).parent, target, mode) == (docker_box._fifo_root, PROTOCOL_MOUNT, "ro")


@pytest.mark.docker
def test_the_protocol_fifos_are_gone_before_any_job_runs(docker_box: DockerSandbox) -> None:
    """The runner has them open; the host unlinked them once it was ready, so a job finds an
    empty directory and nothing of the protocol to open."""
    assert docker_box._fifo_root is not None
    assert stat.S_IMODE(docker_box._fifo_root.stat().st_mode) == 0o700
    assert [p.name for p in docker_box._fifo_root.iterdir()] == [OWNER_FILE]
    probe = (
        "import os\n"
        f"print(os.listdir({PROTOCOL_MOUNT!r}))\n"
        "for name in ('requests', 'answers'):\n"
        "    try:\n"
        f"        os.open({PROTOCOL_MOUNT!r} + '/' + name, os.O_RDWR | os.O_NONBLOCK)\n"
        "        print('opened', name)\n"
        "    except OSError as exc:\n"
        "        print(type(exc).__name__)\n"
    )
    for result in docker_box.run_batch([job("python", probe) for _ in range(4)]):
        assert result.stdout == "[]\nFileNotFoundError\nFileNotFoundError\n", result.stderr


@pytest.mark.docker
@pytest.mark.parametrize("transport", ["exec", "fifo"])
def test_either_transport_serves_jobs(transport: str, tmp_path: Path) -> None:
    with DockerSandbox(
        workers=1, memory_mb=DOCKER_MEMORY_MB, cache_dir=tmp_path, transport=transport
    ) as box:
        assert (box._fifo_root is None) == (transport == "exec")
        assert_serves(box)
        assert run(box, "cpp", CPP_ECHO, "a\nb").stdout == "a|b|\n"
        (container,) = sandbox_containers(box.id)
        binds = docker_api().inspect_container(container["Id"])["HostConfig"]["Binds"]
        assert any(bind.endswith(f":{PROTOCOL_MOUNT}:ro") for bind in binds) == (
            transport == "fifo"
        )
        root = box._fifo_root
    assert root is None or not root.exists()


@pytest.mark.docker
def test_an_interrupted_fifo_worker_lets_go_of_the_exec_stream(tmp_path: Path) -> None:
    """A process that lives on after a signal (Ctrl-C caught) keeps no stream of the runner's
    open, under FIFOs as under the attach stream."""
    with DockerSandbox(
        workers=1, memory_mb=DOCKER_MEMORY_MB, cache_dir=tmp_path, transport="fifo"
    ) as box:
        (worker,) = box._workers
        assert isinstance(worker.stream, FifoStream) and worker.stream.attach is not None
        raw = worker.stream.attach.raw
        worker.interrupt()
        raw.settimeout(5)
        assert raw.recv(1) == b""  # ended on our side, not merely quiet


def test_the_fifo_directories_of_dead_sandboxes_are_removed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    gone = subprocess.Popen(["sleep", "60"])
    token = owner_token(gone.pid)
    gone.kill()
    gone.wait()
    dead, alive, unlabelled = (tmp_path / f"{FIFO_ROOT_PREFIX}{n}" for n in ("a", "b", "c"))
    for root in (dead, alive, unlabelled):
        (root / "container").mkdir(parents=True)
    (dead / OWNER_FILE).write_text(token)
    (alive / OWNER_FILE).write_text(owner_token())
    assert remove_stale_fifo_roots() == [dead]
    assert not dead.exists() and alive.exists() and unlabelled.exists()


def test_a_transport_must_be_known() -> None:
    with pytest.raises(ConfigError, match=r"transport.*'socket'"):
        DockerSandbox(workers=1, transport="socket")


def test_the_fifos_are_used_only_with_an_engine_on_this_machine() -> None:
    here = {"KernelVersion": os.uname().release, "Name": socket.gethostname()}
    assert _engine_here(LOCAL_ENGINE, here)
    assert not _engine_here("https://10.0.0.7:2376", here)
    assert not _engine_here(LOCAL_ENGINE, {**here, "KernelVersion": "6.10.14-linuxkit"})
    assert not _engine_here(LOCAL_ENGINE, {**here, "Name": "docker-desktop"})


@pytest.mark.docker
def test_python_and_cpp_jobs_come_back_in_order(docker_box: DockerSandbox) -> None:
    jobs = [job("python", "print(int(input()) * 2)", str(i)) for i in range(20)]
    jobs += [job("cpp", CPP_ECHO, f"{i}\nx") for i in range(6)]
    results = docker_box.run_batch(jobs)
    assert [r.status for r in results] == ["ok"] * len(jobs)
    assert [r.stdout for r in results[:20]] == [f"{2 * i}\n" for i in range(20)]
    assert [r.stdout for r in results[20:]] == [f"{i}|x|\n" for i in range(6)]


@pytest.mark.docker
def test_jobs_run_as_nobody_in_a_clean_environment(docker_box: DockerSandbox) -> None:
    # Nothing beside the runner, nor the work dir, is importable.
    source = """
import os, sys
print(os.getuid(), os.getgid(), sorted(os.environ))
print([p for p in sys.path if p in ("", ".", "/opt/scaler") or p.startswith("/tmp")])
"""
    result = run(docker_box, "python", source)
    assert result.stdout == "65534 65534 ['HOME', 'LANG', 'PATH', 'TMPDIR']\n[]\n"


@pytest.mark.docker
def test_a_build_is_compiled_once_published_and_shared(docker_box: DockerSandbox) -> None:
    program = Program("cpp", CPP_ECHO + "// shared build\n")
    artifact = docker_box.cache_dir / CPP_CACHE / program.hash
    results = docker_box.run_batch([Job(program, f"{i}\n") for i in range(6)])
    assert [r.stdout for r in results] == [f"{i}|\n" for i in range(6)]
    before = artifact.stat()
    again = docker_box.run_batch([Job(program, "y\n"), Job(program, "z\n")])
    assert [r.stdout for r in again] == ["y|\n", "z|\n"]
    after = artifact.stat()
    # A second build would have been published by rename: a new inode.
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert sorted(p.name for p in artifact.parent.iterdir() if program.hash in p.name) == [
        program.hash
    ]


@pytest.mark.docker
def test_compile_errors_are_remembered(docker_box: DockerSandbox) -> None:
    source = "int main() { return undeclared_thing; }\n"
    first = run(docker_box, "cpp", source)
    assert (first.status, first.exit_code) == ("compile-error", None)
    assert "undeclared_thing" in first.stderr
    marker = docker_box.cache_dir / CPP_CACHE / f"{Program('cpp', source).hash}.error"
    assert marker.read_text() == first.stderr
    assert run(docker_box, "cpp", source).stderr == first.stderr


@pytest.mark.docker
def test_jobs_cannot_reach_the_runner(docker_box: DockerSandbox) -> None:
    source = """
import ctypes, os
runner = f"/proc/{os.getppid()}"
for name in ("fd", "mem", "environ"):
    try:
        os.listdir(f"{runner}/fd") if name == "fd" else open(f"{runner}/{name}", "rb")
        print(name, "open")
    except PermissionError:
        print(name, "denied")
libc = ctypes.CDLL(None, use_errno=True)
print("ptrace", "denied" if libc.ptrace(16, os.getppid(), 0, 0) != 0 else "attached")
"""
    result = run(docker_box, "python", source)
    assert result.stdout == "fd denied\nmem denied\nenviron denied\nptrace denied\n"


@pytest.mark.docker
def test_nothing_a_job_leaves_in_writable_places_reaches_the_next(single: DockerSandbox) -> None:
    litter = """
import os
for path in ("/tmp/left", "/dev/shm/left", "../left", "left"):
    open(path, "w").write("x")
os.makedirs("/tmp/deep/locked")
os.chmod("/tmp/deep", 0)
os.chmod("..", 0)
"""
    look = """
import json, os
mine = os.path.basename(os.getcwd())
print(json.dumps([os.listdir("/tmp"), os.listdir("/dev/shm"), os.listdir("..") == [mine]]))
"""
    assert run(single, "python", litter).status == "ok"
    result = run(single, "python", look)  # the same container: it is recycled after three
    assert (result.status, result.stdout) == ("ok", '[["jobs"], [], true]\n')


@pytest.mark.docker
def test_containers_are_recycled_after_n_jobs(single: DockerSandbox) -> None:
    hosts = [run(single, "python", HOSTNAME).stdout for _ in range(7)]
    assert hosts[0] == hosts[1] == hosts[2] != hosts[3] == hosts[4] == hosts[5] != hosts[6]
    assert len({hosts[0], hosts[3], hosts[6]}) == 3
    assert len(sandbox_containers(single.id)) == 1  # the recycled ones are gone


#: IPC objects outlive the job that made them; the first is SysV shared memory, the second a
#: POSIX message queue (where the container has its filesystem, docker's default).
IPC_LEFT = {
    "SysV shared memory": (
        "import ctypes\nlibc = ctypes.CDLL(None)\nprint(libc.shmget(0, 4096, 0o1600) >= 0)"
    ),
    "POSIX message queue": (
        "import ctypes, os\nlibc = ctypes.CDLL(None)\n"
        "print(libc.mq_open(b'/left', os.O_CREAT | os.O_RDWR, 0o600, None) >= 0)"
    ),
}


@pytest.mark.docker
@pytest.mark.parametrize("source", IPC_LEFT.values(), ids=IPC_LEFT.keys())
def test_ipc_objects_a_job_leaves_retire_the_container(single: DockerSandbox, source: str) -> None:
    host = run(single, "python", HOSTNAME).stdout
    made = run(single, "python", source)
    assert (made.status, made.stdout) == ("ok", "True\n"), made.stderr
    assert run(single, "python", HOSTNAME).stdout != host


@pytest.mark.docker
def test_an_oom_kill_retires_the_container(single: DockerSandbox) -> None:
    # The parent waits for its children, so all four hold 200 MB at once (800 MB against 512):
    # a parent that ended first would end the job before a loaded machine got the children to
    # allocate (seen in CI: "ok").
    bomb = """
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
"""
    host = run(single, "python", HOSTNAME).stdout
    result = run(single, "python", bomb, memory_mb=512, processes=16)
    assert result.status == "memory"
    assert "[killed by the kernel: the sandbox's memory limit]" in result.stderr
    assert run(single, "python", HOSTNAME).stdout != host


@pytest.mark.docker
def test_a_job_that_stops_its_container_harms_no_other_job(docker_box: DockerSandbox) -> None:
    # Killing docker's init's child (the lifeline's cat) stops the whole container, a moment
    # later: the answer may still come, or not. Either way the next jobs run normally, even
    # one sent to the runner that was about to die (it is run again on a fresh container).
    stop = """
import os
for pid in os.listdir("/proc"):
    if pid.isdigit() and open(f"/proc/{pid}/comm").read() == "cat\\n":
        os.kill(int(pid), 9)
"""
    for _ in range(3):
        assert run(docker_box, "python", stop).status in ("ok", "runtime-error")
        assert_serves(docker_box)


@pytest.mark.docker
def test_the_runner_comes_from_the_image_when_it_is_current(tmp_path: Path) -> None:
    cmdline = "import os\nprint(open(f'/proc/{os.getppid()}/cmdline').read().split(chr(0))[1])"
    with DockerSandbox(workers=1, cache_dir=tmp_path) as box:
        assert run(box, "python", cmdline).stdout == f"{RUNNER_PATH}\n"
    # None: this scaler's runner, passed on the command line (no image rebuild needed).
    with DockerSandbox(workers=1, cache_dir=tmp_path, runner_path=None) as box:
        assert run(box, "python", cmdline).stdout == "-c\n"


@pytest.mark.docker
def test_close_removes_every_container_and_refuses_jobs(tmp_path: Path) -> None:
    box = DockerSandbox(workers=2, cache_dir=tmp_path)
    assert run(box, "python", "print(1)").stdout == "1\n"
    assert len(sandbox_containers(box.id)) == 2
    box.close()
    box.close()
    assert sandbox_containers(box.id) == []
    with pytest.raises(RuntimeError, match="closed"):
        box.submit(job("python", "print(1)"))


@pytest.mark.docker
def test_leftovers_of_dead_owners_are_removed_on_start(tmp_path: Path) -> None:
    from docker.errors import NotFound

    api = docker_api()
    gone = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=-1)
    dead_owner = owner_token(gone.pid)
    gone.communicate(b"")

    def leftover(owner: str) -> str:
        return create_hardened(
            api,
            default_tag(),
            ["cat"],
            labels={LABEL: "a-test", LABEL_OWNER: owner},
            memory_mb=64,
            cpus=0.1,
            pids=8,
            tmpfs_mb=1,
        )

    dead, alive = leftover(dead_owner), leftover(owner_token())
    try:
        with DockerSandbox(workers=1, cache_dir=tmp_path):
            ids = {c["Id"] for c in sandbox_containers("a-test")}
        assert ids == {alive}
        assert remove_leftovers(api) == []
    finally:
        for container in (dead, alive):
            with contextlib.suppress(NotFound):
                api.remove_container(container, force=True)


HOLDER = """
import signal, sys, time
from scaler.sandbox.docker import DockerSandbox
if sys.argv[1] == "previous":
    signal.signal(signal.SIGTERM, lambda *_: (print("previous handler", flush=True), sys.exit(3)))
box = DockerSandbox(workers=2, cache_dir=sys.argv[2])
try:  # the signal may come while the id is still being printed
    print(box.id, flush=True)
    time.sleep(600)
except KeyboardInterrupt:
    print("interrupted", flush=True)
    time.sleep(600)
"""


def hold_a_sandbox(mode: str, cache_dir: Path) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(HOLDER), mode, str(cache_dir)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    sandbox_id = proc.stdout.readline().strip()
    assert len(sandbox_containers(sandbox_id)) == 2
    return proc, sandbox_id


@pytest.mark.docker
@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM", "SIGTERM after a handler", "SIGINT"])
def test_a_dying_host_process_leaves_no_container(how: str, tmp_path: Path) -> None:
    proc, sandbox_id = hold_a_sandbox("previous" if "handler" in how else "", tmp_path)
    try:
        os.kill(proc.pid, getattr(signal, how.split()[0]))
        wait_until(lambda: sandbox_containers(sandbox_id) == [], f"{how}: containers removed")
        assert proc.stdout is not None
        if how == "SIGINT":  # Ctrl-C is not swallowed: the program's own handler ran
            assert proc.stdout.readline() == "interrupted\n"
        else:
            proc.wait(timeout=60)
            expected = {"SIGKILL": -9, "SIGTERM": -15, "SIGTERM after a handler": 3}[how]
            assert proc.returncode == expected
            if "handler" in how:
                assert proc.stdout.read() == "previous handler\n"
    finally:
        proc.kill()
        proc.wait()
