"""ProcessSandbox end to end: real runners, real programs, real limits."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from scaler.model import Limits, Program
from scaler.sandbox.jobs import Job, JobResult, Sandbox
from scaler.sandbox.process import ProcessSandbox
from scaler.sandbox.runner import CPP_CACHE

needs_gxx = pytest.mark.skipif(shutil.which("g++") is None, reason="needs g++")
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (per-job uid, no network)")

CPP_ECHO = """
#include <iostream>
#include <string>
int main() {
    std::string line, all;
    while (std::getline(std::cin, line)) all += line + "|";
    std::cout << all << std::endl;
}
"""


def job(language: str, source: str, stdin: str = "", **limits: float) -> Job:
    return Job(Program(language, source), stdin, Limits(**{"wall_s": 10.0, **limits}))


def run(
    sandbox: ProcessSandbox, language: str, source: str, stdin: str = "", **limits: float
) -> JobResult:
    (result,) = sandbox.run_batch([job(language, source, stdin, **limits)])
    return result


def alive(pid: int) -> bool:
    """Whether pid is a live (not zombie) process."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


def assert_serves(sandbox: ProcessSandbox) -> None:
    """Every worker still gives correct answers (a batch as large as the pool uses them all)."""
    jobs = [job("python", "print(input()[::-1])", f"abc{i}") for i in range(4)]
    assert [r.stdout for r in sandbox.run_batch(jobs)] == [f"{i}cba\n" for i in range(4)]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sandbox-cache")


@pytest.fixture(scope="module")
def sandbox(cache_dir: Path) -> Iterator[ProcessSandbox]:
    with ProcessSandbox(workers=2, cache_dir=cache_dir) as box:
        yield box


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A directory jobs can write to whatever uid they run as."""
    with tempfile.TemporaryDirectory() as path:
        os.chmod(path, 0o777)
        yield Path(path)


def test_is_a_sandbox(sandbox: ProcessSandbox) -> None:
    assert isinstance(sandbox, Sandbox)
    assert sandbox.name == "process"


def test_python_echo(sandbox: ProcessSandbox) -> None:
    result = run(sandbox, "python", "import sys\nprint(sys.stdin.read().upper(), end='')", "hi\n")
    assert (result.status, result.exit_code, result.stdout, result.stderr) == ("ok", 0, "HI\n", "")
    assert result.wall_s > 0 and result.cpu_s >= 0


@needs_gxx
def test_cpp_echo(sandbox: ProcessSandbox) -> None:
    result = run(sandbox, "cpp", CPP_ECHO, "a\nb\n")
    assert (result.status, result.exit_code, result.stdout) == ("ok", 0, "a|b|\n")


def test_python_jobs_fork_from_the_warm_worker(sandbox: ProcessSandbox) -> None:
    # A fresh interpreter has not imported json; the runner has (and the job is its fork).
    result = run(sandbox, "python", "import sys\nprint('json' in sys.modules, __name__)")
    assert result.stdout == "True __main__\n"


def test_python_sees_a_clean_environment(sandbox: ProcessSandbox) -> None:
    source = "import os, sys\nprint(sorted(os.environ), os.getcwd() == os.environ['HOME'])"
    result = run(sandbox, "python", source)
    assert result.stdout == "['HOME', 'LANG', 'PATH', 'TMPDIR'] True\n"


def test_str_hashing_is_the_same_in_every_worker(sandbox: ProcessSandbox) -> None:
    jobs = [job("python", "print(hash('scaler'), list({'a', 'b', 'c', 'd'}))")] * 6
    assert len({r.stdout for r in sandbox.run_batch(jobs)}) == 1


@needs_gxx
def test_cpp_is_compiled_once_per_hash(sandbox: ProcessSandbox, cache_dir: Path) -> None:
    program = Program("cpp", CPP_ECHO + "// compiled once\n")
    artifact = cache_dir / CPP_CACHE / program.hash
    first = sandbox.run_batch([Job(program, "x\n")])[0]
    before = artifact.stat()
    again = sandbox.run_batch([Job(program, "y\n"), Job(program, "z\n")])
    after = artifact.stat()
    assert [r.stdout for r in (first, *again)] == ["x|\n", "y|\n", "z|\n"]
    # A recompile would publish a new file (new inode) by rename.
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert sorted(p.name for p in artifact.parent.glob(program.hash + "*")) == [
        program.hash,
        program.hash + ".lock",
    ]


@needs_gxx
def test_a_new_program_raced_by_both_workers_leaves_one_artifact(
    sandbox: ProcessSandbox, cache_dir: Path
) -> None:
    program = Program("cpp", CPP_ECHO + "// raced\n")
    results = sandbox.run_batch([Job(program, f"{i}\n") for i in range(4)])
    assert [r.stdout for r in results] == [f"{i}|\n" for i in range(4)]
    artifacts = sorted(p.name for p in (cache_dir / CPP_CACHE).glob(program.hash + "*"))
    assert artifacts == [program.hash, program.hash + ".lock"]
    assert not list((cache_dir / CPP_CACHE).glob(".tmp-*"))


@needs_gxx
def test_compile_error_is_reported_and_remembered(sandbox: ProcessSandbox, cache_dir: Path) -> None:
    source = "int main() { return undeclared_thing; }\n"
    first = run(sandbox, "cpp", source)
    assert (first.status, first.exit_code, first.stdout) == ("compile-error", None, "")
    assert "undeclared_thing" in first.stderr and "error" in first.stderr
    marker = cache_dir / CPP_CACHE / (Program("cpp", source).hash + ".error")
    before = marker.stat()
    second = run(sandbox, "cpp", source)
    assert (second.status, second.stderr) == ("compile-error", first.stderr)
    assert marker.stat().st_ino == before.st_ino
    assert_serves(sandbox)


def test_legacy_cpp_gets_a_second_chance_as_gnu14(sandbox: ProcessSandbox) -> None:
    """``bool++`` is an error in C++17; contest solutions written for C++14 still use it."""
    source = '#include <cstdio>\nint main() { bool b = false; b++; std::printf("%d\\n", b); }\n'
    result = run(sandbox, "cpp", source)
    assert (result.status, result.stdout) == ("ok", "1\n")


@pytest.mark.parametrize(
    ("language", "source", "exit_code", "in_stderr"),
    [
        ("python", "raise ValueError('boom')", 1, "ValueError: boom"),
        ("python", "import sys\nsys.exit(3)", 3, ""),
        ("python", "import sys\nsys.exit('bye')", 1, "bye"),
        ("python", "def f(:\n", 1, "SyntaxError"),
        ("cpp", "int main() { volatile int *p = nullptr; *p = 1; }", -signal.SIGSEGV, ""),
        ("cpp", "#include <cstdlib>\nint main() { std::exit(2); }", 2, ""),
    ],
    ids=["exception", "exit-3", "exit-message", "syntax-error", "cpp-segfault", "cpp-exit-2"],
)
def test_runtime_errors(
    sandbox: ProcessSandbox, language: str, source: str, exit_code: int, in_stderr: str
) -> None:
    if language == "cpp" and shutil.which("g++") is None:
        pytest.skip("needs g++")
    result = run(sandbox, language, source)
    assert (result.status, result.exit_code) == ("runtime-error", exit_code)
    assert in_stderr in result.stderr
    assert_serves(sandbox)


def test_python_traceback_shows_the_program_not_the_runner(sandbox: ProcessSandbox) -> None:
    result = run(sandbox, "python", "x = 1\n\n1 / 0\n")
    assert 'File "<program>", line 3' in result.stderr and "1 / 0" in result.stderr
    assert "runner.py" not in result.stderr


@pytest.mark.parametrize(
    ("language", "source"),
    [
        ("python", "import time\nwhile True: time.sleep(1)"),
        ("python", "while True: pass"),
        ("cpp", "int main() { volatile long x = 0; for (;;) x++; }"),
    ],
    ids=["python-sleep", "python-spin", "cpp-spin"],
)
def test_timeouts(sandbox: ProcessSandbox, language: str, source: str) -> None:
    if language == "cpp" and shutil.which("g++") is None:
        pytest.skip("needs g++")
    # Sleeping hits the wall limit, spinning the CPU limit (checked first: 1 s of CPU < 4 s).
    result = run(sandbox, language, source, cpu_s=1.0, wall_s=4.0 if "sleep" not in source else 1.0)
    assert result.status == "timeout"
    assert result.exit_code in (-signal.SIGKILL, -signal.SIGXCPU)
    assert_serves(sandbox)


@pytest.mark.parametrize(
    ("language", "source"),
    [
        ("python", "data = bytearray(2 * 1024**3)"),
        ("cpp", "#include <vector>\nint main() { std::vector<char> v(2000000000); return v[7]; }"),
    ],
    ids=["python", "cpp"],
)
def test_memory(sandbox: ProcessSandbox, language: str, source: str) -> None:
    if language == "cpp" and shutil.which("g++") is None:
        pytest.skip("needs g++")
    result = run(sandbox, language, source, memory_mb=512)
    assert result.status == "memory"
    assert ("MemoryError" if language == "python" else "bad_alloc") in result.stderr
    assert_serves(sandbox)


def test_output_limit(sandbox: ProcessSandbox) -> None:
    source = "import sys\nfor _ in range(100):\n    sys.stdout.write('x' * 1024 * 1024)"
    result = run(sandbox, "python", source, output_bytes=1024 * 1024)
    assert result.status == "output-limit"
    assert result.stdout == "x" * 1024 * 1024
    assert_serves(sandbox)


def test_stderr_is_truncated_not_an_error(sandbox: ProcessSandbox) -> None:
    source = "import sys\nsys.stderr.write('e' * 1024 * 1024)\nprint('done')"
    result = run(sandbox, "python", source)
    assert (result.status, result.stdout) == ("ok", "done\n")
    assert result.stderr.startswith("eeee") and result.stderr.endswith("[stderr truncated]")
    assert len(result.stderr) < 70 * 1024


BACKGROUND_PYTHON = """
import subprocess
p = subprocess.Popen(['sleep', '1000'], start_new_session=True)
print(p.pid)
"""

BACKGROUND_CPP = """
#include <cstdio>
#include <unistd.h>
int main() {
    pid_t pid = fork();
    if (pid == 0) { setsid(); for (;;) pause(); }
    std::printf("%d\\n", pid);
}
"""


@pytest.mark.parametrize(
    ("language", "source"),
    [("python", BACKGROUND_PYTHON), ("cpp", BACKGROUND_CPP)],
    ids=["python-setsid", "cpp-fork-setsid"],
)
def test_background_processes_do_not_survive_the_job(
    sandbox: ProcessSandbox, language: str, source: str
) -> None:
    if language == "cpp" and shutil.which("g++") is None:
        pytest.skip("needs g++")
    result = run(sandbox, language, source)
    assert result.status == "ok", result.stderr
    assert not alive(int(result.stdout))
    assert_serves(sandbox)


def test_background_processes_die_without_a_dedicated_uid(cache_dir: Path) -> None:
    # Without a uid of its own the sweep relies on the runner being a child subreaper.
    with ProcessSandbox(workers=1, cache_dir=cache_dir, run_as_uid=False) as box:
        result = run(box, "python", BACKGROUND_PYTHON)
        assert result.status == "ok"
        assert not alive(int(result.stdout))


GARBAGE_ON_FD1 = """
import os
os.write(1, b'{"id": 0, "status": "ok"}\\nnot json\\n')
os.close(1)
os.close(2)
"""


def test_writing_garbage_to_fd1_or_closing_it_does_not_break_the_protocol(
    sandbox: ProcessSandbox,
) -> None:
    result = run(sandbox, "python", GARBAGE_ON_FD1)
    assert (result.status, result.stdout) == ("ok", '{"id": 0, "status": "ok"}\nnot json\n')
    if shutil.which("g++"):
        source = '#include <unistd.h>\nint main() { write(1, "}{\\n", 3); close(1); close(0); }'
        assert run(sandbox, "cpp", source).stdout == "}{\n"
    assert_serves(sandbox)


#: Writes garbage into every pipe the runner holds (its protocol streams among them).
ATTACK_RUNNER_PIPES = """
import os
fds = f'/proc/{os.getppid()}/fd'
for name in os.listdir(fds):
    if os.readlink(f'{fds}/{name}').startswith('pipe:'):
        try:
            os.write(os.open(f'{fds}/{name}', os.O_WRONLY | os.O_NONBLOCK), b'garbage\\n')
        except OSError:
            pass
"""


@needs_root
def test_a_job_under_its_own_uid_cannot_reach_the_runner(sandbox: ProcessSandbox) -> None:
    result = run(sandbox, "python", ATTACK_RUNNER_PIPES)
    assert (result.status, result.exit_code) == ("runtime-error", 1)
    assert "PermissionError" in result.stderr
    assert_serves(sandbox)


def test_a_garbled_protocol_stream_fails_the_job_and_restarts_the_worker(cache_dir: Path) -> None:
    # Without a uid of its own a job can reach its runner's pipes through /proc.
    with ProcessSandbox(workers=1, cache_dir=cache_dir, run_as_uid=False) as box:
        result = run(box, "python", ATTACK_RUNNER_PIPES)
        assert result.status == "runtime-error"
        assert "sandbox worker died: garbled output" in result.stderr
        assert_serves(box)


@needs_root
def test_jobs_run_as_a_dedicated_uid_without_network(sandbox: ProcessSandbox) -> None:
    source = """
import os, socket
print(os.getuid(), os.getgid(), os.getgroups())
try:
    socket.create_connection(('192.0.2.1', 80), timeout=5)
except OSError as exc:
    print(exc.errno)
"""
    results = sandbox.run_batch([job("python", source)] * 4)
    lines = [r.stdout.splitlines() for r in results]
    assert {line[1] for line in lines} == {str(__import__("errno").ENETUNREACH)}
    uids = {line[0] for line in lines}
    assert all(not u.startswith("0 ") and u.endswith(" []") for u in uids)


def test_job_dirs_of_a_sandbox_whose_process_died_are_removed(tmp_path: Path) -> None:
    from scaler.sandbox.process import _make_work_root

    gone = subprocess.Popen(["true"])
    gone.wait()
    stale = tmp_path / f"scaler-sandbox-{gone.pid}-abc" / "w0"
    live = tmp_path / f"scaler-sandbox-{os.getpid()}-abc" / "w0"
    for path in (stale, live):
        path.mkdir(parents=True)
    made = _make_work_root(str(tmp_path))
    assert not stale.parent.exists() and live.exists()
    assert made.name.startswith(f"scaler-sandbox-{os.getpid()}-") and made.is_dir()


@needs_root
def test_a_uid_that_a_process_still_has_is_not_claimed(cache_dir: Path) -> None:
    """What a runner killed outright left behind lives on under init (as a zombie, until init
    reaps it) and counts against its uid's process limit: the next sandbox passes that uid by."""
    with ProcessSandbox(workers=1, cache_dir=cache_dir) as first:
        (uid,) = first.job_uids
    left = subprocess.Popen(["sleep", "60"], user=uid, group=uid)
    try:
        with ProcessSandbox(workers=1, cache_dir=cache_dir) as second:
            assert second.job_uids and second.job_uids != (uid,)
    finally:
        left.kill()
        left.wait()
    with ProcessSandbox(workers=1, cache_dir=cache_dir) as third:
        assert third.job_uids == (uid,)


@needs_root
def test_the_process_limit_holds_under_a_dedicated_uid(sandbox: ProcessSandbox) -> None:
    source = """
import os, time
forked = 0
try:
    while True:
        if os.fork() == 0:
            time.sleep(100)
        forked += 1
except OSError:
    print(forked)
"""
    result = run(sandbox, "python", source, processes=8)
    assert result.status == "ok" and 0 < int(result.stdout) < 8
    assert_serves(sandbox)


@needs_root
@needs_gxx
def test_the_compiler_runs_sandboxed_too(sandbox: ProcessSandbox) -> None:
    # Compiling as root would quote /etc/shadow back in the error message.
    result = run(sandbox, "cpp", '#include "/etc/shadow"\nint main() {}\n')
    assert result.status == "compile-error"
    assert "Permission denied" in result.stderr


def test_many_jobs_come_back_in_order(sandbox: ProcessSandbox) -> None:
    jobs = [job("python", "print(int(input()) * 2)", str(i)) for i in range(40)]
    if shutil.which("g++"):
        jobs += [job("cpp", CPP_ECHO, str(i)) for i in range(10)]
    results = sandbox.run_batch(jobs)
    assert [r.stdout for r in results[:40]] == [f"{2 * i}\n" for i in range(40)]
    assert [r.stdout for r in results[40:]] == [f"{i}|\n" for i in range(len(jobs) - 40)]


def test_several_threads_may_run_batches_at_once(sandbox: ProcessSandbox) -> None:
    outputs: dict[int, list[str]] = {}

    def batch(t: int) -> None:
        jobs = [job("python", "print(input())", f"{t}-{i}") for i in range(8)]
        outputs[t] = [r.stdout for r in sandbox.run_batch(jobs)]

    threads = [threading.Thread(target=batch, args=(t,)) for t in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outputs == {t: [f"{t}-{i}\n" for i in range(8)] for t in range(3)}


def test_a_killed_worker_fails_its_job_and_is_replaced(
    sandbox: ProcessSandbox, shared_dir: Path
) -> None:
    report = shared_dir / "pids"
    source = f"""
import os, time
with open({str(report) + ".tmp"!r}, 'w') as f:
    f.write(f'{{os.getppid()}} {{os.getpid()}}')
os.rename({str(report) + ".tmp"!r}, {str(report)!r})
time.sleep(60)
"""
    future = sandbox.submit(job("python", source, wall_s=30.0))
    deadline = time.monotonic() + 20
    while not report.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    runner_pid, job_pid = map(int, report.read_text().split())
    os.kill(runner_pid, signal.SIGKILL)
    result = future.result(timeout=20)
    assert (result.status, result.exit_code) == ("runtime-error", None)
    assert "sandbox worker died" in result.stderr
    assert not alive(job_pid)
    assert_serves(sandbox)


def test_closed_sandbox_refuses_jobs(cache_dir: Path) -> None:
    box = ProcessSandbox(workers=1, cache_dir=cache_dir)
    assert run(box, "python", "print(1)").stdout == "1\n"
    box.close()
    box.close()
    with pytest.raises(RuntimeError):
        box.submit(job("python", "print(1)"))
