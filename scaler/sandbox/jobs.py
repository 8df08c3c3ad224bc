"""What a sandbox backend takes and gives back, whatever hosts the runner."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

import attrs

from scaler.model import Limits, Program
from scaler.registry import Kind
from scaler.sandbox.runner import json_field

#: Every status a job can end with.
STATUSES: tuple[str, ...] = (
    "ok",
    "timeout",
    "memory",
    "runtime-error",
    "compile-error",
    "output-limit",
)


@attrs.frozen
class Job:
    program: Program
    stdin: str = ""
    limits: Limits = attrs.field(factory=Limits)

    def to_wire(self, job_id: int) -> dict[str, Any]:
        """The newline-delimited JSON request the runner reads."""
        return {
            "id": job_id,
            "language": self.program.language,
            "hash": self.program.hash,
            "source": self.program.source,
            "stdin": self.stdin,
            "limits": self.limits.to_dict(),
        }


@attrs.frozen
class JobResult:
    status: str
    exit_code: int | None
    stdout: str
    stderr: str
    wall_s: float
    cpu_s: float

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> JobResult:
        return cls(
            status=data["status"],
            exit_code=data.get("exit_code"),
            stdout=data.get("stdout", ""),
            stderr=data.get("stderr", ""),
            wall_s=float(data.get("wall_s", 0.0)),
            cpu_s=float(data.get("cpu_s", 0.0)),
        )


@attrs.frozen
class Chain:
    """Jobs run one after another in one request: each after the first reads ``field`` of the
    JSON object printed by the one before it, as its stdin (an instance's generator harness and
    its reference solution). A chain stops at its first job that does not end ``ok``, or whose
    output has no such string field."""

    jobs: tuple[Job, ...]
    field: str = "stdin"


@runtime_checkable
class Sandbox(Protocol):
    """A backend: runs a batch of jobs in parallel, results in job order."""

    name: str

    def run_batch(self, jobs: Sequence[Job]) -> list[JobResult]: ...

    def close(self) -> None: ...


@runtime_checkable
class ChainingSandbox(Sandbox, Protocol):
    """A backend that takes chains whole: one round trip per chain, not one per job."""

    def run_chains(self, chains: Sequence[Chain]) -> list[list[JobResult]]: ...


def feed(previous: JobResult, field: str) -> str | None:
    """What a chain's next job reads: ``field`` of the JSON object ``previous`` printed."""
    return json_field(previous.stdout, field) if previous.ok else None


def run_chains(sandbox: Sandbox, chains: Sequence[Chain]) -> list[list[JobResult]]:
    """Each chain's results, in order, up to where it stopped. A backend that takes chains
    whole gets them so; any other runs them as rounds of ``run_batch`` (the k-th jobs of every
    chain still going, together)."""
    if isinstance(sandbox, ChainingSandbox):
        return sandbox.run_chains(chains)
    results: list[list[JobResult]] = [[] for _ in chains]
    going = list(range(len(chains)))
    for step in range(max((len(c.jobs) for c in chains), default=0)):
        jobs = []
        for index in list(going):
            chain = chains[index]
            stdin = chain.jobs[0].stdin if step == 0 else feed(results[index][-1], chain.field)
            if step >= len(chain.jobs) or stdin is None:
                going.remove(index)
                continue
            jobs.append(attrs.evolve(chain.jobs[step], stdin=stdin))
        for index, result in zip(going, sandbox.run_batch(jobs), strict=True):
            results[index].append(result)
    return results


#: What the registries hold: ``factory(*, plugins, **options) -> Sandbox``, ``options`` from
#: the ``[sandbox]`` table. ``plugins`` is the set the factory was found in: a backend that
#: picks among the others (``auto``) looks them up there.
SandboxFactory = Callable[..., Sandbox]
#: Sandbox backends (``scaler_register_sandboxes``); a run picks one with ``[sandbox]``.
SANDBOXES: Kind[SandboxFactory] = Kind("sandboxes", "sandbox")
