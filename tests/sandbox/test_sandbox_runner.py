"""The runner's wire protocol, spoken directly to a runner subprocess."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from scaler.model import Limits, Program
from scaler.sandbox import runner
from scaler.sandbox.jobs import Job


class Runner:
    def __init__(self, tmp: Path, *options: str) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                runner.__file__,
                "--cache-dir",
                str(tmp),
                "--work-dir",
                str(tmp),
                *options,
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )

    def send(self, line: bytes) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + b"\n")
        self.proc.stdin.flush()
        return self.receive()

    def receive(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        return json.loads(self.proc.stdout.readline())


@pytest.fixture
def raw_runner(tmp_path: Path) -> Iterator[Runner]:
    r = Runner(tmp_path)
    yield r
    r.proc.terminate()  # the runner's SIGTERM handler cleans up after itself
    r.proc.wait()


def request(job_id: int, source: str, stdin: str = "", language: str = "python") -> bytes:
    return json.dumps(Job(Program(language, source), stdin, Limits()).to_wire(job_id)).encode()


def test_ready_line_then_results_then_clean_exit_at_eof(raw_runner: Runner) -> None:
    assert raw_runner.receive() == {"ready": True, "pid": raw_runner.proc.pid, "protocol": 2}
    result = raw_runner.send(request(5, "print(input() + '!')", "hey"))
    assert result == {
        "id": 5,
        "status": "ok",
        "exit_code": 0,
        "stdout": "hey!\n",
        "stderr": "",
        "wall_s": result["wall_s"],
        "cpu_s": result["cpu_s"],
    }
    assert isinstance(result["wall_s"], float) and isinstance(result["cpu_s"], float)
    assert raw_runner.proc.stdin is not None
    raw_runner.proc.stdin.close()
    assert raw_runner.proc.wait(timeout=10) == 0


@pytest.mark.parametrize(
    ("line", "job_id", "reason"),
    [
        (b"this is not json", None, "not JSON"),
        (b"[1, 2]", None, "not a JSON object"),
        (b"", None, "not JSON"),
        (b'{"id": 7, "language": "cobol", "hash": "h", "source": "", "stdin": ""}', 7, "language"),
        (b'{"id": 8, "language": "python", "hash": "h", "source": "", "stdin": ""}', 8, "limits"),
        (
            b'{"id": 9, "language": "cpp", "hash": "../../etc", "source": "", "stdin": "",'
            b' "limits": {"cpu_s": 1, "wall_s": 1, "memory_mb": 64, "processes": 1,'
            b' "output_bytes": 10}}',
            9,
            "hash",
        ),
    ],
    ids=["not-json", "not-an-object", "empty", "bad-language", "no-limits", "bad-hash"],
)
def test_malformed_request_gets_an_error_and_the_runner_goes_on(
    raw_runner: Runner, line: bytes, job_id: int | None, reason: str
) -> None:
    raw_runner.receive()
    result = raw_runner.send(line)
    assert (result["id"], result["status"], result["exit_code"]) == (job_id, "runtime-error", None)
    assert "malformed request" in result["stderr"] and reason in result["stderr"]
    assert raw_runner.send(request(10, "print('still here')"))["stdout"] == "still here\n"


needs_gxx = pytest.mark.skipif(shutil.which("g++") is None, reason="needs g++")

CPP_DOUBLE = "#include <iostream>\nint main() { int a; std::cin >> a; std::cout << 2 * a; }\n"


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A cache, a work dir, and a scratch dir for --scrub."""
    made = tuple(tmp_path / name for name in ("cache", "work", "scratch"))
    for path in made:
        path.mkdir()
    return made  # type: ignore[return-value]


@pytest.fixture
def start_runner(dirs: tuple[Path, Path, Path]) -> Iterator[Callable[..., Runner]]:
    runners: list[Runner] = []

    def start(*options: str) -> Runner:
        cache, work, _ = dirs
        started = Runner(cache, "--work-dir", str(work), *options)
        runners.append(started)
        assert started.receive()["ready"] is True
        return started

    yield start
    for started in runners:
        started.proc.terminate()
        started.proc.wait()


#: Builds CPP_DOUBLE where static links fail, as on a system without glibc's static library.
LINKING = """
import json, os, sys
from scaler.sandbox import runner

runner.CXX_STATIC = ("-static", "-l:scaler-no-such-library.a")
work = sys.argv[1]
cfg = runner.Config(cache_dir=work, work_dir=work, uid=None, gid=None)
binary = os.path.join(work, "double")
with open(binary, "wb") as f:
    f.write(runner._compile(sys.argv[2], cfg))
os.chmod(binary, 0o755)
print(json.dumps(runner._links_statically))
"""


@needs_gxx
def test_builds_link_dynamically_where_static_links_fail(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", LINKING, str(tmp_path), CPP_DOUBLE],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [False]
    ran = subprocess.run([tmp_path / "double"], input="21", capture_output=True, text=True)
    assert ran.stdout == "42"


@needs_gxx
def test_builds_are_static_where_they_can_be(dirs: tuple[Path, Path, Path]) -> None:
    from scaler.sandbox.process import ProcessSandbox

    with ProcessSandbox(workers=1, cache_dir=dirs[0]) as box:
        assert box.run_batch([Job(Program("cpp", CPP_DOUBLE), "21", Limits())])[0].stdout == "42"
    (binary,) = (dirs[0] / runner.CPP_CACHE).glob("[0-9a-f]*[0-9a-f]")
    assert b"/ld-linux" not in binary.read_bytes()  # no program interpreter: nothing to load


@needs_gxx
def test_a_read_only_cache_is_never_written_and_builds_come_back(
    start_runner: Callable[..., Runner], dirs: tuple[Path, Path, Path]
) -> None:
    cache = dirs[0]
    r = start_runner("--read-only-cache")
    first = r.send(request(1, CPP_DOUBLE, "21", "cpp"))
    assert (first["status"], first["stdout"]) == ("ok", "42")
    binary = base64.b64decode(first["build"]["binary"])
    assert binary.startswith(b"\x7fELF")
    assert list(cache.iterdir()) == []  # the host publishes builds, not the runner
    target = cache / runner.CPP_CACHE / Program("cpp", CPP_DOUBLE).hash
    target.parent.mkdir()
    target.write_bytes(binary)
    target.chmod(0o755)
    again = r.send(request(2, CPP_DOUBLE, "5", "cpp"))
    assert (again["stdout"], "build" in again) == ("10", False)

    broken = "int main() { return nope; }\n"
    failed = r.send(request(3, broken, "", "cpp"))
    assert failed["status"] == "compile-error"
    assert failed["build"] == {"error": failed["stderr"]}
    (target.parent / f"{Program('cpp', broken).hash}.error").write_text("remembered")
    remembered = r.send(request(4, broken, "", "cpp"))
    assert (remembered["stderr"], "build" in remembered) == ("remembered", False)


LITTER = """
import os
for path in ({scratch!r} + "/left", "../left", "left"):
    open(path, "w").write("x")
os.makedirs({scratch!r} + "/deep/locked")
os.chmod({scratch!r} + "/deep", 0)
os.chmod("..", 0)
"""


def test_scrub_empties_writable_places_after_each_job(
    start_runner: Callable[..., Runner], dirs: tuple[Path, Path, Path]
) -> None:
    _, work, scratch = dirs
    r = start_runner("--scrub", str(scratch))
    answer = r.send(request(1, LITTER.format(scratch=str(scratch))))
    assert (answer["status"], "retire" in answer) == ("ok", False)
    # Nothing of the job's is left; the batches' run dir stays, empty.
    assert (list(scratch.iterdir()), list(work.iterdir())) == ([], [work / "run"])
    assert list((work / "run").iterdir()) == []
    assert work.stat().st_mode & 0o777 == 0o711


#: What a run of a batch may leave in the places a job can write, by name: each run of
#: SEES_THEN_LITTERS prints what it finds, then leaves one of these.
LITTERS = {
    "nothing": "",
    "a file in a scrubbed dir": "open(SCRATCH + '/left', 'w').write('x')",
    "a file in the run dir": "open('left', 'w').write('x')",
    "a tree in the run dir": "os.makedirs('a/b')\nopen('a/b/c', 'w').write('x')",
    "a file in the work dir": "open('../left', 'w').write('x')",
    "a file moved into a scrubbed dir": "open('x', 'w').write('x')\nos.rename('x', SCRATCH + '/x')",
    "the run dir's mode": "os.chmod('.', 0o777)",
    "the work dir's mode": "os.chmod('..', 0o777)",
    "the run dir replaced": "os.rename('../run', '../old')\nos.mkdir('../run', 0o777)",
}
SEES_THEN_LITTERS = """
import os
SCRATCH = {scratch!r}
mode = lambda path: oct(os.stat(path).st_mode & 0o777)
print(os.listdir('.'), sorted(os.listdir('..')), os.listdir(SCRATCH), mode('.'), mode('..'))
exec({litters!r}[input()])
"""


def test_what_a_batch_run_leaves_is_gone_for_the_next(
    start_runner: Callable[..., Runner], dirs: tuple[Path, Path, Path]
) -> None:
    """The runner looks at the dirs only after a run that changed one (docs/sandbox.md,
    "Cleanup"): each kind of litter, left between quiet runs, must still be gone for the next."""
    _, work, scratch = dirs
    r = start_runner("--scrub", str(scratch))
    source = SEES_THEN_LITTERS.format(scratch=str(scratch), litters=LITTERS)
    program = {"language": "python", "hash": Program("python", source).hash, "source": source}
    order = [name for litter in LITTERS for name in ("nothing", litter, "nothing")]
    steps = [{"program": 0, "stdin": name + "\n", "limits": Limits().to_dict()} for name in order]
    r.send(json.dumps({"id": 1, "programs": [program], "runs": [{"steps": [steps[0]]}]}).encode())
    batch = {"id": 2, "programs": [program], "runs": [{"steps": [step]} for step in steps]}
    r.send(json.dumps(batch).encode())
    answers = [r.receive() for _ in steps[1:]]
    seen = [answer["results"][0]["stdout"] for answer in answers]
    assert [a["results"][0]["status"] for a in answers] == ["ok"] * (len(steps) - 1), answers
    assert seen == ["[] ['run'] [] 0o700 0o711\n"] * (len(steps) - 1)
    assert (list(scratch.iterdir()), sorted(work.iterdir())) == ([], [work / "run"])


def test_the_dirs_are_looked_at_only_after_a_change(tmp_path: Path) -> None:
    work, scratch = tmp_path / "work", tmp_path / "scratch"
    work.mkdir()
    scratch.mkdir()
    cfg = runner.Config(str(tmp_path), str(work), None, None, scrub=(str(scratch),))
    fences = runner.Fences(cfg)
    assert not fences.unchanged()  # nothing has been looked at yet
    fences.after_job({}, None)
    assert fences.unchanged() and fences.unchanged()
    (scratch / "left").write_text("x")
    assert not fences.unchanged()
    answer: dict[str, Any] = {}
    fences.after_job(answer, None)
    assert (answer, list(scratch.iterdir()), fences.unchanged()) == ({}, [], True)
    (work / "run").chmod(0o777)
    assert not fences.unchanged()


DEEP = """
import os
fd = os.open({scratch!r}, os.O_RDONLY)
for _ in range(3000):
    os.mkdir("d", dir_fd=fd)
    fd = os.open("d", os.O_RDONLY, dir_fd=fd)
"""


def test_a_job_that_cannot_be_cleaned_up_after_asks_for_retirement(
    start_runner: Callable[..., Runner], dirs: tuple[Path, Path, Path]
) -> None:
    scratch = dirs[2]
    r = start_runner("--scrub", str(scratch))
    answer = r.send(request(1, DEEP.format(scratch=str(scratch))))
    assert answer["status"] == "ok"
    assert answer["retire"].startswith("could not clean up after the job")
    subprocess.run(["rm", "-rf", str(scratch)], check=True)  # shutil.rmtree recurses too deep


def test_a_job_the_oom_killer_hit_ends_with_memory_and_asks_for_retirement(
    start_runner: Callable[..., Runner], tmp_path: Path
) -> None:
    # The counter is the kernel's in a container; here a job plays the kernel and bumps it.
    events = tmp_path / "memory.events"
    events.write_text("low 0\nhigh 0\noom 0\noom_kill 0\n")
    r = start_runner("--oom-events", str(events))
    assert r.send(request(1, "print('fine')"))["status"] == "ok"
    bump = f"open({str(events)!r}, 'w').write('oom 1\\noom_kill 1\\n')\nprint('partial')"
    answer = r.send(request(2, bump))
    assert (answer["status"], answer["stdout"]) == ("memory", "partial\n")
    assert answer["stderr"] == "[killed by the kernel: the sandbox's memory limit]"
    assert answer["retire"] == "the kernel's OOM killer ran"


def test_a_process_that_outlives_sigkill_ends_the_runner_instead_of_its_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A process stuck in the kernel is not dead after SIGKILL; /proc shows one here forever.
    stuck = subprocess.Popen(["sleep", "60"])
    monkeypatch.setattr(runner, "_leftovers", lambda root, uid: [stuck.pid])
    monkeypatch.setattr(runner, "SWEEP_TIMEOUT_S", 0.05)
    try:
        with pytest.raises(SystemExit, match="outlived SIGKILL"):
            runner._sweep(None)
    finally:
        stuck.kill()
        stuck.wait()
