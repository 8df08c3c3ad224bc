"""An example scaler plugin: a verifier for a new output type and an environment using it."""

from __future__ import annotations

from collections.abc import Callable

from scaler import EnvSpec, Program, ScaleParam, hookimpl
from scaler.levels import level_offsets
from scaler.registry import Register
from scaler.verify import Verifier, parse_array

GENERATOR = """
def generate(params, rng):
    n = params["n"]
    a = [rng.randint(1, max(2, n // 2 + 1)) for _ in range(n)]
    return f"{n}\\n{' '.join(map(str, a))}\\n", {"n": n, "a": a}
"""

SOLUTION = """
from collections import Counter

n, *a = map(int, open(0).read().split())
once = [v for v, c in Counter(a).items() if c == 1]
print("[" + ", ".join(map(str, sorted(once))) + "]")
"""

SOLUTION_BY_SORTING = """
n, *a = map(int, open(0).read().split())
a.sort()
once = [a[i] for i in range(n) if (i == 0 or a[i - 1] != a[i]) and (i == n - 1 or a[i + 1] != a[i])]
print("[" + ", ".join(map(str, once)) + "]")
"""

UNIQUE_VALUES = EnvSpec(
    id="unique-values",
    name="Unique Values",
    statement=(
        "You are given an array a of n integers. Find every value that occurs in a exactly once."
    ),
    output_spec="Print those values as a bracketed list, in any order ([] if there are none).",
    output_type="unordered",
    scale_params=(ScaleParam("n", 1, 300),),
    levels=level_offsets(299),
    generator=Program("python", GENERATOR),
    solutions=(Program("python", SOLUTION), Program("python", SOLUTION_BY_SORTING)),
)


def verify_unordered(extracted: str, expected: str) -> tuple[bool, str]:
    """Equal as multisets: the order of the model's list does not matter."""
    got, want = parse_array(extracted), parse_array(expected)
    if got is None:
        return False, f"{extracted!r} is not a list of numbers"
    if want is None:
        return False, f"the ground truth {expected!r} is not a list of numbers"
    if sorted(got) == sorted(want):
        return True, "equal as multisets"
    return False, f"{sorted(got)} != {sorted(want)} (sorted)"


@hookimpl
def scaler_register_verifiers(register: Register[Verifier]) -> None:
    register("unordered", verify_unordered)


@hookimpl
def scaler_register_environments(register: Callable[[EnvSpec], None]) -> None:
    register(UNIQUE_VALUES)
