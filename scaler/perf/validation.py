"""The validation benchmark: one environment through breadth, depth and min, ours against the
paper's pattern, measured in the same process.

Ours runs the registered checks through a warm sandbox, where each check costs two parallel
batches (generators, then solutions). The paper's pattern runs the very same check functions
through :class:`PaperSubprocess`, a sandbox that starts a fresh, unsandboxed subprocess per
program run, one at a time: a fresh interpreter for every generator call and every Python
solution run, a fresh run of the binary for every C++ run. Running the same check code on both
sides is what makes the comparison fair: both draw the same (params, seed) requests (the checks
derive them from their settings and the candidate), compare the outputs with the same
verifiers, and apply the same thresholds, so only the way programs are run differs. Both sides
are counted by a wrapper that sees every job, and the benchmark refuses to report a ratio when
the two did not run the same programs on the same requests.

C++ is compiled once per side before the clock starts, never per run: the paper compiled its
reference solutions once too, and ours keeps its builds in a cache.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

from scaler.instances import harness
from scaler.model import ENVIRONMENTS, Program
from scaler.registry import PluginSet
from scaler.sandbox.jobs import Job, JobResult, Sandbox
from scaler.synth.checks import CHECKS, Candidate, CheckContext, CheckResult, CheckSettings

#: The benchmarked environment: quick solutions, so the figure is the cost of running programs.
ENV_ID = "lis-length"

#: The checks the method's validation runs on a candidate, in the issue's order.
METHOD_CHECKS: tuple[str, ...] = ("breadth", "depth", "min")

#: Every run of the paper's pattern gets this wall-clock limit, in seconds.
PAPER_TIMEOUT_S = 10.0

#: A third reference solution for ``lis-length``, written apart from the environment's two
#: (patience sorting in Python, an O(n^2) DP in C++): a Fenwick tree of prefix maxima over the
#: ranks of the values, so a disagreement between any two of the three points at the generator.
LIS_FENWICK = Program(
    "python",
    """\
import sys


def longest_increasing(values):
    ranks = {v: r for r, v in enumerate(sorted(set(values)), 1)}
    size = len(ranks)
    tree = [0] * (size + 1)  # tree[i]: the longest run ending in a value of rank in (i-lowbit, i]
    best = 0
    for v in values:
        i, below = ranks[v] - 1, 0
        while i > 0:  # the longest strictly increasing run ending below v
            below = max(below, tree[i])
            i -= i & -i
        length = below + 1
        best = max(best, length)
        i = ranks[v]
        while i <= size:
            tree[i] = max(tree[i], length)
            i += i & -i
    return best


tokens = sys.stdin.buffer.read().split()
count = int(tokens[0])
print(longest_increasing([int(t) for t in tokens[1 : 1 + count]]))
""",
)

#: Third solutions by environment id: the benchmark needs three that agree.
THIRD_SOLUTIONS: dict[str, Program] = {"lis-length": LIS_FENWICK}


def benchmark_candidate(plugins: PluginSet, env_id: str = ENV_ID) -> Candidate:
    """A builtin environment as a candidate with three reference solutions, as the issue's
    benchmark asks: its own Python and C++ ones, and an independent third."""
    env = plugins.get(ENVIRONMENTS, env_id)
    if env_id not in THIRD_SOLUTIONS:
        raise ValueError(f"no third solution for {env_id!r}: one of {sorted(THIRD_SOLUTIONS)}")
    candidate = Candidate.from_env(env)
    return attrs.evolve(candidate, solutions=(*candidate.solutions, THIRD_SOLUTIONS[env_id]))


def system_python() -> str:
    """The interpreter the paper's pattern starts: the system's ``python3``.

    Not ``sys.executable`` nor the first ``python3`` on PATH: a development interpreter with
    editable installs and ``.pth`` files in its site-packages, or a version manager's shim (a
    shell script), costs several times a plain start and would inflate the ratio. The system's
    interpreter is also what our process backend's runners use when jobs run as their own uid.
    """
    return shutil.which("python3", path="/usr/local/bin:/usr/bin:/bin") or sys.executable


class PaperSubprocess:
    """The paper's pattern as a Sandbox: a fresh, unsandboxed subprocess per job, one job at a
    time (sequential, whatever the batch), each with ``subprocess.run(..., timeout=10)``.

    Python programs are written to a file once and run as ``python3 file.py``; C++ programs
    must be compiled beforehand (``prepare``), once each, with ``g++ -O2 -std=gnu++17``.
    """

    name = "paper-subprocess"
    workers = 1

    def __init__(self, python: str | None = None) -> None:
        self.python = python or system_python()
        self._tmp = tempfile.TemporaryDirectory(prefix="scaler-paper-")
        self._dir = Path(self._tmp.name)
        self._commands: dict[str, list[str]] = {}

    def prepare(self, programs: Sequence[Program]) -> None:
        """Writes every Python program to a file and compiles every C++ one, once."""
        for program in programs:
            if program.hash in self._commands:
                continue
            if program.language == "cpp":
                source = self._dir / f"{program.hash}.cpp"
                source.write_text(program.source, encoding="utf-8")
                binary = source.with_suffix("")
                subprocess.run(
                    ["g++", "-O2", "-std=gnu++17", "-o", str(binary), str(source)],
                    check=True,
                    capture_output=True,
                )
                self._commands[program.hash] = [str(binary)]
            elif program.language == "python":
                path = self._dir / f"{program.hash}.py"
                path.write_text(program.source, encoding="utf-8")
                self._commands[program.hash] = [self.python, str(path)]
            else:
                raise ValueError(f"the paper's pattern runs python and cpp, not {program.language}")

    def run_batch(self, jobs: Sequence[Job]) -> list[JobResult]:
        return [self._run(job) for job in jobs]

    def _run(self, job: Job) -> JobResult:
        if job.program.hash not in self._commands:
            raise RuntimeError(f"program {job.program.hash} was not prepared before the clock")
        start = time.perf_counter()
        try:
            done = subprocess.run(
                self._commands[job.program.hash],
                input=job.stdin,
                capture_output=True,
                text=True,
                timeout=PAPER_TIMEOUT_S,
                env={**os.environ, "PYTHONHASHSEED": "0"},
            )
        except subprocess.TimeoutExpired:
            return JobResult("timeout", None, "", "", time.perf_counter() - start, 0.0)
        status = "ok" if done.returncode == 0 else "runtime-error"
        wall = time.perf_counter() - start
        return JobResult(status, done.returncode, done.stdout, done.stderr, wall, 0.0)

    def close(self) -> None:
        self._tmp.cleanup()

    def __enter__(self) -> PaperSubprocess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class _Counting:
    """Passes batches through to a sandbox, counting the jobs and keeping the generator
    requests, so the two sides can be shown to have done the same work."""

    def __init__(self, inner: Sandbox, generator: Program) -> None:
        self.inner = inner
        self.name = inner.name
        self.generator_hash = generator.hash
        self.runs = 0
        self.requests: list[str] = []

    def run_batch(self, jobs: Sequence[Job]) -> list[JobResult]:
        self.runs += len(jobs)
        self.requests += [j.stdin for j in jobs if j.program.hash == self.generator_hash]
        return self.inner.run_batch(jobs)

    def close(self) -> None:
        """The wrapped sandbox belongs to the caller."""


def _settings(trials: int, runs: int) -> CheckSettings:
    """The checks' defaults at the benchmark's sizes. Below the default depth runs the distinct
    outputs depth asks for shrink in proportion (ten in a hundred runs; a test's five runs
    cannot show ten distinct answers), and the share one answer may take is never below one
    run's (with three runs, any answer is a third of them)."""
    defaults = CheckSettings()
    scaled = defaults.min_distinct * runs // defaults.depth_runs
    return attrs.evolve(
        defaults,
        trials=trials,
        depth_runs=runs,
        min_distinct=max(1, min(defaults.min_distinct, scaled)),
        max_share=max(defaults.max_share, 1 / max(runs, 1)),
    )


def _validate(
    candidate: Candidate, sandbox: Sandbox, plugins: PluginSet, settings: CheckSettings
) -> dict[str, Any]:
    """Runs the checks, timed; every one must pass, or there is nothing to compare."""
    counting = _Counting(sandbox, harness(candidate.generator, candidate.generator_contract))
    context = CheckContext(counting, plugins, settings)
    results: list[CheckResult] = []
    start = time.perf_counter()
    for name in METHOD_CHECKS:
        results.append(plugins.get(CHECKS, name)(candidate, context))
    seconds = time.perf_counter() - start
    failed = [r for r in results if not r.ok]
    if failed:
        raise RuntimeError(
            f"{candidate.id} failed validation on {sandbox.name}: "
            + "; ".join(f"{r.check}: {r.reason}" for r in failed)
        )
    return {
        "seconds": seconds,
        "runs": counting.runs,
        "ms_per_run": 1000 * seconds / max(counting.runs, 1),
        "checks": [r.to_dict() for r in results],
        "requests": counting.requests,
    }


def measure_ours(
    candidate: Candidate, sandbox: Sandbox, plugins: PluginSet, trials: int = 100, runs: int = 100
) -> dict[str, Any]:
    """Breadth (``trials``), depth (``runs``) and min through ``sandbox``, wall-clock timed.

    Every solution runs once on an empty input first, outside the figure, so that C++ builds
    are in the sandbox's cache, as the paper's binaries are built before its clock starts.
    """
    start = time.perf_counter()
    sandbox.run_batch([Job(s, "", candidate.limits) for s in candidate.solutions])
    warmup = time.perf_counter() - start
    measured = _validate(candidate, sandbox, plugins, _settings(trials, runs))
    return {**measured, "warmup_s": warmup}


def _start_ms(python: str, times: int = 10) -> float:
    """A bare interpreter start (``python3 -c pass``), the floor of each Python run's cost."""
    start = time.perf_counter()
    for _ in range(times):
        subprocess.run([python, "-c", "pass"], check=True)
    return 1000 * (time.perf_counter() - start) / times


def measure_paper(
    candidate: Candidate,
    plugins: PluginSet,
    trials: int = 100,
    runs: int = 100,
    python: str | None = None,
) -> dict[str, Any]:
    """The same checks, the paper's way: a fresh subprocess per run, sequentially.

    The C++ solutions are compiled once up front (``compile_s``, outside the figure).
    ``interpreter_start_ms``, measured after, is what a bare ``python3 -c pass`` costs here.
    """
    generator = harness(candidate.generator, candidate.generator_contract)
    with PaperSubprocess(python) as sandbox:
        start = time.perf_counter()
        sandbox.prepare([generator, *candidate.solutions])
        compiled = time.perf_counter() - start
        measured = _validate(candidate, sandbox, plugins, _settings(trials, runs))
        return {
            **measured,
            "compile_s": compiled,
            "python": sandbox.python,
            "interpreter_start_ms": _start_ms(sandbox.python),
        }


def run_validation_benchmark(
    plugins: PluginSet,
    sandbox: Sandbox,
    trials: int = 100,
    runs: int = 100,
    env_id: str = ENV_ID,
) -> dict[str, Any]:
    """Ours through ``sandbox``, then the paper's pattern, on the same candidate and requests."""
    candidate = benchmark_candidate(plugins, env_id)
    ours = measure_ours(candidate, sandbox, plugins, trials, runs)
    paper = measure_paper(candidate, plugins, trials, runs)
    if (ours["runs"], ours["requests"]) != (paper["runs"], paper["requests"]):
        raise RuntimeError(
            f"the two sides did different work: {ours['runs']} runs against {paper['runs']}"
        )
    requests = ours.pop("requests")
    paper.pop("requests")
    return {
        "env": candidate.id,
        "solutions": len(candidate.solutions),
        "languages": [s.language for s in candidate.solutions],
        "trials": trials,
        "depth_runs": runs,
        "runs": ours["runs"],
        "generator_calls": len(requests),
        "ours_s": ours["seconds"],
        "paper_s": paper["seconds"],
        "ratio": paper["seconds"] / ours["seconds"],
        "backend": sandbox.name,
        "workers": getattr(sandbox, "workers", None) or 1,
        "ours": ours,
        "paper": paper,
    }
