"""Imported official environments produce the answers the official solutions print."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from scaler.instances import InstanceFactory, Request
from scaler.official_pool import import_official
from scaler.plugins import Plugins
from scaler.pool import load_pool, write_pool
from scaler.sandbox.jobs import Job
from scaler.verify import VERIFIERS
from tests.conftest import OFFICIAL_POOL, require_shared

#: A defect of the official data, not of the import: this generator may end the buyer list with
#: "half", which the problem's guarantee rules out (no apples left at the end), and on such
#: inputs 3 of its 10 reference solutions (which assume "halfplus" last) print other numbers.
#: There the answer must still be the majority's; everywhere else, every solution must agree.
GUARANTEE_BROKEN_BY_GENERATOR = {"632_a-grandma-laura-and-apples"}


@pytest.fixture(scope="module")
def official_envs() -> list[Any]:
    return list(import_official(require_shared(OFFICIAL_POOL)).envs)


def test_answers_match_the_official_solutions(
    official_envs: list[Any], sandbox: Any, plugins: Plugins
) -> None:
    requests = [
        Request(env, level, seed=3)
        for env in official_envs
        for level in sorted({0, env.max_level // 2, env.max_level})
    ]
    instances = InstanceFactory(sandbox, plugins).make(requests)
    jobs = [
        Job(solution, instance.stdin, request.env.limits)
        for request, instance in zip(requests, instances, strict=True)
        for solution in request.env.solutions
    ]
    results = iter(sandbox.run_batch(jobs))
    verifiers = plugins.registry(VERIFIERS)
    problems = []
    for request, instance in zip(requests, instances, strict=True):
        verifier = verifiers[instance.output_type].obj
        agree: Counter[bool] = Counter()
        for index, _solution in enumerate(request.env.solutions):
            result = next(results)
            where = f"{instance.env_id} level {instance.level} solution {index}"
            if not result.ok:
                problems.append(f"{where}: {result.status} {result.stderr[:200]}")
                continue
            same, reason = verifier(result.stdout, instance.answer)
            agree[same] += 1
            if not same and instance.env_id not in GUARANTEE_BROKEN_BY_GENERATOR:
                problems.append(f"{where}: {reason}")
        if agree[True] <= agree[False]:
            problems.append(f"{instance.env_id} level {instance.level}: not the majority answer")
    assert not problems, problems


def test_imported_pool_round_trips_through_a_file(official_envs: list[Any], tmp_path: Path) -> None:
    write_pool(official_envs, tmp_path / "p.jsonl")
    assert load_pool(tmp_path / "p.jsonl") == official_envs
