"""The per-run benchmark: what a backend adds to each run of a program, measured on programs
that do nothing (echo a line), so that all that is left is the backend's own cost.

Each language's trivial program runs in batches through the backend, and the same number of
times directly in the same process: Python exec-ed in this process (:class:`InProcess`, no
process at all), C++ as a ``posix_spawn`` of the same binary, built once (the cheapest start
this process can give it). The figure per batch is its
wall time over its runs; the medians over batches are compared, and their difference is the
overhead per run. With one worker (the default) that is the cost a run adds to a core; with
more, the batch spreads over them and the per-run figure is the backend's throughput.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from scaler.model import Program
from scaler.perf.instances import InProcess, workers_of
from scaler.sandbox.jobs import Job, Sandbox

#: One line in, the same line out: a run's own work is next to nothing.
TRIVIAL: dict[str, Program] = {
    "python": Program("python", "print(input())\n"),
    "cpp": Program(
        "cpp",
        "#include <iostream>\n#include <string>\n\nint main() {\n    std::string line;\n"
        "    std::getline(std::cin, line);\n    std::cout << line << '\\n';\n}\n",
    ),
}

#: How each language runs on the direct side.
DIRECT = {"python": "exec in this process", "cpp": "posix_spawn of the binary, built once"}


def per_run_seconds(sandbox: Sandbox, program: Program, runs: int, batch: int) -> list[float]:
    """Per batch: its wall time over its runs. Every run must echo its line: a figure made of
    failed runs would measure the failure."""
    figures = []
    for first in range(0, runs, batch):
        jobs = [Job(program, f"{i}\n") for i in range(first, min(runs, first + batch))]
        start = time.perf_counter()
        results = sandbox.run_batch(jobs)
        figures.append((time.perf_counter() - start) / len(jobs))
        for job, result in zip(jobs, results, strict=True):
            if not result.ok or result.stdout != job.stdin:
                raise RuntimeError(
                    f"{sandbox.name}: a trivial {program.language} run ended with "
                    f"{result.status} (exit {result.exit_code}), printing {result.stdout!r}: "
                    f"{result.stderr[-300:]}"
                )
    return figures


def _median_ms(sandbox: Sandbox, program: Program, runs: int, batch: int) -> float:
    per_run_seconds(sandbox, program, 1, 1)  # builds and first forks, outside the figure
    return 1000 * statistics.median(per_run_seconds(sandbox, program, runs, batch))


def run_runs_benchmark(sandbox: Sandbox, runs: int = 2000, batch: int = 200) -> dict[str, Any]:
    """Per language, ``runs`` trivial runs in batches of ``batch`` through ``sandbox``, then
    as many directly: the per-run medians and the overhead, in milliseconds."""
    report: dict[str, Any] = {
        "backend": sandbox.name,
        "workers": workers_of(sandbox),
        "runs": runs,
        "batch": batch,
    }
    with InProcess() as direct:
        for language, program in TRIVIAL.items():
            ours = _median_ms(sandbox, program, runs, batch)
            theirs = _median_ms(direct, program, runs, batch)
            report[language] = {
                "per_run_ms_p50": ours,
                "direct_ms_p50": theirs,
                "overhead_ms_p50": ours - theirs,
                "direct": DIRECT[language],
            }
    return report
