from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import attrs
import pytest

from scaler.model import Limits, Program, ScaleParam
from scaler.plugins import Plugins
from scaler.sandbox.jobs import Job, JobResult
from scaler.synth import checks
from scaler.synth.checks import (
    BREADTH_FIRST_ROUND,
    CHECKS,
    Candidate,
    CheckContext,
    CheckSettings,
    random_params,
    run_checks,
)

DOUBLE_GEN = Program(
    "python",
    "def generate(params, rng):\n"
    "    x = rng.randint(1, params['n'] * 10)\n"
    "    return f'{x}\\n', {'x': x}\n",
)
DOUBLE_PY = Program("python", "print(2 * int(input()))")
DOUBLE_CPP = Program(
    "cpp", "#include <iostream>\nint main(){long long x; std::cin >> x; std::cout << 2 * x;}\n"
)
GOOD = Candidate(
    "double",
    "number",
    (ScaleParam("n", 1, 100_000),),
    DOUBLE_GEN,
    (DOUBLE_PY, DOUBLE_CPP, Program("python", "x = int(input())\nprint(x + x)")),
    limits=Limits(cpu_s=2.0, wall_s=5.0),
)


@pytest.fixture(scope="module")
def context(sandbox: Any, plugins: Plugins) -> CheckContext:
    return CheckContext(sandbox, plugins, CheckSettings(trials=12, depth_runs=30))


def _one(name: str, candidate: Candidate, context: CheckContext):  # type: ignore[no-untyped-def]
    return context.plugins.get(CHECKS, name)(candidate, context)


def test_a_good_candidate_passes_every_check(context: CheckContext) -> None:
    calibrated = attrs.evolve(
        GOOD, scale_params=(ScaleParam("n", 1, 100_000, 10.0),), levels=(0, 5)
    )
    results = run_checks(calibrated, context, ["determinism", "min", "breadth", "depth", "budget"])
    assert [(r.check, r.ok) for r in results] == [
        ("determinism", True), ("min", True), ("breadth", True), ("depth", True), ("budget", True),
    ]  # fmt: skip
    depth = results[3].details
    assert depth["distinct"] >= 10 and 100 <= depth["params"]["n"] <= 10_000
    assert results[2].details["trials"] == 12


def test_a_crashing_generator_fails_with_its_error(context: CheckContext) -> None:
    crash = attrs.evolve(
        GOOD, generator=Program("python", "def generate(params, rng):\n    return undefined\n")
    )
    result = _one("breadth", crash, context)
    assert not result.ok and "the generator failed" in result.reason
    assert "NameError" in result.reason and "NameError" in result.feedback


def test_disagreeing_solutions_fail_breadth_with_both_outputs(context: CheckContext) -> None:
    wrong = Program("python", "x = int(input())\nprint(2 * x + (x > 300))")
    result = _one("breadth", attrs.evolve(GOOD, solutions=(DOUBLE_PY, wrong)), context)
    assert not result.ok and "solutions 0 and 1 disagree" in result.reason
    assert "solution 0 (python) printed" in result.feedback and "Input:" in result.feedback


def test_a_failing_solution_names_its_status(context: CheckContext) -> None:
    crashing = Program("python", "x = int(input())\nassert x < 200\nprint(2 * x)")
    result = _one("breadth", attrs.evolve(GOOD, solutions=(DOUBLE_PY, crashing)), context)
    assert not result.ok and "solution 1 (python) ended with runtime-error" in result.reason


def test_constant_outputs_fail_depth(context: CheckContext) -> None:
    constant = attrs.evolve(
        GOOD, generator=Program("python", "def generate(params, rng):\n    return '3\\n', {}\n")
    )
    result = _one("depth", constant, context)
    assert not result.ok
    assert "1 distinct outputs in 30 runs" in result.reason and "100%" in result.reason


def test_nondeterminism_fails(context: CheckContext) -> None:
    noisy = attrs.evolve(
        GOOD,
        generator=Program(
            "python",
            "import os\ndef generate(params, rng):\n"
            "    x = int.from_bytes(os.urandom(4), 'big')\n    return f'{x}\\n', {'x': x}\n",
        ),
    )
    result = _one("determinism", noisy, context)
    assert not result.ok and "two different inputs" in result.reason


def test_the_module_random_is_seeded_too(context: CheckContext) -> None:
    module_random = attrs.evolve(
        GOOD,
        generator=Program(
            "python",
            "import random\ndef generate(params, rng):\n"
            "    x = random.randint(1, 10**9)\n    return f'{x}\\n', {'x': x}\n",
        ),
    )
    assert _one("determinism", module_random, context).ok
    assert _one("depth", module_random, context).ok


def test_min_uses_every_minimum(context: CheckContext) -> None:
    result = _one("min", GOOD, context)
    assert result.ok and result.details["params"] == {"n": 1}


def test_budget_needs_levels_and_measures_the_top(context: CheckContext) -> None:
    assert "calibrate first" in _one("budget", GOOD, context).reason
    big = attrs.evolve(
        GOOD,
        generator=Program(
            "python", "def generate(params, rng):\n    return '1\\n' + 'x' * params['n'], {}\n"
        ),
        scale_params=(ScaleParam("n", 1, 100_000, 1.0),),
        levels=(0, 5000),
    )
    result = _one("budget", big, context)
    assert not result.ok and "over the budget 2048" in result.reason


def test_random_params_stay_within_each_parameter() -> None:
    import random

    rng = random.Random(0)
    params = (ScaleParam("small", 1, 40), ScaleParam("big", 20_000, 50_000))
    for _ in range(50):
        depth = random_params(params, rng, 100, 10_000)
        assert depth["small"] == 40 and depth["big"] == 20_000
        breadth = random_params(params, rng, 0, 1000)
        assert 1 <= breadth["small"] <= 40 and breadth["big"] == 20_000


class CountingSandbox:
    """The test sandbox, counting the jobs of each program it is given."""

    def __init__(self, sandbox: Any) -> None:
        self.sandbox = sandbox
        self.runs: Counter[Program] = Counter()

    def run_batch(self, jobs: Sequence[Job]) -> list[JobResult]:
        self.runs.update(job.program for job in jobs)
        results: list[JobResult] = self.sandbox.run_batch(jobs)
        return results


def test_breadth_stops_after_its_first_round_when_that_fails(context: CheckContext) -> None:
    counting = CountingSandbox(context.sandbox)
    wide = attrs.evolve(context, sandbox=counting, settings=CheckSettings(trials=30))
    wrong = Program("python", "print(2 * int(input()) + 1)")
    result = _one("breadth", attrs.evolve(GOOD, solutions=(DOUBLE_PY, wrong)), wide)
    assert not result.ok and result.reason == "solutions 0 and 1 disagree on trial 1"
    assert counting.runs[wrong] == counting.runs[DOUBLE_PY] == BREADTH_FIRST_ROUND < 30


def test_a_failure_in_breadths_second_round_is_the_one_a_single_round_finds(
    context: CheckContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    wide = attrs.evolve(context, settings=CheckSettings(trials=40))
    drawn = checks.generate(wide, GOOD, checks._random_requests(GOOD, wide, "breadth", 40))
    values = [int(item.stdin) for item in drawn]
    trial = next(i for i in range(BREADTH_FIRST_ROUND, 40) if values[i] not in values[:i])
    wrong = Program("python", f"x = int(input())\nprint(2 * x + (x == {values[trial]}))")
    candidate = attrs.evolve(GOOD, solutions=(DOUBLE_PY, wrong))
    in_rounds = _one("breadth", candidate, wide)
    assert in_rounds.reason == f"solutions 0 and 1 disagree on trial {trial + 1}"
    monkeypatch.setattr(checks, "BREADTH_FIRST_ROUND", 40)
    assert _one("breadth", candidate, wide) == in_rounds
