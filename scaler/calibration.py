"""Calibrating level tables by measuring generated inputs in the sandbox.

The binary searches of all environments advance in lockstep, so every round of probes is one
parallel sandbox batch instead of one call per probe per environment.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Generator, Mapping, Sequence
from typing import Any

import attrs

from scaler.errors import InstanceError
from scaler.instances import GENERATOR_LIMITS, generator_harness
from scaler.levels import (
    DEFAULT_BUDGET_CHARS,
    level_offsets,
    offset_range,
    offset_search,
    with_bases,
)
from scaler.model import EnvSpec, ScaleParam
from scaler.sandbox.jobs import Job, Sandbox

#: Inputs are random: an offset fits when the largest of these seeds' inputs fits.
CALIBRATION_SEEDS: tuple[int, ...] = (0, 1, 2)


@attrs.frozen
class Calibration:
    env_id: str
    scale_params: tuple[ScaleParam, ...]
    s_max: int
    levels: tuple[int, ...]


def stdin_chars(generated: Mapping[str, Any]) -> int:
    """The reference code's measure of an input: characters of its stdin text."""
    return len(generated["stdin"])


def calibrate_envs(
    envs: Sequence[EnvSpec],
    sandbox: Sandbox,
    budget: int = DEFAULT_BUDGET_CHARS,
    seeds: Sequence[int] = CALIBRATION_SEEDS,
    measure: Callable[[Mapping[str, Any]], int] = stdin_chars,
) -> list[Calibration]:
    """Recompute bases, the largest fitting offset and the level table of every env.

    ``measure`` sizes a generated input (``{"stdin", "shown_input"}``) against ``budget``:
    characters of stdin by default, tokens of the prompt where a tokenizer is given.
    """
    based = [with_bases(env.scale_params) for env in envs]
    searches: list[Generator[int, bool, int]] = [offset_search(offset_range(p)) for p in based]
    probes: dict[int, int] = {i: next(search) for i, search in enumerate(searches)}
    s_max: dict[int, int] = {}
    while probes:
        order = list(probes)
        jobs = [
            Job(
                generator_harness(envs[i]),
                json.dumps(
                    {"params": {p.name: p.value_at(probes[i]) for p in based[i]}, "seed": seed}
                ),
                GENERATOR_LIMITS,
            )
            for i in order
            for seed in seeds
        ]
        results = iter(sandbox.run_batch(jobs))
        for i in order:
            sizes = []
            for _ in seeds:
                result = next(results)
                if not result.ok:
                    raise InstanceError(
                        f"{envs[i].id}: the generator failed during calibration at offset "
                        f"{probes[i]} ({result.status}): {result.stderr.strip()[-300:]}"
                    )
                sizes.append(measure(json.loads(result.stdout)))
            try:
                probes[i] = searches[i].send(max(sizes) <= budget)
            except StopIteration as done:
                s_max[i] = int(done.value)
                del probes[i]
    return [
        Calibration(env.id, based[i], s_max[i], level_offsets(s_max[i]))
        for i, env in enumerate(envs)
    ]
