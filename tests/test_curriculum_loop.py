from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from scaler import write_pool
from scaler.config import Component, RunConfig
from scaler.curriculum.config import CurriculumConfig
from scaler.curriculum.controllers import CONTROLLERS, ScalerController
from scaler.curriculum.curation import ScalerWindow
from scaler.curriculum.scheduler import (
    RolloutResult,
    Scheduler,
    StepPlan,
    StepReport,
)
from scaler.curriculum_loop import Curriculum, Step
from scaler.errors import ConfigError, PoolError, ScalerError, UnknownName
from scaler.instances import InstanceFactory
from scaler.plugins import Plugins
from scaler.sandbox.jobs import Job
from scaler.sandbox.pool import SandboxClosed
from tests.curriculum.test_scheduler import ENVS

OPTIONS: dict[str, Any] = {"batch_size": 6, "seed": 3, "curation_options": {"window": 3}}
ROLLOUTS = 4


def _curriculum(sandbox: Any, plugins: Plugins, **changes: Any) -> Curriculum:
    return Curriculum(ENVS, sandbox=sandbox, plugins=plugins, **{**OPTIONS, **changes})


def _correct(seed: int) -> list[bool]:
    """A fixed, varied answer pattern per prompt, so levels move both ways."""
    return [bool(seed >> i & 1) for i in range(ROLLOUTS)]


def _results(step: Step) -> list[list[bool]]:
    return [_correct(prompt.seed) for prompt in step.prompts]


def _plan(plan: StepPlan) -> tuple[Any, ...]:
    return (
        plan.step,
        plan.active,
        plan.added,
        plan.retired,
        [(g.env_id, g.level, g.seed, g.instance) for g in plan.groups],
    )


def _report(report: StepReport) -> dict[str, Any]:
    data = report.to_dict()
    del data["instance_wait_s"], data["step_s"]
    return data


def _drive(curriculum: Curriculum, steps: int) -> list[tuple[Any, dict[str, Any]]]:
    done = []
    for _ in range(steps):
        step = curriculum.next_step()
        done.append((_plan(step.plan), _report(curriculum.report(_results(step)))))
    return done


def test_plans_and_reports_are_the_schedulers(sandbox: Any, plugins: Plugins) -> None:
    config = CurriculumConfig(batch_size=6, seed=3, curation_options={"window": 3})
    scheduler = Scheduler(ENVS, config, InstanceFactory(sandbox, plugins), plugins)
    expected = []
    try:
        for _ in range(6):
            plan = scheduler.next_step()
            results = [
                RolloutResult(g.env_id, g.level, g.seed, float(acc))
                for g in plan.groups
                for acc in _correct(g.seed)
            ]
            expected.append((_plan(plan), _report(scheduler.report(results))))
    finally:
        scheduler.close()
    with _curriculum(sandbox, plugins) as curriculum:
        done = _drive(curriculum, 6)
        assert curriculum.step == 6
    assert done == expected
    levels = {level for plan, _ in done for _, level, _, _ in plan[4]}
    assert len(levels) > 1, "the answers should have moved some difficulty"


def test_prompts_carry_chat_messages_and_their_instance(sandbox: Any, plugins: Plugins) -> None:
    with _curriculum(sandbox, plugins) as curriculum:
        step = curriculum.next_step()
        assert step.number == 1 and len(step.prompts) == 6
        for prompt, group in zip(step.prompts, step.plan.groups, strict=True):
            assert prompt.instance is group.instance
            assert (prompt.env_id, prompt.level, prompt.seed) == (
                group.env_id,
                group.level,
                group.seed,
            )
            assert [m["role"] for m in prompt.messages] == ["system", "user"]
            prompt.messages[0]["content"] = "changed"
            assert prompt.messages == [dict(m) for m in prompt.instance.messages]
        prompt = step.prompts[0]
        right = curriculum.score(f"so \\boxed{{{prompt.instance.answer}}}", prompt)
        wrong = curriculum.score("\\boxed{-1}", prompt.instance)
        assert right.correct and right.score == 1.0
        assert not wrong.correct and wrong.score == -1.0


def test_factories_are_accepted_and_named_in_the_state(sandbox: Any, plugins: Plugins) -> None:
    with _curriculum(sandbox, plugins) as by_name:
        expected = _drive(by_name, 3)
    with _curriculum(
        sandbox, plugins, controller=ScalerController, curation=ScalerWindow
    ) as by_object:
        assert _drive(by_object, 3) == expected
        state = by_object.state()
    assert state["controller"]["name"] == "scaler.curriculum.controllers.ScalerController"
    assert state["curation"] == {
        "name": "scaler.curriculum.curation.ScalerWindow",
        "options": {"window": 3},
    }
    assert "scaler.curriculum.controllers.ScalerController" not in plugins.registry(CONTROLLERS)
    with pytest.raises(ConfigError, match="must be a name or a factory") as error:
        _curriculum(sandbox, plugins, curation=3)
    assert error.value.field == "curation"


def test_state_restores_the_same_future(sandbox: Any, plugins: Plugins) -> None:
    with _curriculum(sandbox, plugins) as uninterrupted:
        done = _drive(uninterrupted, 3)
        saved = json.dumps(uninterrupted.state())
        done += _drive(uninterrupted, 4)
    with _curriculum(sandbox, plugins) as restored:
        restored.next_step()
        restored.restore(json.loads(saved))
        assert restored.step == 3
        assert _drive(restored, 4) == done[3:]


def test_restore_refuses_another_seed_or_controller(sandbox: Any, plugins: Plugins) -> None:
    with _curriculum(sandbox, plugins) as curriculum:
        _drive(curriculum, 1)
        state = curriculum.state()
    with _curriculum(sandbox, plugins, seed=4) as other, pytest.raises(ConfigError) as error:
        other.restore(state)
    assert error.value.field == "seed"
    with (
        _curriculum(sandbox, plugins, controller="elo") as other,
        pytest.raises(ConfigError, match="controller 'scaler'"),
    ):
        other.restore(state)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"controller": "nosuch"}, "controller.name"),
        ({"curation": "nosuch"}, "curation.name"),
        ({"prompt": "nosuch"}, "prompt.name"),
        ({"controller_options": {"tau": 2}}, "controller.tau"),
        ({"controller_options": {"nosuch": 1}}, "controller"),
        ({"batch_size": 0}, "batch_size"),
    ],
)
def test_bad_names_and_options_name_the_field(
    sandbox: Any, plugins: Plugins, changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(ConfigError) as error:
        _curriculum(sandbox, plugins, **changes)
    assert error.value.field == field


def test_bad_pools_name_the_field(sandbox: Any, plugins: Plugins, tmp_path: Path) -> None:
    cases: list[tuple[Any, dict[str, Any], str]] = [
        ([ENVS[0], "pool.jsonl"], {}, "pool"),
        ([], {}, "pool"),
        ([ENVS[0], ENVS[0]], {}, "pool[1]"),
        (ENVS, {"envs": ["env-0"]}, "pool.envs"),
        (None, {"envs": ["nosuch"]}, "pool.envs"),
    ]
    for pool, changes, field in cases:
        with pytest.raises(ConfigError) as error:
            Curriculum(pool, sandbox=sandbox, plugins=plugins, **changes)
        assert error.value.field == field, pool
    with pytest.raises(PoolError, match="does not exist"):
        Curriculum(tmp_path / "none.jsonl", sandbox=sandbox, plugins=plugins)


def test_a_sandbox_made_by_name_is_closed_a_given_one_is_not(
    sandbox: Any, plugins: Plugins
) -> None:
    job = Job(ENVS[0].solutions[0], "1\n")
    with _curriculum("process", plugins, sandbox_options={"workers": 1}) as owner:
        owned = owner.sandbox
        assert owned is not sandbox and owned.run_batch([job])[0].stdout == "2\n"
    with pytest.raises(SandboxClosed):
        owned.run_batch([job])
    with _curriculum(sandbox, plugins):
        pass
    assert sandbox.run_batch([job])[0].ok
    with pytest.raises(ConfigError) as error:
        _curriculum("nosuch", plugins)
    assert error.value.field == "sandbox.name"
    with pytest.raises(ConfigError, match="'process' does not take these options") as error:
        _curriculum("process", plugins, sandbox_options={"nosuch": 1})
    assert error.value.field == "sandbox"
    with pytest.raises(ConfigError, match="must be a whole number >= 1, got 0") as error:
        _curriculum("process", plugins, sandbox_options={"workers": 0})
    assert error.value.field == "sandbox.workers"
    with pytest.raises(ConfigError, match="sandbox made by name") as error:
        _curriculum(sandbox, plugins, sandbox_options={"workers": 1})
    assert error.value.field == "sandbox"


@pytest.mark.parametrize(
    ("results", "message"),
    [
        (lambda step: _results(step)[:-1], "step 1 has 6 prompts, got results for 5"),
        (lambda step: [0.5] * 6, r"prompt 0: expected each rollout's correctness \(a list\)"),
        (lambda step: [[1, 2]] * 6, r"a bool or a number in \[0, 1\], got 2"),
        (lambda step: {p: [True] for p in step.prompts[1:]}, "no results for 1 of its 6 prompts"),
        (
            lambda step: {**{p: [True] for p in step.prompts}, "x": [True]},
            "results for 'x', which is not one of its prompts",
        ),
    ],
)
def test_report_refuses_results_that_do_not_match(
    sandbox: Any, plugins: Plugins, results: Any, message: str
) -> None:
    with _curriculum(sandbox, plugins) as curriculum:
        step = curriculum.next_step()
        with pytest.raises(ScalerError, match=message):
            curriculum.report(results(step))
        assert curriculum.report(_results(step)).step == 1


def test_report_takes_a_mapping_and_dropped_prompts(sandbox: Any, plugins: Plugins) -> None:
    with _curriculum(sandbox, plugins) as curriculum:
        with pytest.raises(ScalerError, match="call next_step"):
            curriculum.report([])
        step = curriculum.next_step()
        results: dict[Any, Sequence[float]] = {
            prompt: [1.0, 0.0] for prompt in reversed(step.prompts)
        }
        results[step.prompts[0]] = []
        report = curriculum.report(results)
        assert report.groups == 5 and report.informative_fraction == 1.0
        assert report.mean_accuracy == 0.5


def test_sample_makes_instances_of_the_pool(sandbox: Any, plugins: Plugins) -> None:
    with _curriculum(sandbox, plugins) as curriculum:
        instances = curriculum.sample("env-1", level=4, seed=10, n=3)
        assert [(i.env_id, i.level, i.seed) for i in instances] == [
            ("env-1", 4, s) for s in (10, 11, 12)
        ]
        assert all(curriculum.score(f"\\boxed{{{i.answer}}}", i).correct for i in instances)
        with pytest.raises(UnknownName, match="unknown environment 'nosuch'"):
            curriculum.sample("nosuch", 0)


def test_from_config_matches_the_same_arguments(
    sandbox: Any, plugins: Plugins, tmp_path: Path
) -> None:
    write_pool(ENVS, tmp_path / "pool.jsonl")
    config = RunConfig(
        seed=3,
        batch_size=6,
        pool_paths=(str(tmp_path / "pool.jsonl"),),
        pool_envs=("env-2", "env-0", "env-4", "env-5"),
        curation=Component("scaler-window", {"window": 3}),
    )
    with Curriculum.from_config(config, sandbox=sandbox, plugins=plugins) as from_config:
        expected = _drive(from_config, 3)
    with Curriculum(
        tmp_path / "pool.jsonl",
        envs=["env-2", "env-0", "env-4", "env-5"],
        sandbox=sandbox,
        plugins=plugins,
        **OPTIONS,
    ) as direct:
        assert _drive(direct, 3) == expected


def test_from_config_file_names_the_file_in_errors(
    sandbox: Any, plugins: Plugins, tmp_path: Path
) -> None:
    path = tmp_path / "run.toml"
    path.write_text('[controller]\nname = "nosuch"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        Curriculum.from_config(path, sandbox=sandbox, plugins=plugins)
    assert (error.value.path, error.value.field) == (str(path), "controller.name")
