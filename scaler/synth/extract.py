"""The pre-filter and the meta-information stage (method sections 2.1 and 2.2).

The pre-filter is rules only. The extraction reply is validated strictly: a reply that is not
exactly the asked-for object is malformed (and asked again), one that is well formed but
describes a problem the method cannot use is a rejection with the rule that refused it.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

import attrs

from scaler.model import ScaleParam
from scaler.synth.problem import Problem

#: The pre-filter keeps at most this many C++ / Python 3 solutions, and needs at least MIN.
MAX_SOLUTIONS = 10
MIN_SOLUTIONS = 3
OUTPUT_TYPES = ("string", "number", "array", "graph", "matrix", "bool", "others")
KEPT_OUTPUT_TYPES = ("number", "array", "string")

_INPUT_LINE = re.compile(r"^\s*(?:#+\s*)?Input\s*:?\s*$", re.MULTILINE | re.IGNORECASE)
_OUTPUT_SECTION = re.compile(
    r"^\s*(?:#+\s*)?Output\s*:?\s*$(.*?)(?=^\s*(?:#+\s*)?(?:Examples?|Note|Notes)\s*:?\s*$|\Z)",
    re.MULTILINE | re.IGNORECASE | re.DOTALL,
)
_IMAGE = re.compile(r"<image>|!\[[^\]]*\]\(|\.png\b|\.jpe?g\b|\.gif\b", re.IGNORECASE)
_FENCED = re.compile(r"```(?:json)?\s*\n(.*?)```", re.DOTALL)


class Malformed(ValueError):
    """The reply is not the object that was asked for; the stage may ask again."""


@attrs.frozen
class Meta:
    scale_params: tuple[ScaleParam, ...]
    output_type: str
    is_output_unique: bool


def prefilter(problem: Problem) -> tuple[Problem, str | None]:
    """The problem trimmed to its usable solutions, or the reason it cannot be used."""
    if not _INPUT_LINE.search(problem.statement):
        return problem, "the statement has no Input section"
    usable = tuple(s for s in problem.solutions if s.language in ("cpp", "python"))
    declared = problem.declared.min_solutions if problem.declared else None
    needed = MIN_SOLUTIONS if declared is None else declared
    if len(usable) < needed:
        return problem, f"{len(usable)} C++ / Python 3 solutions; at least {needed} are needed"
    return attrs.evolve(problem, solutions=usable[:MAX_SOLUTIONS]), None


def narrative(statement: str) -> str:
    """The text before the Input section: what the policy is shown."""
    match = _INPUT_LINE.search(statement)
    return statement[: match.start()].strip() if match else statement.strip()


def output_section(statement: str) -> str:
    match = _OUTPUT_SECTION.search(statement)
    return match.group(1).strip() if match else ""


def _json_object(reply: str) -> Any:
    candidates = [m.group(1) for m in _FENCED.finditer(reply)]
    start, end = reply.find("{"), reply.rfind("}")
    if start != -1 and end > start:
        candidates.append(reply[start : end + 1])
    if not candidates:
        raise Malformed("no JSON object in the reply")
    error = "no JSON object in the reply"
    for text in candidates:
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            error = f"invalid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        except RecursionError:
            error = "JSON nested too deeply to read"
    raise Malformed(error)


def parse_meta(reply: str) -> Meta:
    """The extraction reply as Meta; Malformed names the first thing that is wrong."""
    data = _json_object(reply)
    if not isinstance(data, dict):
        raise Malformed(f"the answer is a JSON {type(data).__name__}, not an object")
    keys = {"scale_params", "output_type", "is_output_unique"}
    if set(data) != keys:
        missing, extra = sorted(keys - set(data)), sorted(set(data) - keys)
        raise Malformed(
            "keys must be exactly scale_params, output_type, is_output_unique"
            + (f"; missing {', '.join(missing)}" if missing else "")
            + (f"; unexpected {', '.join(extra)}" if extra else "")
        )
    params = data["scale_params"]
    if not isinstance(params, dict):
        raise Malformed("scale_params must be an object of name -> {min, max}")
    scale = []
    for name, spec in params.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise Malformed(f"scale parameter name {name!r} is not an identifier")
        if not isinstance(spec, dict) or set(spec) != {"min", "max"}:
            raise Malformed(f"scale_params.{name} must be exactly {{min, max}}, got {spec!r}")
        low, high = spec["min"], spec["max"]
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (low, high)):
            raise Malformed(f"scale_params.{name}.min and .max must be integers, got {spec!r}")
        if not all(abs(v) <= sys.float_info.max for v in (low, high)):  # calibration uses floats
            raise Malformed(f"scale_params.{name}.min and .max are too large, got {spec!r}")
        if low > high:
            raise Malformed(f"scale_params.{name}: min {low} is above max {high}")
        scale.append(ScaleParam(name, low, high))
    output_type = data["output_type"]
    if output_type not in OUTPUT_TYPES:
        raise Malformed(f"output_type {output_type!r} is not one of {', '.join(OUTPUT_TYPES)}")
    unique = data["is_output_unique"]
    if not isinstance(unique, bool):
        raise Malformed(f"is_output_unique must be true or false, got {unique!r}")
    return Meta(tuple(scale), output_type, unique)


def keep_rule(problem: Problem, meta: Meta) -> str | None:
    """Why a well-formed extraction still cannot make an environment, or None."""
    if meta.output_type not in KEPT_OUTPUT_TYPES:
        return f"output type {meta.output_type!r} cannot be verified (kept: number, array, string)"
    if not meta.is_output_unique:
        return "the output is not unique: several answers would be accepted"
    if not meta.scale_params:
        return "no scale parameter: the problem's size cannot be scaled"
    declared = problem.declared.output_spec if problem.declared else None
    if not (declared or output_section(problem.statement)):
        return "the statement has no Output section"
    if _IMAGE.search(problem.statement):
        return "the statement relies on an image"
    return None


def declared_meta(problem: Problem) -> Meta | None:
    """Meta from what the source declared, when it declared all of it."""
    declared = problem.declared
    if declared is None or declared.scale_params is None or declared.output_type is None:
        return None
    unique = True if declared.is_output_unique is None else declared.is_output_unique
    return Meta(declared.scale_params, declared.output_type, unique)
