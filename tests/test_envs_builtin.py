"""The builtin pack: enough environments, of every output type, correct and calibrated."""

from __future__ import annotations

import json
from typing import Any

from scaler.calibration import calibrate_envs
from scaler.instances import InstanceFactory, Request
from scaler.model import ENVIRONMENTS, EnvSpec
from scaler.plugins import Plugins
from scaler.sandbox.jobs import Job
from scaler.verify import VERIFIERS
from scaler_envs_builtin import ENVS_DIR, LEVELS_FILE, builtin_envs, read_env

SEEDS = range(6)


def spread(env: EnvSpec) -> list[int]:
    top = env.max_level
    return sorted({0, top // 4, top // 2, (3 * top) // 4, top})


def test_pack_size_and_mix() -> None:
    envs = builtin_envs()
    assert len(envs) >= 24
    assert {e.output_type for e in envs} == {"number", "array", "string"}
    for env in envs:
        assert [s.language for s in env.solutions] == ["python", "cpp"], env.id
        assert env.statement and env.output_spec and env.scale_params, env.id
        assert "stdin" not in env.statement.lower(), env.id


def test_registered_through_the_entry_point(plugins: Plugins) -> None:
    registered = plugins.registry(ENVIRONMENTS)
    for env in builtin_envs():
        assert registered[env.id].plugin == "builtin-envs"


def test_reference_solutions_agree_at_every_spread_level(sandbox: Any, plugins: Plugins) -> None:
    requests = [
        Request(env, lvl, s) for env in builtin_envs() for lvl in spread(env) for s in SEEDS
    ]
    instances = InstanceFactory(sandbox, plugins).make(requests)
    jobs = [
        Job(solution, instance.stdin, request.env.limits)
        for request, instance in zip(requests, instances, strict=True)
        for solution in request.env.solutions[1:]
    ]
    results = iter(sandbox.run_batch(jobs))
    verifiers = plugins.registry(VERIFIERS)
    disagreements = []
    for request, instance in zip(requests, instances, strict=True):
        for solution in request.env.solutions[1:]:
            result = next(results)
            where = f"{instance.env_id} L{instance.level} seed {instance.seed} {solution.language}"
            if not result.ok:
                disagreements.append(f"{where}: {result.status} {result.stderr[-200:]}")
                continue
            same, reason = verifiers[instance.output_type].obj(result.stdout, instance.answer)
            if not same:
                disagreements.append(f"{where}: {reason}")
    assert not disagreements, disagreements


def test_answers_vary_at_the_top_level(sandbox: Any, plugins: Plugins) -> None:
    envs = builtin_envs()
    requests = [Request(env, env.max_level, s) for env in envs for s in range(8)]
    instances = InstanceFactory(sandbox, plugins).make(requests)
    answers: dict[str, set[str]] = {}
    for instance in instances:
        answers.setdefault(instance.env_id, set()).add(instance.answer)
    constant = sorted(env_id for env_id, seen in answers.items() if len(seen) == 1)
    assert not constant, f"same answer for 8 seeds: {constant}"


def test_level_tables_match_a_fresh_calibration(sandbox: Any) -> None:
    envs = [read_env(d) for d in sorted(ENVS_DIR.iterdir()) if (d / "env.toml").is_file()]
    stored = json.loads(LEVELS_FILE.read_text())
    fresh = {c.env_id: list(c.levels) for c in calibrate_envs(envs, sandbox)}
    assert fresh == stored


def test_statements_are_not_hard_wrapped() -> None:
    for env in builtin_envs():
        for paragraph in (*env.statement.split("\n\n"), *env.output_spec.split("\n\n")):
            assert "\n" not in paragraph and paragraph == paragraph.strip(), env.id
