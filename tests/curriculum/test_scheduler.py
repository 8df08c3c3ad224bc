from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

import attrs
import pytest

from scaler import hookimpl
from scaler.curriculum.config import CurriculumConfig
from scaler.curriculum.curation import INSTANCE_FAILURE
from scaler.curriculum.scheduler import (
    RolloutResult,
    Scheduler,
    StepPlan,
    StepReport,
    instance_seed,
    split_batch,
)
from scaler.errors import ConfigError, ScalerError
from scaler.instances import InstanceFactory
from scaler.model import EnvSpec, Program, ScaleParam
from scaler.plugins import Plugins
from tests.test_instances import DOUBLE
from tests.test_model import make_env


def _env(env_id: str, levels: int = 12) -> EnvSpec:
    return attrs.evolve(
        DOUBLE,
        id=env_id,
        scale_params=(ScaleParam("n", 1, 10_000),),
        levels=tuple(range(0, levels * 10, 10)),
    )


ENVS = [_env(f"env-{i}") for i in range(6)]
BROKEN = make_env(
    id="broken",
    generator=Program("python", "def generate(params, rng):\n    raise RuntimeError('no')\n"),
)


def _scheduler(
    sandbox: Any, plugins: Plugins, envs: Sequence[EnvSpec] = ENVS, **config: Any
) -> Scheduler:
    options = {"batch_size": 6, "curation_options": {"window": 3}, **config}
    return Scheduler(envs, CurriculumConfig(**options), InstanceFactory(sandbox, plugins), plugins)


def _answer(plan: StepPlan, right: int, of: int = 4) -> list[RolloutResult]:
    """``right`` of ``of`` rollouts correct for every group."""
    return [
        RolloutResult(g.env_id, g.level, g.seed, 1.0 if i < right else 0.0)
        for g in plan.groups
        for i in range(of)
    ]


def test_split_batch_is_even_and_rotates() -> None:
    active = ["a", "b", "c"]
    assert split_batch(7, active, 1) == {"a": 2, "b": 3, "c": 2}
    assert split_batch(7, active, 2) == {"a": 2, "b": 2, "c": 3}
    assert sum(split_batch(64, [str(i) for i in range(10)], 5).values()) == 64
    assert split_batch(2, active, 0) == {"a": 1, "b": 1, "c": 0}


def test_step_plans_levels_and_updates_controllers(sandbox: Any, plugins: Plugins) -> None:
    scheduler = _scheduler(sandbox, plugins)
    try:
        plan = scheduler.next_step()
        assert plan.step == 1 and len(plan.active) == 3 and set(plan.added) == set(plan.active)
        assert len(plan.groups) == 6 and {g.level for g in plan.groups} == {0}
        for group in plan.groups:
            assert group.instance.env_id == group.env_id and group.instance.level == group.level
            assert group.seed == group.instance.seed
        report = scheduler.report(_answer(plan, right=4))
        assert report.mean_accuracy == 1.0 and report.informative_fraction == 0.0
        for env_id in plan.active:
            stats = report.envs[env_id]
            assert (stats.difficulty_before, stats.difficulty) == (0.0, 1.0)
            assert (stats.rollouts, stats.prompts, stats.accuracy) == (8, 2, 1.0)
        plan = scheduler.next_step()
        assert {g.level for g in plan.groups} == {1}
        report = scheduler.report(_answer(plan, right=2))
        assert report.informative_fraction == 1.0
        assert all(s.difficulty == 1.0 for s in report.envs.values())
    finally:
        scheduler.close()


def test_report_checks_its_input(sandbox: Any, plugins: Plugins) -> None:
    scheduler = _scheduler(sandbox, plugins)
    try:
        with pytest.raises(ScalerError, match="next_step"):
            scheduler.report([])
        plan = scheduler.next_step()
        with pytest.raises(ScalerError, match="planned but"):
            scheduler.next_step()
        group = plan.groups[0]
        with pytest.raises(ScalerError, match="not a group of this step"):
            scheduler.report([RolloutResult(group.env_id, group.level, group.seed + 1, 1.0)])
        partial = scheduler.report([RolloutResult(group.env_id, group.level, group.seed, 1.0)])
        assert set(partial.envs) == set(plan.active)
        unscored = [e for e in plan.active if e != group.env_id]
        assert all(partial.envs[e].accuracy is None for e in unscored)
        assert all(partial.envs[e].difficulty == 0.0 for e in unscored)
    finally:
        scheduler.close()


def test_names_resolve_through_the_registries(sandbox: Any, plugins: Plugins) -> None:
    with pytest.raises(ConfigError, match=r"'controller\.name': unknown controller 'nope'"):
        _scheduler(sandbox, plugins, controller="nope")
    with pytest.raises(ConfigError, match=r"curation\.window"):
        _scheduler(sandbox, plugins, curation_options={"window": 0})
    with pytest.raises(ConfigError, match=r"'controller\.tau'"):
        _scheduler(sandbox, plugins, controller_options={"tau": 3})
    with pytest.raises(ConfigError, match="does not take"):
        _scheduler(sandbox, plugins, controller_options={"speed": 3})


def test_unbuildable_env_is_retired_with_the_error(sandbox: Any, plugins: Plugins) -> None:
    envs = [BROKEN, *ENVS[:3]]
    scheduler = _scheduler(sandbox, plugins, envs, curation="all", curation_options={})
    try:
        plan = scheduler.next_step()
        assert "broken" in plan.active
        assert {g.env_id for g in plan.groups} == {e.id for e in ENVS[:3]}
        scheduler.report(_answer(plan, right=2))
        plan = scheduler.next_step()
        (retired,) = plan.retired
        assert (retired.env_id, retired.reason) == ("broken", INSTANCE_FAILURE)
        assert "RuntimeError: no" in retired.detail
        assert "broken" not in plan.active
    finally:
        scheduler.close()


def _drive(
    scheduler: Scheduler, steps: int, pattern: Sequence[int], think_s: float = 0.0
) -> list[dict[str, Any]]:
    """Steps with ``pattern[i]`` of 4 rollouts right; ``think_s`` stands for rollout time."""
    reports = []
    for _ in range(steps):
        plan = scheduler.next_step()
        time.sleep(think_s)
        right = pattern[(plan.step - 1) % len(pattern)]
        report = scheduler.report(_answer(plan, right=right))
        data = report.to_dict()
        data.pop("instance_wait_s"), data.pop("step_s")
        data["instances"] = [g.instance.to_dict() for g in plan.groups]
        reports.append(data)
    return reports


def test_restored_scheduler_continues_identically(sandbox: Any, plugins: Plugins) -> None:
    pattern = [4, 4, 3, 0, 0, 0, 0, 0, 4, 1]
    whole = _scheduler(sandbox, plugins)
    try:
        expected = _drive(whole, 16, pattern)
        final = whole.state().to_json()
    finally:
        whole.close()
    first = _scheduler(sandbox, plugins)
    try:
        got = _drive(first, 7, pattern)
        saved = json.loads(first.state().to_json())
    finally:
        first.close()
    from scaler.curriculum.state import CurriculumState

    config = CurriculumConfig(batch_size=6, curation_options={"window": 3})
    factory = InstanceFactory(sandbox, plugins)
    second = Scheduler(ENVS, config, factory, plugins, CurriculumState.from_dict(saved))
    try:
        got += _drive(second, 9, pattern)
        assert second.state().to_json() == final
    finally:
        second.close()
    assert got == expected
    assert any(r["retired"] for r in expected), "the pattern should make envs retire"


def test_prefetch_does_not_change_the_run(sandbox: Any, plugins: Plugins) -> None:
    runs = []
    for prefetch in (True, False):
        scheduler = _scheduler(sandbox, plugins, prefetch=prefetch)
        try:
            runs.append(_drive(scheduler, 6, [4, 3, 1], think_s=0.3))
            hits = scheduler.buffer.hits
        finally:
            scheduler.close()
        assert (hits > 0) == prefetch
    assert runs[0] == runs[1]


def test_restore_refuses_a_changed_pool(sandbox: Any, plugins: Plugins) -> None:
    scheduler = _scheduler(sandbox, plugins)
    state = scheduler.state()
    scheduler.close()
    changed = [attrs.evolve(ENVS[0], statement="other"), *ENVS[1:]]
    factory = InstanceFactory(sandbox, plugins)
    config = CurriculumConfig(batch_size=6, curation_options={"window": 3})
    with pytest.raises(ScalerError, match="changed env-0"):
        Scheduler(changed, config, factory, plugins, state)
    with pytest.raises(ScalerError, match="missing env-5"):
        Scheduler(ENVS[:5], config, factory, plugins, state)
    other = attrs.evolve(config, controller="elo")
    with pytest.raises(ConfigError, match="saved curriculum used controller 'scaler'"):
        Scheduler(ENVS, other, factory, plugins, state)


def test_instance_seeds_differ_by_step_env_and_slot() -> None:
    seeds = {
        instance_seed(0, step, env, slot) for step in (1, 2) for env in "ab" for slot in (0, 1)
    }
    assert len(seeds) == 8
    assert instance_seed(0, 1, "a", 0) != instance_seed(1, 1, "a", 0)
    assert instance_seed(0, 1, "a", 0) != instance_seed(0, 1, "a", 0, attempt=1)


class Observer:
    def __init__(self) -> None:
        self.steps: list[StepReport] = []
        self.retired: list[tuple[str, str, int]] = []

    @hookimpl
    def scaler_step_end(self, report: StepReport) -> None:
        self.steps.append(report)

    @hookimpl
    def scaler_env_retired(self, env_id: str, reason: str, step: int) -> None:
        self.retired.append((env_id, reason, step))


def test_observer_hooks_fire_on_step_end_and_retirement(sandbox: Any) -> None:
    plugins = Plugins.load(environ={})
    observer = Observer()
    plugins.register(observer, "observer")
    scheduler = _scheduler(sandbox, plugins, curation_options={"window": 3, "k_zero": 2})
    try:
        _drive(scheduler, 3, [0])
    finally:
        scheduler.close()
    assert [r.step for r in observer.steps] == [1, 2, 3]
    assert len(observer.retired) == 3
    assert {(reason, step) for _, reason, step in observer.retired} == {("zero-accuracy", 3)}
    assert {env for env, _, _ in observer.retired} == set(observer.steps[0].active)
