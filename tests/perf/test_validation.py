"""The validation benchmark does the same work on both sides and reports it (no timing asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import attrs
import pytest

from scaler.model import Program
from scaler.perf.validation import (
    PaperSubprocess,
    benchmark_candidate,
    measure_paper,
    run_validation_benchmark,
)
from scaler.plugins import Plugins
from scaler.sandbox.jobs import Job

ROOT = Path(__file__).resolve().parents[2]


def test_both_sides_validate_with_the_same_runs(sandbox: Any, plugins: Plugins) -> None:
    report = run_validation_benchmark(plugins, sandbox, trials=5, runs=5)
    ours, paper = report["ours"], report["paper"]
    # breadth: 5 generators + 5 x 3 solutions; depth: 5 + 5; min: 3 + 3 x 3.
    assert report["runs"] == ours["runs"] == paper["runs"] == 20 + 10 + 12
    assert report["generator_calls"] == 5 + 5 + 3
    assert (report["env"], report["solutions"]) == ("lis-length", 3)
    assert [c["check"] for c in ours["checks"]] == ["breadth", "depth", "min"]
    assert all(c["ok"] for c in ours["checks"]) and all(c["ok"] for c in paper["checks"])
    assert ours["checks"][1]["details"] == paper["checks"][1]["details"]
    assert report["ours_s"] > 0 and report["paper_s"] > 0
    assert report["ratio"] == report["paper_s"] / report["ours_s"] > 0
    assert (report["backend"], report["workers"]) == ("process", 2)


def test_the_candidate_has_three_independent_solutions(plugins: Plugins) -> None:
    candidate = benchmark_candidate(plugins)
    assert [s.language for s in candidate.solutions] == ["python", "cpp", "python"]
    assert len({s.hash for s in candidate.solutions}) == 3


def test_a_disagreeing_solution_fails_the_benchmark(plugins: Plugins) -> None:
    candidate = benchmark_candidate(plugins)
    wrong = attrs.evolve(candidate, solutions=(*candidate.solutions[:2], Program("python", "0")))
    with pytest.raises(RuntimeError, match="failed validation on paper-subprocess: breadth"):
        measure_paper(wrong, plugins, trials=2, runs=2)


def test_the_paper_pattern_runs_each_job_in_a_fresh_process() -> None:
    program = Program("python", "import os, sys; print(os.getpid(), sys.stdin.read().strip())")
    failing = Program("python", "raise SystemExit(3)")
    with PaperSubprocess() as box:
        box.prepare([program, failing])
        first, second, failed = box.run_batch([Job(program, "a"), Job(program, "b"), Job(failing)])
        with pytest.raises(RuntimeError, match="not prepared"):
            box.run_batch([Job(Program("python", "pass"))])
    assert first.ok and second.ok and first.stdout.split()[1] == "a"
    assert first.stdout.split()[0] != second.stdout.split()[0]
    assert (failed.status, failed.exit_code) == ("runtime-error", 3)


def test_the_script_prints_one_json_object() -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "validation.py"),
            *("--trials", "3", "--runs", "3", "--workers", "1"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(done.stdout)
    assert (report["runs"], report["workers"], report["backend"]) == (12 + 6 + 12, 1, "process")
