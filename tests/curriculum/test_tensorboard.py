"""`scaler run` writes its curriculum figures as TensorBoard scalars, read back here with
TensorBoard's own reader, equal to the run's metrics.jsonl."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scaler.curriculum.curation import Retirement
from scaler.curriculum.metrics import scalars
from scaler.curriculum.scheduler import EnvStep, StepReport


def test_a_step_as_named_scalars() -> None:
    env = EnvStep(2.0, 3.0, 9, (3,), 0.5, 8, 2, 1)
    report = StepReport(
        4, ("a", "b"), ("b",),
        (Retirement("c", "saturated", "acc 1.0", 4), Retirement("d", "saturated", "x", 4)),
        {"a": env, "b": EnvStep(0.0, 0.0, 9, (0,), None, 0, 0, 0)}, 2, 0.5, 0.25, 0.0, 1.0,
    )  # fmt: skip
    assert scalars(report) == {
        "curriculum/active_envs": 2, "curriculum/added": 1, "curriculum/retired": 2,
        "curriculum/informative_share": 0.5, "curriculum/mean_accuracy": 0.25,
        "curriculum/instance_wait_s": 0.0, "curriculum/step_s": 1.0,
        "curriculum/difficulty/a": 3.0, "curriculum/accuracy/a": 0.5,
        "curriculum/difficulty/b": 0.0, "curriculum/retired/saturated": 2,
    }  # fmt: skip


def test_a_run_writes_its_scalars_for_tensorboard(run: Any, tmp_path: Path) -> None:
    pytest.importorskip("tensorboard", reason="tensorboard is not installed")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out = tmp_path / "run"
    code, _, err = run("simulate", "--backend", "process", "--steps", "6", "--out", str(out))
    assert code == 0, err
    (events,) = out.glob("events.out.tfevents.*")
    accumulator = EventAccumulator(str(events))
    accumulator.Reload()
    metrics = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    share = accumulator.Scalars("curriculum/informative_share")
    assert [(e.step, e.value) for e in share] == [
        (m["step"], pytest.approx(m["informative_fraction"])) for m in metrics
    ]
    env_id = sorted(metrics[-1]["envs"])[0]
    levels = accumulator.Scalars(f"curriculum/difficulty/{env_id}")
    assert levels[-1].value == pytest.approx(metrics[-1]["envs"][env_id]["difficulty"])
    assert "curriculum/active_envs" in accumulator.Tags()["scalars"]
