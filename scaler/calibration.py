"""Calibrating level tables by measuring generated inputs in the sandbox.

The binary searches of all environments advance in lockstep, so every round of probes is one
parallel sandbox batch instead of one call per probe per environment.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Generator, Mapping, Sequence
from typing import Any

import attrs

from scaler.errors import InstanceError, ScalerError
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

#: Sizes a generated input (``{"stdin", "shown_input"}``) against the budget.
Measure = Callable[[Mapping[str, Any]], int]

#: Inputs are random: an offset fits when the largest of these seeds' inputs fits.
CALIBRATION_SEEDS: tuple[int, ...] = (0, 1, 2)


@attrs.frozen
class Calibration:
    env_id: str
    scale_params: tuple[ScaleParam, ...]
    s_max: int
    levels: tuple[int, ...]

    def apply(self, env: EnvSpec) -> EnvSpec:
        """``env`` with the recomputed bases and level table."""
        return attrs.evolve(env, scale_params=self.scale_params, levels=self.levels)


def stdin_chars(generated: Mapping[str, Any]) -> int:
    """The reference code's measure of an input: characters of its stdin text."""
    return len(generated["stdin"])


def input_measure(tokenizer: str | None = None) -> Measure:
    """How inputs are sized against the budget: characters of stdin, or, given a local
    Hugging Face tokenizer, tokens of the input as the policy is shown it (what a prompt
    budget in tokens is about)."""
    if tokenizer is None:
        return stdin_chars
    try:
        from transformers import AutoTokenizer
    except ImportError as exc:
        raise ScalerError("--tokenizer needs transformers: pip install transformers") from exc
    loaded = AutoTokenizer.from_pretrained(tokenizer)

    def tokens(generated: Mapping[str, Any]) -> int:
        shown = generated["shown_input"]
        text = shown if isinstance(shown, str) else json.dumps(shown, ensure_ascii=False)
        return len(loaded.encode(text))

    return tokens


def calibrate_envs(
    envs: Sequence[EnvSpec],
    sandbox: Sandbox,
    budget: int = DEFAULT_BUDGET_CHARS,
    seeds: Sequence[int] = CALIBRATION_SEEDS,
    measure: Measure = stdin_chars,
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


def recalibrate(
    envs: Sequence[EnvSpec],
    sandbox: Sandbox,
    budget: int = DEFAULT_BUDGET_CHARS,
    measure: Measure = stdin_chars,
) -> list[EnvSpec]:
    """Every env with its bases and level table recomputed (``scaler calibrate``)."""
    calibrations = calibrate_envs(envs, sandbox, budget, measure=measure)
    return [c.apply(env) for env, c in zip(envs, calibrations, strict=True)]
