"""The value classes every part of scaler passes around.

They are frozen attrs classes so that an environment or an instance, once built, cannot drift:
its content hash (``EnvSpec.version``) is what makes instances replayable, and a mutable spec
would let the hash lie.
"""

from __future__ import annotations

import functools
import hashlib
import json
from typing import Any, Literal

import attrs

from scaler.registry import Kind

Language = Literal["python", "cpp"]
LANGUAGES: tuple[str, ...] = ("python", "cpp")

#: How a generator program is called. ``native``: ``generate(params, rng) -> (stdin, shown)``;
#: ``scaler-official``: the official pool's ``generate_testcase(params)`` using the global random.
GeneratorContract = Literal["native", "scaler-official"]
GENERATOR_CONTRACTS: tuple[str, ...] = ("native", "scaler-official")


def canonical_json(value: Any) -> str:
    """JSON that is the same bytes for the same value, whatever the dict order."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def content_hash(value: Any) -> str:
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()


@attrs.frozen
class ScaleParam:
    """An integer quantity that bounds the size of the input (n, m, string length ...)."""

    name: str
    min: int
    max: int
    #: The multiplier from the shared difficulty offset to this parameter's value.
    base: float = 1.0

    def value_at(self, offset: int) -> int:
        return int(offset * self.base + self.min)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "min": self.min, "max": self.max, "base": self.base}


@attrs.frozen
class Program:
    """A generator or a reference solution: code that scaler runs only inside the sandbox.

    Attributes:
        language: ``"python"`` (run as a Python 3 script) or ``"cpp"`` (compiled once per
            source with ``g++ -O2 -std=c++17``, retried as ``-std=gnu++14``, then cached).
            Generators are always Python.
        source: The whole program. A solution reads its input on stdin and prints the answer
            to stdout; a generator defines the function its environment's
            ``generator_contract`` names. Only the standard library is there.
    """

    language: Language
    source: str

    @functools.cached_property
    def hash(self) -> str:
        """Names compiled artifacts and caches: equal sources share one compilation. Kept once
        made: a validation asks for it about three times per run."""
        return hashlib.sha256(f"{self.language}\0{self.source}".encode()).hexdigest()[:32]

    def to_dict(self) -> dict[str, Any]:
        return {"language": self.language, "source": self.source}


@attrs.frozen
class Limits:
    """Per-job resource limits enforced by the sandbox runner."""

    cpu_s: float = 10.0
    wall_s: float = 20.0
    memory_mb: int = 1024
    #: Processes and threads the job may create (enforced where the host allows it).
    processes: int = 32
    output_bytes: int = 8 * 1024 * 1024

    def to_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


@attrs.frozen
class Provenance:
    source: str = "unknown"
    llm: str | None = None
    created: str | None = None
    origin: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in attrs.asdict(self).items() if v is not None}


@attrs.frozen
class EnvSpec:
    """A programming problem turned into an unbounded source of verifiable questions.

    Every field but ``provenance`` goes into ``version``, the content hash that instances
    carry: an instance is replayable from (version, level, seed), so a changed environment
    gets a new version instead of silently making different instances under the old one.

    Attributes:
        id: Unique name without whitespace; what commands take as ``ENV``.
        name: The problem's title, the heading of the prompt.
        statement: The narrative, without input or output sections: the prompt shows a
            concrete input instead.
        output_spec: What to print (the Output section); the prompt repeats it as the
            instruction.
        output_type: The verifier that compares answers: ``number``, ``array``, ``string``,
            or a type a plugin registered a verifier for.
        scale_params: The integer quantities that bound the input's size, at least one
            (``ScaleParam``: name, min, max, base).
        levels: The shared offset of each level, level 0 (easiest) first, non-decreasing;
            level ``l`` sets each parameter to ``int(levels[l] * base + min)``.
            ``scaler.levels.level_offsets`` makes such a table.
        generator: The Python program that makes one input from the parameter values and a
            seeded random source, called as ``generator_contract`` says.
        solutions: Reference programs, Python or C++, at least one; the first one's output
            is the ground truth, and the others must agree with it.
        generator_contract: ``"native"``: ``generate(params, rng) -> (stdin_text,
            shown_input)``; ``"scaler-official"``: the official pool's
            ``generate_testcase(params)`` on the seeded global ``random``.
        limits: CPU, wall, memory, process and output limits of each solution run.
        provenance: Where the environment came from (source, LLM, date, origin); not part
            of ``version``.
    """

    id: str
    name: str
    statement: str
    output_spec: str
    output_type: str
    scale_params: tuple[ScaleParam, ...]
    #: Shared difficulty offsets, level 0 (easiest) first.
    levels: tuple[int, ...]
    generator: Program
    solutions: tuple[Program, ...]
    generator_contract: str = "native"
    limits: Limits = Limits()
    provenance: Provenance = Provenance()

    @property
    def max_level(self) -> int:
        return len(self.levels) - 1

    def params_at(self, level: int) -> dict[str, int]:
        offset = self.levels[level]
        return {p.name: p.value_at(offset) for p in self.scale_params}

    def defining_dict(self) -> dict[str, Any]:
        """Everything that decides what an instance looks like; provenance does not."""
        return {
            "id": self.id,
            "name": self.name,
            "statement": self.statement,
            "output_spec": self.output_spec,
            "output_type": self.output_type,
            "scale_params": [p.to_dict() for p in self.scale_params],
            "levels": list(self.levels),
            "generator": self.generator.to_dict(),
            "generator_contract": self.generator_contract,
            "solutions": [s.to_dict() for s in self.solutions],
            "limits": self.limits.to_dict(),
        }

    @property
    def version(self) -> str:
        return content_hash(self.defining_dict())[:16]

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.defining_dict(),
            "provenance": self.provenance.to_dict(),
            "version": self.version,
        }


#: Environments that plugins register (``scaler_register_environments``), by id.
ENVIRONMENTS: Kind[EnvSpec] = Kind("environments", "environment")


@attrs.frozen
class Instance:
    """One concrete question: (env version, level, seed) always gives the same bytes."""

    env_id: str
    env_version: str
    level: int
    seed: int
    params: dict[str, int]
    stdin: str
    shown_input: Any
    answer: str
    output_type: str
    messages: tuple[dict[str, str], ...]

    @property
    def extra_info(self) -> dict[str, Any]:
        """What the reward function and the curriculum need to score and attribute a rollout."""
        return {
            "env_id": self.env_id,
            "env_version": self.env_version,
            "level": self.level,
            "seed": self.seed,
            "output_type": self.output_type,
            "answer": self.answer,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "env_id": self.env_id,
            "env_version": self.env_version,
            "level": self.level,
            "seed": self.seed,
            "params": dict(self.params),
            "stdin": self.stdin,
            "shown_input": self.shown_input,
            "answer": self.answer,
            "output_type": self.output_type,
            "messages": [dict(m) for m in self.messages],
            "extra_info": self.extra_info,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Instance:
        if not isinstance(data["output_type"], str):  # it names a verifier: a registry key
            raise TypeError(f"output_type must be a string, got {data['output_type']!r}")
        return cls(
            env_id=data["env_id"],
            env_version=data["env_version"],
            level=int(data["level"]),
            seed=int(data["seed"]),
            params=dict(data.get("params", {})),
            stdin=data.get("stdin", ""),
            shown_input=data.get("shown_input"),
            answer=str(data["answer"]),
            output_type=data["output_type"],
            messages=tuple(dict(m) for m in data.get("messages", ())),
        )


@attrs.frozen
class Verdict:
    """The outcome of checking one model answer against an instance's ground truth."""

    correct: bool
    #: The text inside the last ``\\boxed{}``; None when the answer has no box.
    extracted: str | None
    expected: str
    reason: str

    @property
    def acc(self) -> float:
        return 1.0 if self.correct else 0.0

    @property
    def score(self) -> float:
        """The paper's reward: +1 for a match, -1 otherwise (a missing box included)."""
        return 1.0 if self.correct else -1.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "correct": self.correct,
            "score": self.score,
            "acc": self.acc,
            "extracted": self.extracted,
            "expected": self.expected,
            "reason": self.reason,
        }
