"""The per-run benchmark measures echoing runs on both sides (no timing asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from scaler.model import Program
from scaler.perf.instances import InProcess
from scaler.perf.runs import per_run_seconds

ROOT = Path(__file__).resolve().parents[2]


def test_the_script_reports_both_languages_against_direct_runs() -> None:
    script = str(ROOT / "benchmarks" / "runs.py")
    done = subprocess.run(
        [sys.executable, script, *("--backend", "process", "-n", "12", "--batch", "5")],
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(done.stdout)
    shape = (report["backend"], report["workers"], report["runs"], report["batch"])
    assert shape == ("process", 1, 12, 5)
    for language in ("python", "cpp"):
        figures = report[language]
        assert figures["per_run_ms_p50"] > 0 and figures["direct_ms_p50"] > 0
        overhead = figures["per_run_ms_p50"] - figures["direct_ms_p50"]
        assert figures["overhead_ms_p50"] == overhead
    assert report["python"]["direct"] == "exec in this process"


def test_batches_give_one_figure_each_and_every_run_must_echo() -> None:
    with InProcess() as box:
        assert len(per_run_seconds(box, Program("python", "print(input())"), 7, 3)) == 3
        with pytest.raises(RuntimeError, match="in-process: a trivial python run ended with ok"):
            per_run_seconds(box, Program("python", "print('no')"), 2, 2)
        with pytest.raises(RuntimeError, match="ended with runtime-error"):
            per_run_seconds(box, Program("python", "raise SystemExit(2)"), 2, 2)


def test_sandbox_options_reach_the_measured_backend() -> None:
    script = str(ROOT / "benchmarks" / "runs.py")
    small = ("--backend", "process", "-n", "4", "--batch", "2")
    done = subprocess.run(
        [sys.executable, script, *small, "--sandbox-option", "pin_cpus=false"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(done.stdout)["sandbox_options"] == {"pin_cpus": False}
    refused = subprocess.run(
        [sys.executable, script, *small, "--sandbox-option", "pin_cpus=maybe"],
        capture_output=True,
        text=True,
    )
    assert refused.returncode != 0
    assert "pin_cpus" in refused.stderr and "'maybe'" in refused.stderr, refused.stderr
