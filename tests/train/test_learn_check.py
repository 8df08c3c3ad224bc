"""``scripts/learn-check --tiny --device cpu``: the script end to end, as CI runs it (a check
of the script and of the loop, not of learning: the model is random)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.trl
pytest.importorskip("trl", reason="TRL is not installed (the trl tox env has it)")

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "learn-check"


def test_learn_check_tiny_prints_its_figures(tmp_path: Path) -> None:
    out = tmp_path / "learn-check.json"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--tiny", "--device", "cpu", "--steps", "3",
         "--work", str(tmp_path / "work"), "--out", str(out)],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    assert json.loads(out.read_text()) == result
    assert result["device"] == "cpu" and result["steps"] == 3
    assert [step["step"] for step in result["per_step"]] == [1, 2, 3]
    for side in ("accuracy_before", "accuracy_after"):
        cells = result[side]["per_env_level"]
        # every env at level 0, with 2 seeds each: accuracies of 0, 0.5 or 1
        assert sorted(cells) == sorted(f"{env}@0" for env in result["envs"])
        assert all(acc in (0.0, 0.5, 1.0) for acc in cells.values())
    assert result["evaluation"]["disjoint_from_training_seeds"] is True
    assert set(result["levels_reached"]) <= set(result["envs"])
    assert result["step_s"] > 0 and result["new_tokens_per_s"] > 0
    assert (tmp_path / "work" / "train" / "model" / "model.safetensors").exists()


def test_learn_check_needs_a_model_or_tiny(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT)], capture_output=True, text=True, cwd=tmp_path
    )
    assert done.returncode == 2 and "give MODEL, or --tiny" in done.stderr
