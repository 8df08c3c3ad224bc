"""Many runs per warm child: what one run leaves is reset or ends the child, a run over its
limits ends only its child, and no run's result depends on what ran before it."""

from __future__ import annotations

import contextlib
import json
import os
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scaler.instances import GENERATOR_LIMITS, derive_seed, generator_harness
from scaler.model import ENVIRONMENTS, Limits, Program
from scaler.plugins import Plugins
from scaler.sandbox.jobs import Chain, Job, JobResult, run_chains
from scaler.sandbox.process import ProcessSandbox
from scaler.sandbox.runner import _threads_and_vm_bytes, program_imports
from tests.sandbox.conftest import DOCKER_MEMORY_MB, DOCKER_PIDS, job
from tests.sandbox.test_sandbox_runner import Runner, request


@pytest.fixture(scope="module")
def warm_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with ProcessSandbox(
        workers=1, cache_dir=tmp_path_factory.mktemp("warm-cache"), keep_warm=True
    ) as box:
        yield box


@pytest.fixture(scope="module")
def warm_docker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from scaler.sandbox.docker import DockerSandbox

    with DockerSandbox(
        workers=1,
        memory_mb=DOCKER_MEMORY_MB,
        pids=DOCKER_PIDS,
        cache_dir=tmp_path_factory.mktemp("warm-docker-cache"),
        keep_warm=True,
    ) as box:
        yield box


@pytest.fixture(params=["process", pytest.param("docker", marks=pytest.mark.docker)])
def warm(request: pytest.FixtureRequest) -> Any:
    """A one-worker sandbox whose runner keeps its warm children between batches."""
    return request.getfixturevalue(f"warm_{request.param}")


def cold(box: Any) -> Any:
    """The sandbox with its runners' warm children ended (a batch sent without keep_warm ends
    them before its answer), and not kept from now on: each batch then starts fresh ones."""
    box.keep_warm = False
    box.run_batch([job("python", "pass")])
    return box


def fresh(box: Any, one: Job) -> JobResult:
    """The job as the only run of a child of its own."""
    try:
        (result,) = cold(box).run_batch([one])
    finally:
        box.keep_warm = True
    return result


#: Each leaves something for the next run of the same program in the same child; each prints
#: what a fresh process would see.
STATEFUL = {
    "module attribute (through an alias)": (
        "import json\nm = json\nprint(getattr(m, 'left', None))\nm.left = 1"
    ),
    "builtins (reached without naming them)": (
        "b = print.__self__\nprint(hasattr(b, 'left'))\nb.left = 1"
    ),
    "sys.modules (a module imported late)": (
        "import sys\nprint('wave' in sys.modules)\nimport wave"
    ),
    "open fds": "import os\nprint(len(os.listdir('/proc/self/fd')))\nos.open('/dev/null', 0)",
    "threads": (
        "import threading, time\nprint(threading.active_count())\n"
        "threading.Thread(target=time.sleep, args=(30,), daemon=True).start()"
    ),
    "work dir mode": "import os\nprint(oct(os.stat('.').st_mode & 0o777))\nos.chmod('.', 0o500)",
    "recursion limit": "import sys\nprint(sys.getrecursionlimit())\nsys.setrecursionlimit(10**5)",
    "int digits": "import sys\nprint(sys.get_int_max_str_digits())\nsys.set_int_max_str_digits(0)",
    "argv, environment, cwd and its files": (
        "import os, sys\nprint(sys.argv, sorted(os.environ), os.listdir('.'))\n"
        "sys.argv.append('x')\nos.environ['LEFT'] = '1'\nopen('left', 'w').write('x')"
    ),
    "gc and the standard streams": (
        "import gc, sys\nprint(gc.isenabled(), sys.stdout.name)\ngc.disable()\n"
        "sys.stdout = open('other', 'w')"
    ),
    "decimal context": (
        "import decimal\nprint(decimal.getcontext().prec)\ndecimal.getcontext().prec = 5"
    ),
    "thread names": (
        "import threading\nt = threading.Thread(target=print)\nprint(t.name)\nt.start()\nt.join()"
    ),
    "a tracer (imported under another name)": (
        "import sys\nfrom sys import settrace as trace\nprint(sys.gettrace())\n"
        "trace(lambda *a: None)"
    ),
}


#: Whether runs of a program may share a child, judged from its source.
SHAREABLE = {
    "from builtins import *\nprint(max(1, 2))": True,  # the official pool's generator preamble
    "from builtins import print as show\nshow(1)": True,
    "from builtins import __dict__ as names\nnames['x'] = 1": False,
    "import builtins\nprint(builtins.max(1, 2))": False,
    "from sys import settrace as trace\ntrace(None)": False,
    "from gc import *\ncollect()": False,
    "from sys import *\nprint(maxsize)": True,
}


@pytest.mark.parametrize(("source", "shareable"), SHAREABLE.items())
def test_which_programs_share_a_child(source: str, shareable: bool) -> None:
    assert program_imports(source)[1] is shareable


@pytest.mark.parametrize("source", STATEFUL.values(), ids=STATEFUL.keys())
def test_what_a_run_leaves_does_not_reach_the_next(warm: Any, source: str) -> None:
    runs = warm.run_batch([job("python", source) for _ in range(3)])
    alone = fresh(warm, job("python", source))
    assert alone.status == "ok", alone.stderr
    assert [(r.status, r.stdout) for r in runs] == [(alone.status, alone.stdout)] * 3


def test_a_child_reads_its_threads_and_address_space_as_the_kernel_counts_them() -> None:
    import threading

    with open("/proc/self/statm", "rb") as f:
        pages = int(f.read().split()[0])
    threads, vm_bytes = _threads_and_vm_bytes()
    assert threads == len(os.listdir("/proc/self/task"))
    assert abs(vm_bytes - pages * os.sysconf("SC_PAGESIZE")) < 64 * 1024**2
    stop = threading.Event()
    extra = threading.Thread(target=stop.wait)
    extra.start()
    try:
        assert _threads_and_vm_bytes()[0] == threads + 1
    finally:
        stop.set()
        extra.join()


def test_random_is_reseeded_for_every_run(warm: Any) -> None:
    source = "import random\nprint(random.random())\nrandom.seed(0)"
    runs = warm.run_batch([job("python", source) for _ in range(4)])
    values = [float(r.stdout) for r in runs]
    assert len(set(values)) == 4
    assert random.Random(0).random() not in values


def test_a_run_over_its_limits_ends_only_its_own_child(warm: Any) -> None:
    echo = "print(input()[::-1])"
    batch = [
        job("python", echo, "abc"),
        job("python", "while True:\n    pass", cpu_s=1.0, wall_s=3.0),
        job("python", echo, "def"),
        job(
            "python",
            "import sys\nwhile True:\n    sys.stdout.write('x' * 65536)",
            output_bytes=1 << 16,
        ),
        job("python", echo, "ghi"),
        job("python", "data = b'x' * (4 * 1024**3)", memory_mb=256),
        job("python", "import time\ntime.sleep(100)", wall_s=1.0),
        job("python", "import os\nos._exit(3)"),
        job("python", echo, "jkl"),
    ]
    results = warm.run_batch(batch)
    assert [r.status for r in results] == [
        "ok",
        "timeout",
        "ok",
        "output-limit",
        "ok",
        "memory",
        "timeout",
        "runtime-error",
        "ok",
    ]
    assert [r.stdout for r in results[::2] if r.ok] == ["cba\n", "fed\n", "ihg\n", "lkj\n"]
    assert results[7].exit_code == 3


def test_cpp_runs_are_forked_from_a_warm_child(warm: Any) -> None:
    source = (
        "#include <cstdio>\n"
        'int main() { int x; std::scanf("%d", &x); std::printf("%d\\n", x * 2); }'
    )
    results = warm.run_batch([job("cpp", source, str(i)) for i in range(50)])
    assert [(r.status, r.stdout) for r in results] == [("ok", f"{2 * i}\n") for i in range(50)]


#: A C++ program that shows what a run starts from: its globals as constructed, its
#: environment, its open fds, whether it is dumpable; and it changes all it can.
CPP_FRESH = r"""
#include <cstdio>
#include <cstdlib>
#include <unistd.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <string>
extern char **environ;
static int constructed = 0;
struct Count { Count() { ++constructed; } } count;
std::string global = "untouched";
int main() {
  int x = 0;
  if (std::scanf("%d", &x) != 1) return 3;
  std::printf("constructed %d global %s dumpable %d\n", constructed, global.c_str(),
              prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
  for (char **e = environ; *e; ++e) std::printf("env %s\n", *e);
  for (int fd = 3; fd < 64; ++fd)
    if (fcntl(fd, F_GETFD) != -1) std::printf("fd %d\n", fd);
  global = "changed";
  setenv("LEFT", "behind", 1);
  std::fflush(stdout);
  return x % 3;
}
"""


def test_cpp_runs_start_as_fresh_from_the_fork_server(warm: Any) -> None:
    """Each run is a fork of the program's own fork server, before its constructors: what a
    run sees is what a fresh exec of the binary sees, whatever the runs before it did."""
    results = warm.run_batch([job("cpp", CPP_FRESH, str(i)) for i in range(9)])
    first = results[0].stdout
    assert first.startswith("constructed 1 global untouched dumpable 1\n"), first
    assert "env LEFT" not in first and "\nfd " not in first and "env PATH=" in first
    assert [(r.status, r.exit_code) for r in results] == [
        ("ok" if i % 3 == 0 else "runtime-error", i % 3) for i in range(9)
    ]
    assert {r.stdout for r in results} == {first}


def _python_batch(request_id: int, source: str, runs: int = 1) -> bytes:
    """A raw batch request: ``runs`` runs of one Python program, on empty stdin."""
    step = {"program": 0, "stdin": "", "limits": Limits().to_dict()}
    program = {"language": "python", "hash": Program("python", source).hash, "source": source}
    return json.dumps(
        {"id": request_id, "programs": [program], "runs": [{"steps": [step]}] * runs}
    ).encode()


def test_a_run_reaches_the_same_recursion_depth_as_a_single_job(
    warm_process: Any, tmp_path: Path
) -> None:
    depth = (
        "def f(n):\n    try:\n        return f(n + 1)\n    except RecursionError:\n"
        "        return n\nprint(f(0))"
    )
    runner = Runner(tmp_path)
    try:
        runner.receive()
        single = runner.send(request(1, depth))
        first = runner.send(_python_batch(2, depth, runs=2))
        second = runner.receive()
    finally:
        runner.proc.terminate()
        runner.proc.wait()
    assert first["results"][0]["stdout"] == second["results"][0]["stdout"] == single["stdout"]


@pytest.fixture(scope="module")
def builtin_chains() -> list[Chain]:
    """Every builtin env's generator and solution, at two levels, three seeds each."""
    plugins = Plugins.load(environ={"SCALER_LOAD_PLUGINS": ""})
    chains = []
    for entry in plugins.registry(ENVIRONMENTS).values():
        env = entry.obj
        for level in (0, env.max_level // 2):
            for seed in range(3):
                request = {
                    "params": env.params_at(level),
                    "seed": derive_seed(env.id, level, seed),
                }
                chains.append(
                    Chain(
                        (
                            Job(generator_harness(env), json.dumps(request), GENERATOR_LIMITS),
                            Job(env.solutions[0], "", env.limits),
                        )
                    )
                )
    return chains


def _outputs(results: list[list[JobResult]]) -> list[list[tuple[str, str]]]:
    return [[(r.status, r.stdout) for r in chain] for chain in results]


def test_results_do_not_depend_on_the_order_or_the_child(
    warm: Any, builtin_chains: list[Chain]
) -> None:
    """Byte for byte: in order, shuffled, and each chain alone in fresh children."""
    in_order = _outputs(warm.run_chains(builtin_chains))
    order = list(range(len(builtin_chains)))
    random.Random(7).shuffle(order)
    shuffled = warm.run_chains([builtin_chains[i] for i in order])
    assert [_outputs(shuffled)[order.index(i)] for i in range(len(order))] == in_order
    sample = builtin_chains[:: max(1, len(builtin_chains) // 12)]
    try:
        alone = [_outputs(cold(warm).run_chains([chain]))[0] for chain in sample]
    finally:
        warm.keep_warm = True
    assert alone == [in_order[builtin_chains.index(chain)] for chain in sample]
    assert all(status == "ok" for chain in in_order for status, _ in chain)


def test_chains_in_rounds_give_what_a_chaining_backend_gives(
    warm_process: Any, builtin_chains: list[Chain]
) -> None:
    class Rounds:
        name = "rounds"

        def run_batch(self, jobs: list[Job]) -> list[JobResult]:
            return warm_process.run_batch(jobs)

        def close(self) -> None:
            pass

    chains = builtin_chains[:20]
    assert _outputs(run_chains(Rounds(), chains)) == _outputs(warm_process.run_chains(chains))


def test_runs_of_one_program_share_a_warm_child(warm: Any) -> None:
    """What makes batches cheap, and what the tests above would not notice if it broke."""
    pids = {r.stdout for r in warm.run_batch([job("python", "import os\nprint(os.getpid())")] * 5)}
    assert len(pids) == 1
    again = warm.run_batch([job("python", "import os\nprint(os.getpid())")])
    assert {r.stdout for r in again} == pids  # across batches too, while kept warm


def _processes_of(uids: set[int]) -> list[int]:
    """Processes of these uids, zombies (exited, not yet reaped by a parent) included."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        with contextlib.suppress(OSError):
            status = dict(
                line.split(":", 1)
                for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                if ":" in line
            )
            if int(status["Uid"].split()[0]) in uids:
                found.append(int(pid))
    return found


@pytest.mark.skipif(os.geteuid() != 0, reason="job uids need root")
def test_a_closed_sandbox_leaves_no_process_of_its_job_uids(tmp_path: Path) -> None:
    """Closing sends EOF and SIGTERM back to back; whichever the runner sees first, and however
    close together, it reaps its warm children before it exits. One it left to init lingers as
    a zombie of the job uid until init reaps it, counted meanwhile against the process limit of
    the next sandbox to claim that uid (its C++ spawns failed with EAGAIN)."""
    programs = [Program("python", f"print({i})") for i in range(12)]
    for attempt in range(10):
        box = ProcessSandbox(workers=1, cache_dir=tmp_path, keep_warm=True)
        uids = set(box.job_uids)
        assert all(r.ok for r in box.run_batch([Job(p, "", GENERATOR_LIMITS) for p in programs]))
        box.close()
        left = _processes_of(uids)
        assert not left, (attempt, [Path(f"/proc/{p}/stat").read_text()[:60] for p in left])


@pytest.mark.parametrize("scrub", [False, True], ids=["process", "scrubbed (docker)"])
def test_a_batch_run_finds_its_dir_empty_after_a_single_job(tmp_path: Path, scrub: bool) -> None:
    """A single job can reach the batches' work dir (../run, a sibling of its own): the next
    batch run finds it there and empty, whether the runner scrubs after jobs or not."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    runner = Runner(tmp_path / "work", *(("--scrub", str(scratch)) if scrub else ()))
    litter = "import os\nopen('../run/left', 'w').write('x')\nprint('littered')"
    look = "import os\nprint(sorted(os.listdir('.')))"
    try:
        runner.receive()
        single = runner.send(request(1, litter))
        answer = runner.send(_python_batch(2, look))
    finally:
        runner.proc.terminate()
        runner.proc.wait()
    assert (single["status"], single["stdout"]) == ("ok", "littered\n")
    assert (answer["results"][0]["status"], answer["results"][0]["stdout"]) == ("ok", "[]\n")
