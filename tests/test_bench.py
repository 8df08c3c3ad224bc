"""The benchmark's report has the promised shape; its instances verify (no timing asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from scaler.bench import mixed_requests
from scaler_envs_builtin import builtin_envs

ROOT = Path(__file__).resolve().parent.parent


def test_mixed_requests_cover_envs_and_levels() -> None:
    envs = builtin_envs()
    requests = mixed_requests(envs, 3 * len(envs))
    assert {r.env.id for r in requests} == {e.id for e in envs}
    assert len({r.level for r in requests}) > 5
    assert all(0 <= r.level <= r.env.max_level for r in requests)
    assert mixed_requests(envs, 20) == mixed_requests(envs, 20)


def test_benchmark_script_prints_one_json_object() -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "instances.py"),
            "-n",
            "8",
            "--baseline-count",
            "4",
            "--workers",
            "2",
            "--backend",
            "process",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(done.stdout)
    assert report["backend"] == "process" and report["instances"] == 8
    assert report["baseline"]["name"] == "naive-subprocess"
    assert report["instances_per_s"] > 0 and report["baseline"]["instances_per_s"] > 0
    assert report["ratio"] == report["instances_per_s"] / report["baseline"]["instances_per_s"]
    assert report["p99_ms"] >= report["p50_ms"] > 0
