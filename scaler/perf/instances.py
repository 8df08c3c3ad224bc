"""The instance-throughput benchmark, with its baseline measured in the same process.

Ours: instances materialized through a sandbox backend in batches (warm workers, forked Python
jobs, cached C++ builds), each then verified. Baselines, the pattern of per-call sandboxes and of
the paper's code: "naive-subprocess" (a fresh interpreter, or a fresh run of the binary, per
generator and per solution call, unsandboxed) for the process backend, and "naive-docker" (one
hardened ``docker run`` per call) for the docker backend. A baseline is a Sandbox too, measured
by the same code as ours, with the same parallelism, so the ratio measures the per-call cost, not
the number of cores. Either baseline can also be benchmarked on its own (``--backend naive-...``).

The limit, measured on the same requests through the same factory and verification: "in-process"
(:class:`InProcess`), the programs run in this very process, one at a time, without a sandbox.
Our rate over it, scaled to our workers, is the share of the ceiling the sandbox leaves us.
"""

from __future__ import annotations

import abc
import builtins
import contextlib
import io
import os
import random
import select
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import CodeType
from typing import Any

from scaler.instances import InstanceFactory, Request
from scaler.model import ENVIRONMENTS, EnvSpec, Program
from scaler.registry import PluginSet
from scaler.sandbox.jobs import Job, JobResult
from scaler.sandbox.pool import WorkerLost
from scaler.sandbox.runner import BUILD_FLAGS, system_exit_code
from scaler.verify import verify

#: Instances per sandbox round, about one training step's worth of prompts for one worker pool.
BATCH_SIZE = 32
#: Batches under way at once: the next is made while this one is verified, as a training run's
#: curriculum has the next step's instances made while the trainer works (its prefetch).
IN_FLIGHT = 2


def mixed_requests(
    envs: Sequence[EnvSpec], count: int, seed: int = 0, levels: str = "mixed"
) -> list[Request]:
    """Round-robin over envs, each at a level drawn uniformly from its table (``mixed``) or at
    its middle level (``middle``, the setting of the 200 instances/s target)."""
    rng = random.Random(seed)
    ordered = sorted(envs, key=lambda e: e.id)
    return [
        Request(env, env.max_level // 2 if levels == "middle" else rng.randint(0, env.max_level), i)
        for i, env in ((i, ordered[i % len(ordered)]) for i in range(count))
    ]


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure_backend(factory: InstanceFactory, requests: Sequence[Request]) -> dict[str, float]:
    """Instances per second over ``requests``, made in batches of BATCH_SIZE, IN_FLIGHT at a
    time, each verified; a batch's latency runs from its start to its last verification."""

    def one(batch: Sequence[Request]) -> float:
        t0 = time.perf_counter()
        for instance in factory.make(batch):
            if not verify(f"\\boxed{{{instance.answer}}}", instance, factory.plugins).correct:
                raise RuntimeError(f"{instance.env_id}: its own answer did not verify")
        return time.perf_counter() - t0

    batches = [
        requests[first : first + BATCH_SIZE] for first in range(0, len(requests), BATCH_SIZE)
    ]
    start = time.perf_counter()
    with ThreadPoolExecutor(IN_FLIGHT, thread_name_prefix="scaler-bench") as pool:
        latencies = [
            seconds
            for batch, seconds in zip(batches, pool.map(one, batches), strict=True)
            for _ in batch
        ]
    elapsed = time.perf_counter() - start
    return {
        "instances_per_s": len(requests) / elapsed,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * _percentile(latencies, 0.99),
    }


class _PerCall(abc.ABC):
    """A Sandbox that starts something new for every job, ``workers`` jobs at a time. C++
    programs are built once each: beforehand (``prepare``), outside the figure, as our
    backends' caches would have them, or else on first use."""

    name = "naive"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or os.cpu_count() or 1
        self._pool = ThreadPoolExecutor(self.workers)
        self._tmp = tempfile.TemporaryDirectory(prefix="scaler-bench-")
        self.workdir = Path(self._tmp.name)
        self._built: dict[str, str] = {}
        self._building = threading.Lock()

    def prepare(self, programs: Sequence[Program]) -> None:
        for program in programs:
            if program.language == "cpp":
                self.binary(program)

    def binary(self, program: Program) -> str:
        """What ``build`` returned for the program, built now if it was not yet."""
        with self._building:  # calls run in a pool: one build each, not one per thread
            if program.hash not in self._built:
                self._built[program.hash] = self.build(program)
            return self._built[program.hash]

    def run_batch(self, jobs: Sequence[Job]) -> list[JobResult]:
        return list(self._pool.map(self._timed, jobs))

    def _timed(self, job: Job) -> JobResult:
        start = time.perf_counter()
        code, stdout, stderr = self.call(job)
        status = "ok" if code == 0 else "timeout" if code is None else "runtime-error"
        return JobResult(status, code, stdout, stderr, time.perf_counter() - start, 0.0)

    @abc.abstractmethod
    def build(self, program: Program) -> str:
        """Compiles a C++ program; returns what ``call`` needs to find the binary."""

    @abc.abstractmethod
    def call(self, job: Job) -> tuple[int | None, str, str]:
        """Runs one job in something new: exit code (None: timed out), stdout, stderr."""

    def close(self) -> None:
        self._pool.shutdown()
        self._tmp.cleanup()

    def __enter__(self) -> _PerCall:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class NaiveSubprocess(_PerCall):
    """A fresh interpreter per Python job, a fresh run of the binary per C++ job, no sandbox at
    all: the paper's pattern."""

    name = "naive-subprocess"

    def build(self, program: Program) -> str:
        source = self.workdir / f"{program.hash}.cpp"
        source.write_text(program.source, encoding="utf-8")
        binary = str(source.with_suffix(""))
        subprocess.run(
            ["g++", *BUILD_FLAGS, "-o", binary, str(source)], check=True, capture_output=True
        )
        return binary

    def call(self, job: Job) -> tuple[int | None, str, str]:
        if job.program.language == "cpp":
            command = [self.binary(job.program)]
        else:
            command = [sys.executable, "-c", job.program.source]
        try:
            done = subprocess.run(
                command,
                input=job.stdin,
                capture_output=True,
                text=True,
                timeout=job.limits.wall_s,
                env={**os.environ, "PYTHONHASHSEED": "0"},
            )
        except subprocess.TimeoutExpired:
            return None, "", ""
        return done.returncode, done.stdout, done.stderr


class InProcess(NaiveSubprocess):
    """No sandbox and no process at all for Python: each job's code is ``exec``-ed in this
    process, one job at a time, compiled once per program as a warm worker would. What our
    backends add to a run is measured against this, the cost of the programs themselves.

    A run gets in-memory stdin, stdout and stderr (``input()`` reads the new stdin), fresh
    ``__main__`` globals, and the module ``random`` reseeded from the system, as a fresh
    interpreter (or a forked worker) has it; ``SystemExit`` gives the exit code, any other
    exception exit code 1 and its traceback on stderr. Nothing is enforced (no limits, no
    isolation: a program sees and can break this process), so it runs only trusted programs.

    C++ cannot run in a process that is not its own: the binary, built once, is spawned per
    run in the cheapest way this process has (:func:`_spawn`), not with ``subprocess.run``
    as naive-subprocess does, which costs about 1 ms more per run here.
    """

    name = "in-process"

    def __init__(self) -> None:
        # One thread: the standard streams are this process's, so runs must not overlap,
        # whichever threads call run_batch.
        super().__init__(workers=1)
        self._code: dict[str, CodeType] = {}

    def call(self, job: Job) -> tuple[int | None, str, str]:
        if job.program.language == "cpp":
            return _spawn(self.binary(job.program), job.stdin, job.limits.wall_s)
        code = self._code.get(job.program.hash)
        if code is None:
            code = compile(job.program.source, "<program>", "exec", dont_inherit=True)
            self._code[job.program.hash] = code
        return _exec(code, job.stdin)


def _exec(code: CodeType, stdin: str) -> tuple[int, str, str]:
    """Runs compiled code as ``python3 program.py`` would: exit code, stdout, stderr."""
    saved = (sys.stdin, sys.stdout, sys.stderr)
    out, err = io.BytesIO(), io.BytesIO()
    # Held until read: a text stream that is collected closes the bytes under it.
    streams = (
        io.TextIOWrapper(io.BytesIO(stdin.encode()), encoding="utf-8", newline="\n"),
        io.TextIOWrapper(out, encoding="utf-8", newline="\n", write_through=True),
        io.TextIOWrapper(
            err, encoding="utf-8", errors="backslashreplace", newline="\n", write_through=True
        ),
    )
    sys.stdin, sys.stdout, sys.stderr = streams
    random.seed()
    try:
        exec(code, {"__name__": "__main__", "__builtins__": builtins})
        status = 0
    except SystemExit as exc:
        status = system_exit_code(exc.code)
    except Exception as exc:  # the program's: it ends the run, not the benchmark
        tb = exc.__traceback__
        traceback.print_exception(type(exc), exc, tb.tb_next if tb else None)  # not our frame
        status = 1
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved
    return status, out.getvalue().decode("utf-8", "replace"), err.getvalue().decode("utf-8")


def _spawn(binary: str, stdin: str, timeout: float) -> tuple[int | None, str, str]:
    """One run of a binary: exit code (None: timed out, negative: killed by that signal),
    stdout, stderr. ``posix_spawn`` (a vfork, not a copy of this large process), and the three
    streams anonymous in-memory files: nothing to pump while it runs, one read after."""
    files = [os.memfd_create(name) for name in ("stdin", "stdout", "stderr")]
    try:
        with open(files[0], "wb", closefd=False) as f:
            f.write(stdin.encode())
        os.lseek(files[0], 0, os.SEEK_SET)
        actions = [(os.POSIX_SPAWN_DUP2, fd, target) for target, fd in enumerate(files)]
        pid = os.posix_spawn(binary, [binary], os.environ, file_actions=actions)
        pidfd = os.pidfd_open(pid)
        try:
            ended = select.select([pidfd], [], [], timeout)[0]
        finally:
            os.close(pidfd)
        if not ended:
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        out, err = (
            os.pread(fd, os.fstat(fd).st_size, 0).decode("utf-8", "replace") for fd in files[1:]
        )
    finally:
        for fd in files:
            os.close(fd)
    return (os.waitstatus_to_exitcode(status) if ended else None), out, err


class NaiveDocker(_PerCall):
    """One hardened container per job, made as the docker backend makes its own (no network,
    read-only root, uid 65534, no capabilities, the same limits), then attached, fed, waited
    for and removed: what a per-call ``docker run --rm -i`` costs. A C++ binary is built in a
    container beforehand and mounted read-only into each call's."""

    name = "naive-docker"

    def __init__(self, workers: int | None = None, image: str | None = None) -> None:
        from scaler.sandbox import docker as backend
        from scaler.sandbox.image import default_tag, docker_client

        self._backend = backend
        self._client = docker_client()
        self.image = image or default_tag()
        self._labels = {
            backend.LABEL: f"naive-docker-{os.getpid()}",
            backend.LABEL_OWNER: backend.owner_token(),
        }
        super().__init__(workers)

    def build(self, program: Program) -> str:
        out = self.workdir / program.hash
        out.mkdir()
        out.chmod(0o777)  # the compiling container writes here as uid 65534
        (out / "main.cpp").write_text(program.source, encoding="utf-8")
        compile_command = ["g++", *BUILD_FLAGS, "-o", "/build/main", "/build/main.cpp"]
        code, _, stderr = self._run(compile_command, "", 120.0, {str(out): "rw"})
        if code != 0:
            raise RuntimeError(f"naive-docker could not build {program.hash}: {stderr[-500:]}")
        return str(out)

    def call(self, job: Job) -> tuple[int | None, str, str]:
        if job.program.language == "cpp":
            build = self.binary(job.program)
            return self._run(["/build/main"], job.stdin, job.limits.wall_s, {build: "ro"})
        command = ["python3", "-c", job.program.source]
        return self._run(command, job.stdin, job.limits.wall_s, {})

    def _run(
        self, command: list[str], stdin: str, timeout: float, mounts: dict[str, str]
    ) -> tuple[int | None, str, str]:
        api = self._client.api
        container = self._backend.create_hardened(
            api,
            self.image,
            command,
            labels=self._labels,
            memory_mb=self._backend.MEMORY_MB,
            cpus=self._backend.CPUS,
            pids=self._backend.PIDS,
            tmpfs_mb=self._backend.TMPFS_MB,
            binds={path: {"bind": "/build", "mode": mode} for path, mode in mounts.items()},
            auto_remove=False,
        )
        try:
            deadline = time.monotonic() + timeout
            stream = self._backend.AttachStream(
                api.attach_socket(container, {"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1})
            )
            try:
                api.start(container)
                stream.send(stdin.encode(), deadline)
                stream.raw.shutdown(socket.SHUT_WR)  # EOF on the program's stdin
                stdout, stderr = stream.read_to_end(deadline)
            except WorkerLost:
                return None, "", ""
            finally:
                stream.close()
            code = api.wait(container)["StatusCode"]
        finally:
            api.remove_container(container, force=True)
        return code, stdout.decode("utf-8", "replace"), stderr.decode("utf-8", "replace")

    def close(self) -> None:
        super().close()
        self._client.close()


#: The baseline each backend is measured against (any other: naive-subprocess).
BASELINES = {"docker": "naive-docker"}
NAIVE: dict[str, type[_PerCall]] = {
    "naive-subprocess": NaiveSubprocess,
    "naive-docker": NaiveDocker,
}


def measure_sandbox(
    sandbox: Any, plugins: PluginSet, requests: Sequence[Request]
) -> dict[str, float]:
    """Builds first (naive baselines: nothing else of theirs outlives a call) or warms up
    (ours, in-process: C++ builds, compiled code, fork paths), then measures."""
    factory = InstanceFactory(sandbox, plugins)
    if isinstance(sandbox, _PerCall) and not isinstance(sandbox, InProcess):
        sandbox.prepare([r.env.solutions[0] for r in requests])
    else:
        factory.make(requests[: min(len(requests), BATCH_SIZE)])
    return measure_backend(factory, requests)


def open_bench_sandbox(
    backend: str, make_sandbox: Callable[[str], Any], workers: int | None
) -> Any:
    """``in-process``, a naive baseline with ``workers``, or a backend ``make_sandbox`` makes:
    benchmarks measure any of them the same way."""
    if backend == InProcess.name:
        return InProcess()
    if backend in NAIVE:
        return NAIVE[backend](workers)
    return make_sandbox(backend)


def workers_of(sandbox: Any) -> int:
    """The jobs a sandbox runs at once: its ``workers``, else one per core (the backends'
    default)."""
    workers: int = getattr(sandbox, "workers", None) or os.cpu_count() or 1
    return workers


def run_instance_benchmark(
    plugins: PluginSet,
    make_sandbox: Callable[[str], Any],
    backend: str,
    count: int = 200,
    baseline_count: int = 40,
    workers: int | None = None,
    levels: str = "mixed",
    rounds: int = 3,
) -> dict[str, Any]:
    """Ours (``backend``: made by ``make_sandbox(name)``, a naive one with ``workers``, or
    in-process) and the in-process limit on the same requests, measured in turn ``rounds``
    times; then ours's baseline, with as many calls in flight as ours has workers.

    The limit is the in-process rate times our workers: what ``workers`` cores would make if
    running the programs cost nothing beyond their own work. It is conservative (generous to
    the limit): the host-side work, which does not spread over the workers, is scaled too. On
    a shared machine both rates drift with the neighbours' load, so each round's share is
    taken from two measurements a moment apart, and the report is the round with the median
    share (``rounds`` lists them all).
    """
    envs = [entry.obj for entry in plugins.registry(ENVIRONMENTS).values()]
    if not envs:
        raise RuntimeError("no environments are installed to benchmark")
    requests = mixed_requests(envs, count, levels=levels)
    measured = []
    with contextlib.ExitStack() as stack:
        sandbox = stack.enter_context(open_bench_sandbox(backend, make_sandbox, workers))
        name = sandbox.name
        parallel = workers_of(sandbox)
        limit = None if name == InProcess.name else stack.enter_context(InProcess())
        for _ in range(rounds):
            ours = measure_sandbox(sandbox, plugins, requests)
            in_process = ours if limit is None else measure_sandbox(limit, plugins, requests)
            share = ours["instances_per_s"] / (in_process["instances_per_s"] * parallel)
            measured.append((share, ours, in_process))
    share, ours, in_process = _median_round(measured)
    baseline_name = BASELINES.get(name, "naive-subprocess")
    with NAIVE[baseline_name](parallel) as baseline_sandbox:
        baseline = measure_sandbox(
            baseline_sandbox, plugins, mixed_requests(envs, baseline_count, 1, levels)
        )
    return {
        "backend": name,
        "instances": count,
        "envs": len(envs),
        "levels": levels,
        "workers": parallel,
        **ours,
        "baseline": {
            "name": baseline_name,
            "instances": baseline_count,
            "instances_per_s": baseline["instances_per_s"],
        },
        "ratio": ours["instances_per_s"] / baseline["instances_per_s"],
        "in_process": {"instances_per_s": in_process["instances_per_s"]},
        "limit_instances_per_s": in_process["instances_per_s"] * parallel,
        "share_of_in_process": share,
        "rounds": [
            {
                "instances_per_s": o["instances_per_s"],
                "in_process_instances_per_s": i["instances_per_s"],
                "share_of_in_process": r,
            }
            for r, o, i in measured
        ],
    }


def _median_round(
    measured: Sequence[tuple[float, dict[str, float], dict[str, float]]],
) -> tuple[float, dict[str, float], dict[str, float]]:
    """The round whose share is the median (the lower of the two middle ones for an even
    count): a real round, so its figures agree with each other."""
    return sorted(measured, key=lambda round_: round_[0])[(len(measured) - 1) // 2]
