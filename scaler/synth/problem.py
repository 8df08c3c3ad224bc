"""What synthesis starts from: a problem as a source gives it, and what the source declares.

A CodeContests problem is a statement and reference solutions; everything else (scale
parameters, output type, a generator) is for the LLM stages to find. The official SCALER pool
and CodeI/O tasks declare some of it already; ``Declared`` carries that, and the ``declared``
extractor and generator use it instead of asking an LLM.
"""

from __future__ import annotations

from typing import Any

import attrs

from scaler.model import Limits, Program, ScaleParam


@attrs.frozen
class Declared:
    """Metadata a source states for a problem; ``None`` where the source says nothing."""

    scale_params: tuple[ScaleParam, ...] | None = None
    output_type: str | None = None
    is_output_unique: bool | None = None
    #: The text the policy is shown (before the Input section) and the Output section.
    narrative: str | None = None
    output_spec: str | None = None
    generator: Program | None = None
    generator_contract: str = "native"
    #: A level table the source computed (the official pool's ``difficulty_dict``).
    levels: tuple[int, ...] | None = None
    #: Reference solutions the pre-filter needs; None: the method's 3. A source whose single
    #: reference function is the definition of the task (CodeI/O) vouches for fewer.
    min_solutions: int | None = None


@attrs.frozen
class Problem:
    #: The problem's ``name`` (or ``id``) as the source gives it; recordings are keyed by it.
    id: str
    name: str
    #: The full statement, Input and Output sections included.
    statement: str
    solutions: tuple[Program, ...]
    source: str
    #: Where it came from: ``file#line`` or ``file#key``.
    origin: str = ""
    #: Example (stdin, expected stdout) pairs the source ships, if any.
    tests: tuple[tuple[str, str], ...] = ()
    limits: Limits = attrs.field(factory=Limits)
    declared: Declared | None = None

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self, recurse=True)


@attrs.frozen
class SourceRejection:
    """A record a source could not turn into a problem, and why (file, line or key, reason)."""

    where: str
    reason: str


@attrs.frozen
class SourceResult:
    problems: tuple[Problem, ...]
    rejected: tuple[SourceRejection, ...] = ()
