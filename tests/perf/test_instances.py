"""The benchmark's report has the promised shape; its instances verify (no timing asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from scaler.instances import InstanceFactory
from scaler.model import Limits, Program
from scaler.perf.instances import InProcess, mixed_requests
from scaler.plugins import Plugins
from scaler.sandbox.jobs import Job
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


def assert_shape(
    report: dict[str, Any], backend: str, baseline: str, count: int, rounds: int = 3
) -> None:
    """The figures agree with each other, and the top-level ones are the median round's."""
    assert (report["backend"], report["instances"]) == (backend, count)
    assert len(report["rounds"]) == rounds
    for one in report["rounds"]:
        limit = one["in_process_instances_per_s"] * report["workers"]
        assert one["share_of_in_process"] == one["instances_per_s"] / limit
    shares = sorted(one["share_of_in_process"] for one in report["rounds"])
    assert report["share_of_in_process"] == shares[(rounds - 1) // 2]
    assert {
        "instances_per_s": report["instances_per_s"],
        "in_process_instances_per_s": report["in_process"]["instances_per_s"],
        "share_of_in_process": report["share_of_in_process"],
    } in report["rounds"]
    assert report["baseline"]["name"] == baseline
    assert report["instances_per_s"] > 0 and report["baseline"]["instances_per_s"] > 0
    assert report["ratio"] == report["instances_per_s"] / report["baseline"]["instances_per_s"]
    assert report["p99_ms"] >= report["p50_ms"] > 0
    limit = report["in_process"]["instances_per_s"] * report["workers"]
    assert report["limit_instances_per_s"] == limit > 0
    assert report["share_of_in_process"] == report["instances_per_s"] / limit


def test_benchmark_script_prints_one_json_object() -> None:
    report = bench("--backend", "process", "-n", "8", "--baseline-count", "4", "--workers", "2")
    assert_shape(report, "process", "naive-subprocess", 8)


def test_the_median_of_an_even_number_of_rounds_is_the_lower_middle_one() -> None:
    report = bench("--backend", "process", "-n", "4", "--baseline-count", "2", "--rounds", "2")
    assert_shape(report, "process", "naive-subprocess", 4, rounds=2)


def test_a_baseline_can_be_measured_on_its_own() -> None:
    report = bench("--backend", "naive-subprocess", "-n", "4", "--baseline-count", "2")
    assert_shape(report, "naive-subprocess", "naive-subprocess", 4)


def test_the_in_process_limit_can_be_measured_on_its_own() -> None:
    report = bench("--backend", "in-process", "-n", "8", "--baseline-count", "2")
    assert_shape(report, "in-process", "naive-subprocess", 8)
    assert report["workers"] == 1
    assert report["in_process"]["instances_per_s"] == report["instances_per_s"]
    assert report["share_of_in_process"] == 1.0
    assert {one["share_of_in_process"] for one in report["rounds"]} == {1.0}


def test_in_process_makes_the_instances_the_process_backend_makes(
    plugins: Plugins, sandbox: Any
) -> None:
    requests = mixed_requests(builtin_envs(), 40, seed=3)
    assert len({r.env.id for r in requests}) > 20 and len({r.level for r in requests}) > 5
    with InProcess() as in_process:
        made = InstanceFactory(in_process, plugins).make(requests)
    assert made == InstanceFactory(sandbox, plugins).make(requests)


def test_in_process_runs_python_as_a_fresh_interpreter_would() -> None:
    echo = Program("python", "line = input()\nprint(line.upper())")
    leaked = Program("python", "print('line' in globals(), __name__)")
    draw = Program("python", "import random\nprint(random.random())")
    exits = Program("python", "import sys\nsys.exit(3)")
    message = Program("python", "raise SystemExit('bye')")
    raises = Program("python", "print('before')\n1 / 0")
    with InProcess() as box:
        programs = (leaked, draw, draw, exits, message, raises)
        results = box.run_batch([Job(echo, "héllo\nrest\n"), *(Job(p) for p in programs)])
    assert [r.exit_code for r in results] == [0, 0, 0, 0, 3, 1, 1]
    assert [r.status for r in results[4:]] == ["runtime-error"] * 3
    assert results[0].stdout == "HÉLLO\n"
    assert results[1].stdout == "False __main__\n"
    assert results[2].stdout != results[3].stdout
    assert results[5].stderr == "bye\n"
    assert results[6].stdout == "before\n"
    assert results[6].stderr.startswith("Traceback (most recent call last):\n")
    assert results[6].stderr.endswith("ZeroDivisionError: division by zero\n")
    assert "scaler" not in results[6].stderr  # the program's frames only


def test_in_process_spawns_a_cpp_binary_built_once(monkeypatch: pytest.MonkeyPatch) -> None:
    echo = Program(
        "cpp",
        "#include <iostream>\n#include <string>\nint main() {\n"
        "  std::string s; std::getline(std::cin, s);\n"
        '  if (s == "loop") for (volatile int i = 0;; i = i + 1) {}\n'
        '  std::cerr << "err"; std::cout << s << 7; return s == "a" ? 0 : 3;\n}\n',
    )
    with InProcess() as box:
        built: list[Program] = []
        build = box.build
        monkeypatch.setattr(box, "build", lambda program: built.append(program) or build(program))
        first, second, looping = box.run_batch(
            [Job(echo, "a\n"), Job(echo, "b\n"), Job(echo, "loop\n", Limits(wall_s=0.3))]
        )
    assert (first.status, first.stdout, first.stderr) == ("ok", "a7", "err")
    assert (second.status, second.exit_code, second.stdout) == ("runtime-error", 3, "b7")
    assert (looping.status, looping.exit_code) == ("timeout", None)
    assert 0.3 <= looping.wall_s < 5
    assert built == [echo]
    assert (first.stdout, second.stdout) == ("a7", "b7")


@pytest.mark.docker
def test_the_docker_backend_is_measured_against_naive_docker() -> None:
    report = bench("--backend", "docker", "-n", "8", "--baseline-count", "2", "--workers", "2")
    assert_shape(report, "docker", "naive-docker", 8)
    assert report["workers"] == 2
