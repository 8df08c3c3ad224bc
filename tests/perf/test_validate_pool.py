"""The pool-validation benchmark reports the command's verdicts, hashed without timings."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import attrs
import pytest

from scaler.model import ENVIRONMENTS
from scaler.perf.validate_pool import verdicts_sha256
from scaler.plugins import Plugins
from scaler.synth.checks import CheckResult
from scaler.synth.validate import EnvCard, LevelFigures
from tests.conftest import OFFICIAL_POOL, require_shared

ROOT = Path(__file__).resolve().parents[2]

#: Two official environments with few C++ solutions to build: one with three, one with one.
TINY = ("285_C. Building Permutation", "1195_B. Sport Mafia")


def test_two_backends_in_one_run_reach_the_same_verdicts(tmp_path: Path) -> None:
    official = json.loads(require_shared(OFFICIAL_POOL).read_text())
    pool = tmp_path / "tiny.json"
    pool.write_text(json.dumps({name: official[name] for name in TINY}))
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "validate_pool.py"),
            str(pool),
            *("--trials", "3", "--workers", "2", "--backend", "process"),
            *("--compare", "process"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(done.stdout)
    assert (report["envs"], report["trials"], report["workers"]) == (2, 3, 2)
    assert report["checks"] == ["breadth", "depth", "min", "determinism", "budget"]
    assert report["backend"] == report["compare"]["backend"] == "process"
    assert 0 <= report["passed"] <= 2
    for side in (report, report["compare"]):
        assert side["seconds"] > 0 and side["warmup_s"] >= 0
        assert side["seconds_per_env"] == side["seconds"] / 2
        # Two envs of 3 trials: at least a generator and a solution per trial of each.
        assert side["runs"] >= 2 * 3 * 2 and side["programs_cpu_s"] > 0
        cores = side["programs_cpu_s"] / side["floor_s_per_env"] / 2
        assert cores == pytest.approx(round(cores)) and 1 <= round(cores) <= side["sandbox_workers"]
        beyond = side["seconds"] * round(cores) - side["programs_cpu_s"]
        assert side["other_ms_per_run"] == pytest.approx(1000 * beyond / side["runs"])
        assert len(side["verdicts_sha256"]) == 64
    assert report["ratio"] == report["compare"]["seconds"] / report["seconds"]
    assert report["same_verdicts"] is True
    assert report["verdicts_sha256"] == report["compare"]["verdicts_sha256"]


def test_the_hash_ignores_timings_but_not_verdicts(plugins: Plugins) -> None:
    env = plugins.get(ENVIRONMENTS, "lis-length")
    budget = CheckResult("budget", True, details={"max_cpu_s": 0.1, "median_cpu_s": 0.05})
    card = EnvCard(env, (budget,), (LevelFigures(0, {"n": 1}, 5, 0.01),), (0, 1))
    slower = attrs.evolve(
        card,
        results=(attrs.evolve(budget, details={"max_cpu_s": 0.9, "median_cpu_s": 0.5}),),
        levels=(LevelFigures(0, {"n": 1}, 5, 0.2),),
    )
    failed = attrs.evolve(card, results=(attrs.evolve(budget, ok=False, reason="too slow"),))
    assert verdicts_sha256([card]) == verdicts_sha256([slower])
    assert verdicts_sha256([card]) != verdicts_sha256([failed])
    assert verdicts_sha256([card]) != verdicts_sha256([attrs.evolve(card, recalibrated=(0, 2))])
