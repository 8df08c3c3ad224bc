"""Which CPU each sandbox worker is pinned to.

A worker is a strict relay: the host hands a run to the runner, the runner to its warm child,
the child reports back, and the next run starts. Each hand-off wakes a sleeping process; when
the kernel wakes it on another CPU, that CPU first has to leave its idle state (on a virtual
machine, an interrupt to another vCPU and an exit from its halt), and the worker waits for
nothing in the meantime. Pinned to one CPU, a runner and its children hand off by a plain
context switch on that CPU. On the 2-core machines of docs/benchmarks.md this took the idle
share of a busy ``bench instances`` run from about 15% to 3% ("Pinned workers").

Pinning is only done where no worker can lose by it: when the sandbox has exactly one worker
per CPU this process may run on (the backends' default). With fewer, another sandbox, in this
process or another, could pin its workers to the same CPUs while others stay idle; with more,
the kernel balances the uneven load better.
"""

from __future__ import annotations

import os

from scaler.errors import ConfigError


def usable_cpus() -> list[int]:
    """The CPUs this process may run on (its affinity, which a container or ``taskset`` may
    narrow), in order; none where the system does not say (macOS)."""
    if not hasattr(os, "sched_getaffinity"):
        return []
    return sorted(os.sched_getaffinity(0))


def check_pin(value: object) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"must be true or false, got {value!r}", field="pin_cpus")
    return value


def worker_cpus(count: int, cpus: list[int] | None = None) -> list[int | None]:
    """Worker i's CPU: the i-th of ``cpus`` (default: :func:`usable_cpus`) when there is one
    worker for each, else None for every worker."""
    cpus = usable_cpus() if cpus is None else cpus
    pinned: list[int | None] = [*cpus] if count == len(cpus) else [None] * count
    return pinned
