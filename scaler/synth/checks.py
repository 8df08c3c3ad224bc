"""Validation of a candidate environment against its reference solutions (method section 2.4).

Each check is a plugin (``scaler_register_checks``): ``check(candidate, context) ->
CheckResult``. Every program involved runs in the sandbox, in batches: a check costs two
parallel rounds (generators, then solutions), not one process per run; breadth solves its first
trials in a round of their own, and stops there when they fail. A failed check says
why in one line (``reason``, for reports) and in full (``feedback``: the error text, the
offending input, the outputs that disagree), which is what the repair loop shows the LLM.

The checks draw their random scales and seeds from (settings seed, candidate id, check), so a
check's verdict on the same candidate is the same on every run.
"""

from __future__ import annotations

import hashlib
import json
import random
import statistics
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, cast

import attrs

from scaler.calibration import CALIBRATION_SEEDS, stdin_chars
from scaler.instances import GENERATOR_LIMITS, answer_problem, harness
from scaler.levels import DEFAULT_BUDGET_CHARS
from scaler.model import EnvSpec, Limits, Program, ScaleParam
from scaler.registry import Kind
from scaler.sandbox.jobs import Job, JobResult, Sandbox
from scaler.verify import VERIFIERS, canonical_answer

if TYPE_CHECKING:
    from scaler.registry import PluginSet

#: Characters of an input or an output quoted in feedback.
QUOTE = 1500
#: Breadth trials solved before the rest, to stop early on a generator that fails.
BREADTH_FIRST_ROUND = 10


@attrs.frozen
class Candidate:
    """What the checks need of an environment; ``levels`` once it is calibrated."""

    id: str
    output_type: str
    scale_params: tuple[ScaleParam, ...]
    generator: Program
    solutions: tuple[Program, ...]
    generator_contract: str = "native"
    limits: Limits = attrs.field(factory=Limits)
    levels: tuple[int, ...] | None = None

    @classmethod
    def from_env(cls, env: EnvSpec) -> Candidate:
        return cls(
            env.id,
            env.output_type,
            env.scale_params,
            env.generator,
            env.solutions,
            env.generator_contract,
            env.limits,
            env.levels,
        )


@attrs.frozen
class CheckSettings:
    #: breadth: trials at random scales in [max(0, min), min(breadth_cap, max)].
    trials: int = 100
    breadth_cap: int = 1000
    #: depth: runs at one random scale in [max(depth_floor, min), min(depth_cap, max)].
    depth_runs: int = 100
    depth_floor: int = 100
    depth_cap: int = 10_000
    min_distinct: int = 10
    max_share: float = 0.3
    #: determinism: seeds generated twice each.
    determinism_seeds: int = 3
    #: budget: the prompt budget at the top level, in what ``measure`` counts.
    budget: int = DEFAULT_BUDGET_CHARS
    seed: int = 0


@attrs.frozen
class CheckResult:
    check: str
    ok: bool
    reason: str = ""
    #: For the repair prompt: what failed, on which input, with which outputs.
    feedback: str = ""
    #: Figures for reports (distinct outputs, agreement, sizes, runtimes).
    details: Mapping[str, Any] = attrs.field(factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "ok": self.ok,
            "reason": self.reason,
            "details": dict(self.details),
        }


@attrs.frozen
class CheckContext:
    sandbox: Sandbox
    plugins: PluginSet
    settings: CheckSettings = attrs.field(factory=CheckSettings)
    #: How large an input is against the budget: characters of stdin by default, or tokens.
    measure: Callable[[Mapping[str, Any]], int] = stdin_chars


Check = Callable[[Candidate, CheckContext], CheckResult]
#: Environment validation checks (``scaler_register_checks``), named in ``--checks``.
CHECKS: Kind[Check] = Kind("checks", "check")


def _rng(context: CheckContext, candidate: Candidate, check: str) -> random.Random:
    text = f"{context.settings.seed}\0{candidate.id}\0{check}"
    return random.Random(int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big"))


def _quote(text: str) -> str:
    return text if len(text) <= QUOTE else text[:QUOTE] + f"... ({len(text)} characters)"


def _last_line(result: JobResult) -> str:
    return (result.stderr.strip().splitlines() or [""])[-1][:300]


def random_params(
    params: Sequence[ScaleParam], rng: random.Random, floor: int, cap: int
) -> dict[str, int]:
    """Each parameter uniform in [max(floor, min), min(cap, max)] (the method's ranges).

    Where that range is empty (a parameter whose max is below the floor, or whose min is
    above the cap) the parameter's own bound nearest to it is used: never outside [min, max].
    """
    values = {}
    for p in params:
        low = min(max(floor, p.min), p.max)
        high = max(low, min(cap, p.max))
        values[p.name] = rng.randint(low, high)
    return values


@attrs.frozen
class Generated:
    params: Mapping[str, int]
    seed: int
    stdin: str
    shown: Any


class GeneratorFailed(Exception):
    def __init__(self, params: Mapping[str, int], seed: int, detail: str) -> None:
        super().__init__(detail)
        self.params, self.seed, self.detail = params, seed, detail


def generate_each(
    context: CheckContext, candidate: Candidate, requests: Sequence[tuple[Mapping[str, int], int]]
) -> list[Generated | GeneratorFailed]:
    """Run the generator for each (params, seed), in one sandbox batch: what it made, or how
    it failed, per request."""
    program = harness(candidate.generator, candidate.generator_contract)
    results = context.sandbox.run_batch(
        [
            Job(program, json.dumps({"params": dict(p), "seed": s}), GENERATOR_LIMITS)
            for p, s in requests
        ]
    )
    made: list[Generated | GeneratorFailed] = []
    for (params, seed), result in zip(requests, results, strict=True):
        if not result.ok:
            detail = result.stderr.strip()[-QUOTE:] or f"{result.status} (exit {result.exit_code})"
            made.append(GeneratorFailed(params, seed, f"{result.status}: {detail}"))
            continue
        data = json.loads(result.stdout)
        made.append(Generated(params, seed, data["stdin"], data["shown_input"]))
    return made


def generate(
    context: CheckContext, candidate: Candidate, requests: Sequence[tuple[Mapping[str, int], int]]
) -> list[Generated]:
    """Run the generator for each (params, seed), in one sandbox batch; the first failure
    raises."""
    return first_failure_raised(generate_each(context, candidate, requests))


def first_failure_raised(made: Sequence[Generated | GeneratorFailed]) -> list[Generated]:
    for item in made:
        if isinstance(item, GeneratorFailed):
            raise item
    return cast(list[Generated], list(made))


def solve(
    context: CheckContext, candidate: Candidate, inputs: Sequence[Generated], solutions: range
) -> list[list[JobResult]]:
    """results[i][k]: solution k on input i, all in one sandbox batch."""
    jobs = [
        Job(candidate.solutions[k], item.stdin, candidate.limits)
        for item in inputs
        for k in solutions
    ]
    flat = iter(context.sandbox.run_batch(jobs))
    return [[next(flat) for _ in solutions] for _ in inputs]


def _language(candidate: Candidate, k: int) -> str:
    return f"solution {k} ({candidate.solutions[k].language})"


def _failure(
    check: str, candidate: Candidate, k: int, item: Generated, result: JobResult, where: str
) -> CheckResult:
    reason = f"{_language(candidate, k)} ended with {result.status} {where}"
    feedback = (
        f"Check {check}: reference {reason} (exit code {result.exit_code}): "
        f"{_last_line(result)}\nParams: {json.dumps(dict(item.params))}\n"
        f"Input:\n{_quote(item.stdin)}\nA correct generator only makes inputs that satisfy "
        "every constraint of the statement, which the reference solutions rely on."
    )
    return CheckResult(check, False, reason, feedback)


def _agreement(
    check: str,
    context: CheckContext,
    candidate: Candidate,
    inputs: Sequence[Generated],
    results: Sequence[Sequence[JobResult]],
    where: Callable[[int], str],
) -> CheckResult | None:
    """A failing result when some solution fails, prints no valid answer, or disagrees."""
    verifier = context.plugins.get(VERIFIERS, candidate.output_type)
    for i, (item, row) in enumerate(zip(inputs, results, strict=True)):
        answers = []
        for k, result in enumerate(row):
            if not result.ok:
                return _failure(check, candidate, k, item, result, where(i))
            answer = canonical_answer(candidate.output_type, result.stdout)
            problem = answer_problem(candidate.output_type, answer)
            if problem:
                reason = f"{_language(candidate, k)}: {problem.split(': ', 1)[-1]} {where(i)}"
                feedback = f"Check {check}: {reason}\nInput:\n{_quote(item.stdin)}"
                return CheckResult(check, False, reason, feedback)
            answers.append(answer)
        for k in range(1, len(answers)):
            same, _ = verifier(answers[k], answers[0])
            if not same:
                reason = f"solutions 0 and {k} disagree {where(i)}"
                feedback = (
                    f"Check {check}: the reference solutions disagree {where(i)}, so the input "
                    "is outside what the problem allows or has several answers.\n"
                    f"Params: {json.dumps(dict(item.params))}\nInput:\n{_quote(item.stdin)}\n"
                    f"{_language(candidate, 0)} printed: {_quote(answers[0])}\n"
                    f"{_language(candidate, k)} printed: {_quote(answers[k])}"
                )
                return CheckResult(check, False, reason, feedback)
    return None


def _generator_failed(check: str, failure: GeneratorFailed) -> CheckResult:
    first = failure.detail.strip().splitlines()[-1][:300] if failure.detail.strip() else ""
    reason = f"the generator failed at params {json.dumps(dict(failure.params))}: {first}"
    feedback = (
        f"Check {check}: the generator raised an error for params "
        f"{json.dumps(dict(failure.params))}:\n{failure.detail}"
    )
    return CheckResult(check, False, reason, feedback)


def _seeds(rng: random.Random, n: int) -> list[int]:
    return [rng.getrandbits(32) for _ in range(n)]


def _random_requests(
    candidate: Candidate, context: CheckContext, check: str, n: int
) -> list[tuple[Mapping[str, int], int]]:
    """``n`` (params, seed) pairs at breadth scales, drawn for ``check``."""
    rng = _rng(context, candidate, check)
    cap = context.settings.breadth_cap
    return [(random_params(candidate.scale_params, rng, 0, cap), s) for s in _seeds(rng, n)]


def _on_trial(first: int, i: int) -> str:
    return f"on trial {first + i + 1}"


def _rounds(trials: int) -> list[tuple[int, int]]:
    """The trials breadth solves together, in order: the first BREADTH_FIRST_ROUND, then the
    rest. A generator the solutions disagree on (most of what an LLM first writes) is told so
    after a tenth of the runs; the first failing trial is the same as in one round."""
    cut = min(trials, BREADTH_FIRST_ROUND)
    return [(0, cut), (cut, trials)] if cut < trials else [(0, trials)]


def breadth(candidate: Candidate, context: CheckContext) -> CheckResult:
    """Random scales; every reference solution runs and all agree, on every trial."""
    requests = _random_requests(candidate, context, "breadth", context.settings.trials)
    try:
        inputs = generate(context, candidate, requests)
    except GeneratorFailed as failure:
        return _generator_failed("breadth", failure)
    results: list[list[JobResult]] = []
    for first, end in _rounds(len(inputs)):
        solved = solve(context, candidate, inputs[first:end], range(len(candidate.solutions)))
        failed = _agreement(
            "breadth",
            context,
            candidate,
            inputs[first:end],
            solved,
            partial(_on_trial, first),
        )
        if failed:
            return failed
        results += solved
    runtimes = [r.cpu_s for row in results for r in row]
    return CheckResult(
        "breadth",
        True,
        details={
            "trials": len(inputs),
            "solutions": len(candidate.solutions),
            "max_cpu_s": max(runtimes, default=0.0),
        },
    )


def depth(candidate: Candidate, context: CheckContext) -> CheckResult:
    """One scale, many seeds: the first solution's outputs must be diverse."""
    settings = context.settings
    rng = _rng(context, candidate, "depth")
    params = random_params(candidate.scale_params, rng, settings.depth_floor, settings.depth_cap)
    try:
        inputs = generate(
            context, candidate, [(params, s) for s in _seeds(rng, settings.depth_runs)]
        )
    except GeneratorFailed as failure:
        return _generator_failed("depth", failure)
    results = solve(context, candidate, inputs, range(1))
    answers = []
    for i, (item, (result,)) in enumerate(zip(inputs, results, strict=True)):
        if not result.ok:
            return _failure("depth", candidate, 0, item, result, f"on run {i + 1}")
        answers.append(canonical_answer(candidate.output_type, result.stdout))
    counts = Counter(answers)
    common, times = counts.most_common(1)[0]
    share = times / len(answers)
    details = {"params": params, "runs": len(answers), "distinct": len(counts), "top_share": share}
    problems = []
    if len(counts) < settings.min_distinct:
        problems.append(
            f"{len(counts)} distinct outputs in {len(answers)} runs "
            f"(at least {settings.min_distinct} needed)"
        )
    if share > settings.max_share:
        problems.append(
            f"{_quote(common)[:60]!r} on {share:.0%} of runs (at most {settings.max_share:.0%})"
        )
    if not problems:
        return CheckResult("depth", True, details=details)
    reason = "; ".join(problems)
    feedback = (
        f"Check depth: at params {json.dumps(params)}, over {len(answers)} random inputs the "
        f"first reference solution gave {reason}. The answers must vary: draw the values so "
        f"that different inputs have different answers.\nThe most common answer: "
        f"{_quote(common)}\nAn input that gives it:\n{_quote(inputs[answers.index(common)].stdin)}"
    )
    return CheckResult("depth", False, reason, feedback, details)


def minimum(candidate: Candidate, context: CheckContext) -> CheckResult:
    """Every parameter at its minimum: all solutions run and agree."""
    rng = _rng(context, candidate, "min")
    params = {p.name: p.min for p in candidate.scale_params}
    try:
        inputs = generate(context, candidate, [(params, s) for s in _seeds(rng, 3)])
    except GeneratorFailed as failure:
        return _generator_failed("min", failure)
    results = solve(context, candidate, inputs, range(len(candidate.solutions)))
    failed = _agreement(
        "min", context, candidate, inputs, results, lambda i: "with every parameter at its min"
    )
    return failed or CheckResult("min", True, details={"params": params})


def determinism(candidate: Candidate, context: CheckContext) -> CheckResult:
    """The same (params, seed) twice gives the same input: instances can be replayed."""
    seeds = context.settings.determinism_seeds
    requests = _random_requests(candidate, context, "determinism", seeds)
    try:
        first = generate(context, candidate, requests)
        second = generate(context, candidate, requests)
    except GeneratorFailed as failure:
        return _generator_failed("determinism", failure)
    for a, b in zip(first, second, strict=True):
        if (a.stdin, a.shown) != (b.stdin, b.shown):
            reason = f"params {json.dumps(dict(a.params))} and one seed gave two different inputs"
            feedback = (
                f"Check determinism: {reason}. Draw every random value from rng (the "
                "random.Random passed in), never from the module random or the clock.\n"
                f"First:\n{_quote(a.stdin)}\nSecond:\n{_quote(b.stdin)}"
            )
            return CheckResult("determinism", False, reason, feedback)
    return CheckResult("determinism", True, details={"seeds": len(requests)})


def budget(candidate: Candidate, context: CheckContext) -> CheckResult:
    """At the top level the input fits the prompt budget and the solutions the time limit.

    Inputs are random, so their size is measured on the seeds calibration measures: a table
    calibrated for this budget passes, a stale or foreign one is caught.
    """
    if not candidate.levels:
        return CheckResult("budget", False, "no level table: calibrate first")
    settings = context.settings
    top = candidate.levels[-1]
    params = {p.name: p.value_at(top) for p in candidate.scale_params}
    try:
        inputs = generate(context, candidate, [(params, s) for s in CALIBRATION_SEEDS])
    except GeneratorFailed as failure:
        return _generator_failed("budget", failure)
    sizes = [context.measure({"stdin": g.stdin, "shown_input": g.shown}) for g in inputs]
    details: dict[str, Any] = {"params": params, "max_size": max(sizes), "budget": settings.budget}
    if max(sizes) > settings.budget:
        reason = f"the top level's input measures {max(sizes)}, over the budget {settings.budget}"
        return CheckResult("budget", False, reason, f"Check budget: {reason}", details)
    results = solve(context, candidate, inputs, range(len(candidate.solutions)))
    for item, row in zip(inputs, results, strict=True):
        for k, result in enumerate(row):
            if not result.ok:
                return _failure("budget", candidate, k, item, result, "at the top level")
    runtimes = [r.cpu_s for row in results for r in row]
    details["max_cpu_s"] = max(runtimes)
    details["median_cpu_s"] = statistics.median(runtimes)
    return CheckResult("budget", True, details=details)


#: The core's checks: the method's three, then determinism and budget.
CORE_CHECKS: dict[str, Check] = {
    "breadth": breadth,
    "depth": depth,
    "min": minimum,
    "determinism": determinism,
    "budget": budget,
}


def run_checks(
    candidate: Candidate, context: CheckContext, names: Sequence[str]
) -> list[CheckResult]:
    """Run the named checks in order, stopping at the first failure."""
    results = []
    for name in names:
        result = context.plugins.get(CHECKS, name)(candidate, context)
        results.append(result)
        if not result.ok:
            break
    return results
