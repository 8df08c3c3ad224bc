from __future__ import annotations

from typing import Any

import pytest

from scaler.catalog import available_envs
from scaler.curriculum.curation import NO_PROGRESS, SATURATED, ZERO_ACCURACY
from scaler.instances import InstanceFactory, Request
from scaler.perf.curriculum import SequentialFactory, measure_updates, run_curriculum_benchmark
from scaler.plugins import Plugins

RULES = {ZERO_ACCURACY, SATURATED, NO_PROGRESS}


@pytest.fixture(scope="module")
def report(plugins: Plugins, sandbox: Any) -> dict[str, Any]:
    return run_curriculum_benchmark(
        plugins,
        sandbox,
        pool_size=300,
        window=16,
        update_steps=200,
        steps=5,
        hiding_steps=3,
        generation_s=0.1,
    )


def test_the_report_carries_the_figures_the_targets_name(report: dict[str, Any]) -> None:
    assert {"pool_size", "active", "ms_per_step", "steps_per_s"} <= set(report)
    assert report["pool_size"] == report["updates"]["pool_size"] == 300
    assert report["active"] == report["updates"]["active"] == 16
    assert report["ms_per_step"] == report["updates"]["ms_per_step"] > 0
    assert report["steps_per_s"] == report["steps"]["steps_per_s"] > 0


def test_updates_are_timed_over_steps_where_every_retirement_rule_fires(
    report: dict[str, Any],
) -> None:
    updates = report["updates"]
    assert updates["steps"] == 200
    assert 0 < updates["p50_ms"] <= updates["p99_ms"]
    assert set(updates["retirements"]) == RULES
    assert all(count > 0 for count in updates["retirements"].values())


def test_steps_end_in_the_same_state_however_instances_are_made(report: dict[str, Any]) -> None:
    steps = report["steps"]
    assert steps["same_state"] is True
    assert (steps["steps"], steps["batch_size"], steps["window"]) == (5, 8, 8)
    assert steps["baseline"]["name"] == "sequential-per-instance"
    assert steps["baseline"]["steps_per_s"] > 0
    assert steps["ratio"] == pytest.approx(steps["steps_per_s"] / steps["baseline"]["steps_per_s"])
    assert 0 < steps["instance_wait_share"] <= 1


def test_hiding_compares_prefetch_with_none_under_generation_time(
    report: dict[str, Any],
) -> None:
    hiding = report["hiding"]
    assert (hiding["steps"], hiding["generation_s"]) == (3, 0.1)
    assert 0 <= hiding["wait_share_prefetch"] <= 1
    assert 0 < hiding["wait_share_no_prefetch"] <= 1


def test_the_state_save_cost_is_measured(report: dict[str, Any]) -> None:
    assert report["updates"]["state_save_ms"] > 0


@pytest.mark.parametrize(
    ("controller", "curation"), [("elo", "progress-window"), ("ratchet", "scaler-window")]
)
def test_updates_run_any_registered_controller_and_curation(
    plugins: Plugins, controller: str, curation: str
) -> None:
    updates = measure_updates(
        plugins, pool_size=100, window=8, steps=50, controller=controller, curation=curation
    )
    assert (updates["controller"], updates["curation"], updates["active"]) == (
        controller,
        curation,
        8,
    )
    assert updates["ms_per_step"] > 0
    assert set(updates["retirements"]) <= RULES


def test_the_sequential_factory_makes_what_the_batched_one_makes(
    plugins: Plugins, sandbox: Any
) -> None:
    envs = sorted(available_envs(plugins), key=lambda env: env.id)[:3]
    requests = [Request(env, 1, seed) for seed, env in enumerate(envs)]
    sequential = SequentialFactory(sandbox, plugins).make_each(requests)
    assert sequential == InstanceFactory(sandbox, plugins).make_each(requests)
