"""The pool-validation benchmark: seconds per environment for ``scaler validate`` on a pool,
through one backend, or two measured one after the other in the same process.

The validation is the command's own (:func:`scaler.synth.validate.validate_pool`: every check,
the cards' level figures and the recalibration), so the figure is what a user waits for. A
faster way of running programs must not change what validation concludes, so the verdicts
are hashed without their timings: two runs, or two backends, that agree have the same
``verdicts_sha256``.

What no backend can take away is the programs' own work: the CPU time the runs report
(``programs_cpu_s``), spread over the cores the sandbox may use, is the floor
(``floor_s_per_env``); what the wall time spends beyond it, per run, is the backend's overhead,
the host's checks and any idle core together (``other_ms_per_run``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from typing import Any

from scaler.catalog import pool_envs
from scaler.model import EnvSpec, Limits, content_hash
from scaler.perf.instances import workers_of
from scaler.registry import PluginSet
from scaler.sandbox.cpus import usable_cpus
from scaler.sandbox.jobs import Job, JobResult, Sandbox
from scaler.synth.validate import CHECK_NAMES, EnvCard, validate_pool

#: The warm-up runs on empty input, where a solution may fail or loop: only its build counts.
WARMUP_LIMITS = Limits(cpu_s=0.5, wall_s=1.0)

#: What the cards measure rather than conclude: different on every run, so not hashed.
TIMINGS = frozenset({"cpu_s", "wall_s", "max_cpu_s", "median_cpu_s"})


def without_timings(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_timings(v) for k, v in value.items() if k not in TIMINGS}
    if isinstance(value, list):
        return [without_timings(v) for v in value]
    return value


def verdicts_sha256(cards: Sequence[EnvCard]) -> str:
    """The cards' content (checks, reasons, details, level figures, recalibrated tables)
    without the timings, hashed: equal for runs that reached the same results."""
    return content_hash(without_timings([card.to_dict() for card in cards]))


class _Metered:
    """Passes batches through to a sandbox, adding up the runs and the CPU time they report."""

    def __init__(self, inner: Sandbox) -> None:
        self.inner = inner
        self.name = inner.name
        self.workers = workers_of(inner)
        self.runs = 0
        self.cpu_s = 0.0

    def run_batch(self, jobs: Sequence[Job]) -> list[JobResult]:
        results = self.inner.run_batch(jobs)
        self.runs += len(results)
        self.cpu_s += sum(result.cpu_s for result in results)
        return results

    def close(self) -> None:
        """The wrapped sandbox belongs to the caller."""


def measure_pool(
    envs: Sequence[EnvSpec],
    sandbox: Sandbox,
    plugins: PluginSet,
    trials: int = 100,
    workers: int = 4,
) -> dict[str, Any]:
    """Validates ``envs`` through ``sandbox``, wall-clock timed.

    Every C++ solution runs once first, outside the figure (``warmup_s``), so its build is
    in the sandbox's cache: otherwise the first backend measured would pay the compiler for
    the second when they share a cache, and the figure would swing with the cache's state.
    """
    start = time.perf_counter()
    sandbox.run_batch(
        [Job(s, "", WARMUP_LIMITS) for env in envs for s in env.solutions if s.language == "cpp"]
    )
    warmup = time.perf_counter() - start
    metered = _Metered(sandbox)
    start = time.perf_counter()
    cards = validate_pool(envs, metered, plugins, trials=trials, workers=workers)
    seconds = time.perf_counter() - start
    cores = min(metered.workers, len(usable_cpus()) or os.cpu_count() or 1)
    return {
        "backend": sandbox.name,
        "sandbox_workers": metered.workers,
        "seconds": seconds,
        "seconds_per_env": seconds / max(len(envs), 1),
        "runs": metered.runs,
        "programs_cpu_s": metered.cpu_s,
        "floor_s_per_env": metered.cpu_s / cores / max(len(envs), 1),
        "other_ms_per_run": 1000 * (seconds * cores - metered.cpu_s) / max(metered.runs, 1),
        "warmup_s": warmup,
        "passed": sum(card.ok for card in cards),
        "verdicts_sha256": verdicts_sha256(cards),
    }


def run_pool_validation_benchmark(
    plugins: PluginSet,
    pool: str | os.PathLike[str],
    make_sandbox: Callable[[str], Any],
    backend: str,
    compare: str | None = None,
    fmt: str | None = None,
    trials: int = 100,
    workers: int = 4,
    make_compare: Callable[[str], Any] | None = None,
) -> dict[str, Any]:
    """``backend`` (made by ``make_sandbox(name)``) on the pool, then ``compare`` if given (made
    by ``make_compare``, default ``make_sandbox``): its figures under ``compare``, ``ratio``
    (its seconds over ours) and ``same_verdicts``."""
    envs = pool_envs(plugins, pool, fmt)
    with make_sandbox(backend) as sandbox:
        ours = measure_pool(envs, sandbox, plugins, trials, workers)
    report: dict[str, Any] = {
        "pool": os.fspath(pool),
        "envs": len(envs),
        "checks": list(CHECK_NAMES),
        "trials": trials,
        "workers": workers,
        **ours,
    }
    if compare is not None:
        with (make_compare or make_sandbox)(compare) as sandbox:
            theirs = measure_pool(envs, sandbox, plugins, trials, workers)
        report["compare"] = theirs
        report["ratio"] = theirs["seconds"] / ours["seconds"]
        report["same_verdicts"] = theirs["verdicts_sha256"] == ours["verdicts_sha256"]
    return report
