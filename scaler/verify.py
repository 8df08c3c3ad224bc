"""Answer verification: the last ``\\boxed{...}`` of a response against the ground truth.

The comparison depends on the output type and is done by the verifier registered for it, so a
plugin can add types or replace a comparison (say, with math-verify) without touching this file.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from scaler.errors import ScalerError
from scaler.model import Instance, Verdict
from scaler.registry import Kind

if TYPE_CHECKING:
    from scaler.registry import PluginSet

#: ``verifier(extracted, expected) -> (correct, reason)``: the text of a model's boxed answer
#: against the ground truth, for one output type.
Verifier = Callable[[str, str], tuple[bool, str]]
#: Verifiers by output type (``scaler_register_verifiers``).
VERIFIERS: Kind[Verifier] = Kind("verifiers", "verifier")

#: Numbers (and array elements) match within this absolute or relative tolerance.
TOLERANCE = 1e-7

_BOX = re.compile(r"\\(?:boxed|fbox)\s*\{")
_WRAPPERS = re.compile(r"^\\(?:text|textbf|mathrm|mathbf|texttt)\s*\{(.*)\}$", re.DOTALL)
_FRAC = re.compile(r"^(-?)\\d?frac\{([^{}]+)\}\{([^{}]+)\}$")


def extract_boxed(text: str) -> str | None:
    """The content of the last complete ``\\boxed{...}``, nested braces included, else None.

    One pass pairs every brace: scanning on from each box instead took seconds on a degenerate
    rollout that repeats ``\\boxed{`` thousands of times, and the reward runs per rollout.
    """
    starts = [match.end() for match in _BOX.finditer(text)]
    if not starts:
        return None
    closing: dict[int, int] = {}
    open_braces: list[int] = []
    for index in range(starts[0] - 1, len(text)):
        char = text[index]
        if char == "{":
            open_braces.append(index)
        elif char == "}" and open_braces:
            closing[open_braces.pop()] = index
    for start in reversed(starts):
        if start - 1 in closing:
            return text[start : closing[start - 1]].strip()
    return None


def _unwrap(text: str) -> str:
    text = text.strip().strip("$").strip()
    while match := _WRAPPERS.match(text):
        text = match.group(1).strip()
    return text


def parse_number(text: str) -> int | float | Fraction | None:
    """An int, float or fraction from a model's or a program's text, or None."""
    text = _unwrap(text).replace("\\,", "").replace("\\!", "").replace(" ", "")
    if text.startswith("+"):
        text = text[1:]
    if frac := _FRAC.match(text):
        text = f"{frac.group(1)}{frac.group(2)}/{frac.group(3)}"
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        try:
            return Fraction(text)
        except (ValueError, ZeroDivisionError):
            return None
    return value if math.isfinite(value) else None


def numbers_equal(got: int | float | Fraction, want: int | float | Fraction) -> bool:
    if isinstance(got, int) and isinstance(want, int):
        return got == want
    try:
        a, b = float(got), float(want)
    except OverflowError:  # beyond the float range no tolerance applies: compare exactly
        return got == want
    return abs(a - b) <= TOLERANCE or abs(a - b) <= TOLERANCE * abs(b)


def verify_number(extracted: str, expected: str) -> tuple[bool, str]:
    want = parse_number(expected)
    if want is None:
        return False, f"the ground truth {expected!r} is not a number"
    got = parse_number(extracted)
    if got is None:
        return False, f"{extracted!r} is not a number"
    if numbers_equal(got, want):
        return True, "equal"
    return False, f"{extracted} != {expected}"


def parse_array(text: str) -> list[int | float | Fraction] | None:
    text = _unwrap(text)
    if text[:1] in "[(" and text[-1:] in "])":
        text = text[1:-1]
    parts = [p for p in re.split(r"[,;\s]+", text) if p]
    values = [parse_number(p) for p in parts]
    if any(v is None for v in values):
        return None
    return values  # type: ignore[return-value]  # no None among them: checked above


def verify_array(extracted: str, expected: str) -> tuple[bool, str]:
    want = parse_array(expected)
    if want is None:
        return False, f"the ground truth {expected!r} is not an array of numbers"
    got = parse_array(extracted)
    if got is None:
        return False, f"{extracted!r} is not an array of numbers"
    if len(got) != len(want):
        return False, f"{len(got)} elements, expected {len(want)}"
    for index, (a, b) in enumerate(zip(got, want, strict=True)):
        if not numbers_equal(a, b):
            return False, f"element {index} is {a}, expected {b}"
    return True, "equal"


def verify_string(extracted: str, expected: str) -> tuple[bool, str]:
    got, want = _unwrap(extracted), expected.strip()
    if got == want:
        return True, "equal"
    return False, f"{got!r} != {want!r}"


def canonical_answer(output_type: str, stdout: str) -> str:
    """The ground truth as stored in an instance: arrays as ``[a, b, c]``, the rest trimmed."""
    text = stdout.strip()
    if output_type == "array":
        return "[" + ", ".join(text.split()) + "]"
    return text


def verify(
    response: str,
    instance: Instance | Mapping[str, Any],
    plugins: PluginSet,
) -> Verdict:
    """Check a model response against an instance (or its ``extra_info``).

    The verifier is the one registered for the instance's output type in ``plugins``
    (``scaler.Plugins.load()``, loaded once and passed on), so a plugin's output type is
    verified wherever its environments are.
    """
    if isinstance(instance, Instance):
        output_type, expected = instance.output_type, instance.answer
    else:
        output_type, expected = str(instance["output_type"]), str(instance["answer"])
    verifier = plugins.get(VERIFIERS, output_type)
    extracted = extract_boxed(response)
    if extracted is None:
        return Verdict(False, None, expected, "no \\boxed{...} answer in the response")
    try:
        correct, reason = verifier(extracted, expected)
    except Exception as exc:
        raise ScalerError(f"verifier for {output_type!r} failed: {exc}") from exc
    return Verdict(bool(correct), extracted, expected, reason)


def compute_score(
    solution_str: str, instance: Instance | Mapping[str, Any], plugins: PluginSet
) -> dict[str, Any]:
    """The reward in the shape RL trainers take: score (+1 / -1), acc (1 / 0) and the reason."""
    verdict = verify(solution_str, instance, plugins)
    return {"score": verdict.score, "acc": verdict.acc, "pred": verdict.extracted or ""}
