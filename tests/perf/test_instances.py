"""The benchmark's report has the promised shape; its instances verify (no timing asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from scaler.perf.instances import mixed_requests
from scaler_envs_builtin import builtin_envs

ROOT = Path(__file__).resolve().parents[2]


def test_mixed_requests_cover_envs_and_levels() -> None:
    envs = builtin_envs()
    requests = mixed_requests(envs, 3 * len(envs))
    assert {r.env.id for r in requests} == {e.id for e in envs}
    assert len({r.level for r in requests}) > 5
    assert all(0 <= r.level <= r.env.max_level for r in requests)
    assert mixed_requests(envs, 20) == mixed_requests(envs, 20)
    middle = mixed_requests(envs, len(envs), levels="middle")
    assert all(r.level == r.env.max_level // 2 for r in middle)


def bench(*args: str) -> dict[str, Any]:
    """Runs the benchmark script, as the docs say, and returns the one JSON object it prints."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "instances.py"), *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def assert_shape(report: dict[str, Any], backend: str, baseline: str, count: int) -> None:
    assert (report["backend"], report["instances"]) == (backend, count)
    assert report["baseline"]["name"] == baseline
    assert report["instances_per_s"] > 0 and report["baseline"]["instances_per_s"] > 0
    assert report["ratio"] == report["instances_per_s"] / report["baseline"]["instances_per_s"]
    assert report["p99_ms"] >= report["p50_ms"] > 0


def test_benchmark_script_prints_one_json_object() -> None:
    report = bench("--backend", "process", "-n", "8", "--baseline-count", "4", "--workers", "2")
    assert_shape(report, "process", "naive-subprocess", 8)


def test_a_baseline_can_be_measured_on_its_own() -> None:
    report = bench("--backend", "naive-subprocess", "-n", "4", "--baseline-count", "2")
    assert_shape(report, "naive-subprocess", "naive-subprocess", 4)


@pytest.mark.docker
def test_the_docker_backend_is_measured_against_naive_docker() -> None:
    report = bench("--backend", "docker", "-n", "8", "--baseline-count", "2", "--workers", "2")
    assert_shape(report, "docker", "naive-docker", 8)
    assert report["workers"] == 2
