"""A plugin environment whose every answer is 3 or 4: a tiny random model that favours the
tokens ``\\boxed{3}`` and ``\\boxed{4}`` (``tiny_model.build(favour=...)``) answers it right
about half the time, so GRPO groups disagree and a training step changes the model."""

from __future__ import annotations

from collections.abc import Callable

from scaler import EnvSpec, Limits, Program, ScaleParam, hookimpl
from scaler.levels import level_offsets, offset_range, with_bases
from scaler.model import Provenance

GENERATOR = r"""
def generate(params, rng):
    n = rng.randint(1, params["n"])
    return f"{n}\n", {"n": n}
"""
SOLUTION = "print(3 if int(input()) % 2 else 4)\n"
PARAMS = with_bases([ScaleParam("n", 1, 40)])

THREE_OR_FOUR = EnvSpec(
    id="three-or-four",
    name="Three or Four",
    statement="You are given a positive integer n. Print 3 if n is odd, else 4.",
    output_spec="Print one integer: 3 or 4.",
    output_type="number",
    scale_params=PARAMS,
    levels=level_offsets(offset_range(PARAMS)),
    generator=Program("python", GENERATOR),
    solutions=(Program("python", SOLUTION),),
    limits=Limits(cpu_s=2.0, wall_s=5.0, memory_mb=256),
    provenance=Provenance(source="tests", origin="tests/train/three_or_four_env.py"),
)


@hookimpl
def scaler_register_environments(register: Callable[[EnvSpec], None]) -> None:
    register(THREE_OR_FOUR)
