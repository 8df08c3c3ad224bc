"""Which CPU each sandbox worker is pinned to.

A worker is a strict relay: the host hands a run to the runner, the runner to its warm child,
the child reports back, and the next run starts. Each hand-off wakes a sleeping process; when
the kernel wakes it on another CPU, that CPU first has to leave its idle state (on a virtual
machine, an interrupt to another vCPU and an exit from its halt), and the worker waits for
nothing in the meantime. Pinned to one CPU, a runner and its children hand off by a plain
context switch on that CPU. On the 2-core machines of docs/benchmarks.md this took the idle
share of a busy ``bench instances`` run from about 15% to 3% ("Pinned workers").

Pinning is only done where it cannot cost a worker a CPU it would otherwise get: at most one
worker per CPU this process may run on, and workers spread over them round-robin, continuing
from where the last sandbox of this process left off, so two sandboxes open at once do not
pile onto the same CPUs.
"""

from __future__ import annotations

import os
import threading

from scaler.errors import ConfigError

#: Where the next sandbox of this process starts pinning: an index into the usable CPUs.
_next = 0
_lock = threading.Lock()


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
    """One CPU per worker, or None for every worker when there are more workers than
    ``cpus`` (default: :func:`usable_cpus`), where the kernel's balancing does better."""
    global _next
    cpus = usable_cpus() if cpus is None else cpus
    if not cpus or count > len(cpus):
        return [None] * count
    with _lock:
        first, _next = _next, _next + count
    return [cpus[(first + i) % len(cpus)] for i in range(count)]
