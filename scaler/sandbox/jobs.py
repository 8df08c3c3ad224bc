"""What a sandbox backend takes and gives back, whatever hosts the runner."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

import attrs

from scaler.model import Limits, Program
from scaler.registry import Kind

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


@runtime_checkable
class Sandbox(Protocol):
    """A backend: runs a batch of jobs in parallel, results in job order."""

    name: str

    def run_batch(self, jobs: Sequence[Job]) -> list[JobResult]: ...

    def close(self) -> None: ...


#: What the registries hold: ``factory(*, plugins, **options) -> Sandbox``, ``options`` from
#: the ``[sandbox]`` table. ``plugins`` is the set the factory was found in: a backend that
#: picks among the others (``auto``) looks them up there.
SandboxFactory = Callable[..., Sandbox]
#: Sandbox backends (``scaler_register_sandboxes``); a run picks one with ``[sandbox]``.
SANDBOXES: Kind[SandboxFactory] = Kind("sandboxes", "sandbox")
